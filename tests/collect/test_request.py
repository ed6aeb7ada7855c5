import pytest
import torch

from musicinterp.collect.request import ALLOCATOR_SLACK, chunk_seed, concept_set_digest, plan_clips
from musicinterp.data.concept_set import ConceptSet
from tests.store.conftest import random_set


def test_digest_follows_content_ids_labels_and_splits():
    base = concept_set_digest(random_set())
    assert base == concept_set_digest(random_set())
    changed = random_set()
    changed.codes[3, 0, 0] += 1
    assert concept_set_digest(changed) != base
    relabelled = random_set()
    relabelled.labels["tempo"] = relabelled.labels["tempo"].flip(0)
    assert concept_set_digest(relabelled) != base
    split = random_set()
    split.splits = ["train"] * 12
    assert concept_set_digest(split) != base
    assert concept_set_digest(random_set(name="other")) == base  # the name is a label, not content


def test_chunk_seed_depends_on_ids_only():
    assert chunk_seed(["a", "b"], 0) == chunk_seed(["a", "b"], 0)
    assert chunk_seed(["a", "b"], 0) != chunk_seed(["a", "c"], 0) != chunk_seed(["a", "b"], 1)


def test_plan_keeps_two_chunks_within_the_budget(tiny):
    cs = ConceptSet("long", {"x": torch.tensor([0, 1] * 50)}, [f"c{i}" for i in range(100)],
                    [f"c{i}" for i in range(100)], codes=torch.zeros(100, 4, 500, dtype=torch.long))
    wide = plan_clips(tiny, cs, ["attn_z", "resid"], "valid", torch.float32, 64, 2048, 1)
    assert (wide.clips_per_chunk, wide.in_flight, wide.n_chunks) == (64, 2, 2)  # 2 GB / 1.6 holds the batch
    tight = plan_clips(tiny, cs, ["attn_z", "resid"], "valid", torch.float32, 64, 100, 1)
    per_clip = 497 * 2 * 128 * 4  # valid positions x layers x width x bytes, held while written
    # the forward's transients: widths of d_model and attention scores (the trace stops before the logits)
    forward = 504 * (12 * 64 + 4 * 504) * 4
    assert tight.in_flight == 2 and 1 < tight.clips_per_chunk < 64
    planned = tight.clips_per_chunk * (2 * per_clip + forward)
    assert planned * ALLOCATOR_SLACK <= 100 * 2**20 < (tight.clips_per_chunk + 1) * planned / tight.clips_per_chunk \
        * ALLOCATOR_SLACK  # the largest chunk whose live tensors, with the allocator's slack, fit
    # freed pages are kept only in what the plan leaves of the budget beside its live tensors and their slack
    assert tight.trim_allowance == pytest.approx(100 * 2**20 - planned * ALLOCATOR_SLACK, rel=0.01)  # + pooled views
    assert 0 <= tight.trim_allowance < planned / tight.clips_per_chunk * ALLOCATOR_SLACK  # less than one more clip
    assert wide.trim_allowance > 1024 * 2**20  # a small collection under a large budget keeps its pages
    assert plan_clips(tiny, cs, ["resid"], "valid", torch.float32, 64, 2048, 3).clips_per_chunk == 34
    with pytest.warns(UserWarning, match="more than the memory budget"):
        one = plan_clips(tiny, cs, ["resid"], "valid", torch.float32, 8, 0.01, 1)
    assert (one.clips_per_chunk, one.in_flight) == (1, 1)
