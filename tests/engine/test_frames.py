"""Frame policies: the positions each spec selects, against the delay pattern laid out by hand."""

import pytest
import torch

from musicinterp.engine import trace_codes
from musicinterp.engine.frames import select_positions
from musicinterp.errors import InputError
from musicinterp.models.delay import apply_delay

PAD = 2048


def _pad_free_positions(n_frames: int, n_codebooks: int) -> list[int]:
    """Oracle: the decoder positions where no codebook of the delayed sequence holds the pad."""
    codes = torch.zeros(1, n_codebooks, n_frames, dtype=torch.long)
    delayed = apply_delay(codes, PAD)[0]  # (K, T + K)
    return [p for p in range(delayed.shape[1]) if (delayed[:, p] != PAD).all()]


def test_valid_positions_for_four_codebooks_and_ten_frames():
    # codebook k holds frame p - k - 1 at position p: every codebook holds a real frame for 4 <= p <= 10
    assert select_positions("valid", 10, 4).tolist() == [4, 5, 6, 7, 8, 9, 10]
    assert select_positions("all", 10, 4).tolist() == list(range(14))
    assert select_positions("last", 10, 4).tolist() == [10]
    assert select_positions((0, 3), 10, 4).tolist() == [4, 5, 6]
    assert select_positions((2, 5), 10, 4).tolist() == [6, 7, 8]
    assert select_positions([0, 7], 10, 4).tolist() == [4, 5, 6, 7, 8, 9, 10]


@pytest.mark.parametrize("n_frames,n_codebooks", [(10, 4), (4, 4), (7, 2), (5, 1), (9, 8)])
def test_valid_positions_are_the_pad_free_ones(n_frames, n_codebooks):
    valid = select_positions("valid", n_frames, n_codebooks).tolist()
    assert valid == _pad_free_positions(n_frames, n_codebooks)
    assert select_positions("last", n_frames, n_codebooks).tolist() == valid[-1:]


def test_bad_specs_and_short_clips_are_refused():
    with pytest.raises(InputError, match="a clip of 3 frames has no valid positions with 4 codebooks"):
        select_positions("valid", 3, 4)
    assert select_positions("all", 3, 4).tolist() == list(range(7))  # every position is still there
    with pytest.raises(InputError, match=r"frame window \(0, 8\) outside the 7 valid positions"):
        select_positions((0, 8), 10, 4)
    for window in [(3, 3), (-1, 2)]:
        with pytest.raises(InputError, match="frame window"):
            select_positions(window, 10, 4)
    with pytest.raises(InputError, match="unknown frame spec 'first'"):
        select_positions("first", 10, 4)
    with pytest.raises(InputError, match="unknown frame spec"):
        select_positions((1, 2, 3), 10, 4)


def test_a_reversed_window_is_refused_by_name():
    with pytest.raises(InputError, match=r"frame window \(5, 2\)"):
        select_positions((5, 2), 10, 4)


def test_frames_select_positions(tiny, codes):
    full = trace_codes(tiny, codes, read={"resid": [1]}, frames="all", logits=False).activations["resid"]
    last = trace_codes(tiny, codes, read={"resid": [1]}, frames="last", logits=False).activations["resid"]
    valid = trace_codes(tiny, codes, read={"resid": [1]}, frames="valid", logits=False).activations["resid"]
    win = trace_codes(tiny, codes, read={"resid": [1]}, frames=(2, 5), logits=False).activations["resid"]
    assert torch.equal(last[:, :, 0], full[:, :, 12])  # last valid position is T
    assert torch.equal(valid, full[:, :, 4:13])
    assert torch.equal(win, full[:, :, 6:9])
