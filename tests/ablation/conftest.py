import pytest
import torch

from musicinterp.ablation.inputs import teacher_forced


@pytest.fixture(scope="session")
def tiny_store(tiny, tmp_path_factory):
    """A store with statistics for every site of the tiny model."""
    from musicinterp.collect import collect
    from musicinterp.data.concept_set import ConceptSet

    n = 8
    codes = torch.randint(0, 2048, (n, 4, 12), generator=torch.Generator().manual_seed(5))
    labels = torch.tensor([i % 2 for i in range(n)])
    ids = [f"c{i}" for i in range(n)]
    cs = ConceptSet("tiny", {"x": labels}, ids, ids, codes=codes)
    return collect(tiny, cs, ["attn_z", "cross_z", "mlp_out", "resid"], out=tmp_path_factory.mktemp("abl") / "s",
                   progress=False)


@pytest.fixture
def tiny_inputs(tiny, tiny_ids):
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(3))
    return teacher_forced(tiny, codes, input_ids=tiny_ids)


@pytest.fixture
def tiny_guided(tiny, tiny_ids):
    codes = torch.randint(0, 2048, (2, 4, 10), generator=torch.Generator().manual_seed(4))
    return teacher_forced(tiny, codes, input_ids=tiny_ids, branch="guided", guidance_scale=3.0)
