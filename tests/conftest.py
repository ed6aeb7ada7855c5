import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Under pytest-xdist (`make test` runs 2 workers on 2 cores) each worker, and each notebook kernel or
# subprocess it starts, takes one thread: more threads than cores only spin and wait (GNU OpenMP's
# waiting threads busy-loop, which made notebooks 10-20x slower). The workers inherit the controller's
# environment, so they assign the variables rather than keep what the controller set.
_THREADS = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    if _THREADS == 1:
        os.environ[_var] = "1"
    else:
        os.environ.setdefault(_var, str(_THREADS))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(_THREADS)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set in this process
    pass


@pytest.fixture(scope="session")
def tiny():
    from musicinterp import load_model

    return load_model("tiny")


@pytest.fixture(scope="session")
def tiny_ids():
    return torch.randint(1, 64, (2, 5), generator=torch.Generator().manual_seed(1))


@pytest.fixture
def codes(tiny):
    return torch.randint(0, tiny.codebook_size, (2, tiny.n_codebooks, 12), generator=torch.Generator().manual_seed(2))


@pytest.fixture(scope="module")
def tiny_store_for_compare(tmp_path_factory):
    """The tiny random model, judged in the organism's world (its exact detectors read any 4-codebook codes), and
    a store with a planted binary concept named "drums"."""
    import torch

    from musicinterp import load_model
    from musicinterp.collect import collect
    from musicinterp.data.concept_set import ConceptSet
    from musicinterp.organism import OrganismWorld

    model = load_model("tiny")
    model.world = OrganismWorld()
    n = 40
    codes = torch.randint(0, 2048, (n, 4, 16), generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([i % 2 for i in range(n)])
    codes[labels == 1, 1, :] = 7
    others = {c: torch.tensor([(i // 2) % 2 for i in range(n)]) for c in ("tempo", "timbre", "bass")}
    cs = ConceptSet("planted", {"drums": labels, **others}, [f"c{i}" for i in range(n)],
                    [f"c{i}" for i in range(n)], codes=codes)
    return model, collect(model, cs, ["attn_z", "resid"], out=tmp_path_factory.mktemp("cmp") / "s", progress=False)


@pytest.fixture(scope="session")
def organism():
    """The shipped organism: exact world judges, a word tokenizer, a renderer instead of EnCodec."""
    from musicinterp import load_model

    return load_model("organism")
