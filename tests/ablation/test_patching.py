"""Patching: the last layer's full residual restores the clean run exactly; pairs line up or are refused."""

import pytest
import torch

from musicinterp.ablation.inputs import AblationInputError, teacher_forced
from musicinterp.ablation.patching import patch, patch_sets


@pytest.fixture
def pair(tiny, tiny_ids):
    g = torch.Generator().manual_seed(7)
    clean = teacher_forced(tiny, torch.randint(0, 2048, (2, 4, 9), generator=g), input_ids=tiny_ids)
    corrupt = teacher_forced(tiny, torch.randint(0, 2048, (2, 4, 9), generator=g), input_ids=tiny_ids)
    return clean, corrupt


def test_last_layer_residual_restores_clean(tiny, pair):
    clean, corrupt = pair
    den = patch(tiny, clean, corrupt, site="resid", over=("layer",), metric="kl", progress=False)
    assert den.clean == pytest.approx(0.0, abs=1e-9) and den.corrupt > 1e-6
    # every position of a layer's output carries all the model knows: any layer restores the clean run
    torch.testing.assert_close(den.normalized, torch.ones(2), atol=1e-3, rtol=0)
    assert den.baseline == den.corrupt
    noise = patch(tiny, clean, corrupt, site="resid", over=("layer",), metric="kl", direction="noise",
                  progress=False)
    torch.testing.assert_close(noise.normalized, torch.zeros(2), atol=1e-3, rtol=0)
    assert noise.baseline == noise.clean


def test_windows_and_frames(tiny, pair):
    clean, corrupt = pair
    win = patch(tiny, clean, corrupt, site="resid", window=2, metric="ce", progress=False)
    assert win.axes == ("window",) and win.labels["window"] == ["0-1"]
    frames = patch(tiny, clean, corrupt, site="resid", over=("layer", "frame"), frame_bin=4, metric="ce",
                   progress=False)
    assert frames.shape == (2, 4)  # 13 positions in bins of 4
    df = frames.to_pandas()
    assert len(df) == 8 and {"layer", "frame", "value", "normalized", "value_cb0"} <= set(df.columns)


def test_sets_equal_single_cells(tiny, pair):
    clean, corrupt = pair
    grid = patch(tiny, clean, corrupt, site="attn_z", over=("layer", "head"), metric="kl", progress=False)
    sets = patch_sets(tiny, clean, corrupt, [[(1, 2)], [(0, 3)]], site="attn_z", metric="kl")
    torch.testing.assert_close(sets.tensor, torch.stack([grid.tensor[1, 2], grid.tensor[0, 3]]), atol=1e-6, rtol=0)


def test_mismatched_pairs_are_refused(tiny, pair, tiny_ids):
    clean, _ = pair
    shorter = teacher_forced(tiny, clean.codes[..., :7], input_ids=tiny_ids)
    with pytest.raises(AblationInputError, match=r"corrupt: .*lengths differ"):
        patch(tiny, clean, shorter, progress=False)
    fewer = teacher_forced(tiny, clean.codes[:1], input_ids=tiny_ids[:1])
    with pytest.raises(AblationInputError, match=r"corrupt: .*shapes differ"):
        patch(tiny, clean, fewer, progress=False)
    with pytest.raises(AblationInputError, match="direction must be"):
        patch(tiny, clean, clean, direction="both", progress=False)
    with pytest.raises(AblationInputError, match="sets: head index 4 out of range"):
        patch_sets(tiny, clean, clean, [[(0, 4)]])
