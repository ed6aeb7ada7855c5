"""Code piano roll: one row per codebook, token ids against time, silence hidden."""

import pytest
import torch

from musicinterp.views.codes import codes_figure

CODES = torch.tensor([[5, 0, 7, 7],
                      [0, 0, 3, 1]])  # (K=2, T=4)


def test_one_trace_per_codebook_with_time_and_token_ids():
    fig = codes_figure(CODES, frame_rate=2, roles=["drums", "bass"], title="clip")
    assert len(fig.data) == 2
    top, bottom = fig.data
    assert list(top.x) == pytest.approx([0.0, 1.0, 1.5]) and list(top.y) == [5, 7, 7]  # frame 1 is silence (0)
    assert list(bottom.x) == pytest.approx([1.0, 1.5]) and list(bottom.y) == [3, 1]
    assert (top.xaxis, top.yaxis, bottom.xaxis, bottom.yaxis) == ("x", "y", "x2", "y2")
    assert [a.text for a in fig.layout.annotations] == ["drums", "bass"]
    assert fig.layout.title.text == "clip"
    assert fig.layout.xaxis2.title.text == "time (s)" and fig.layout.yaxis.title.text == "token"
    assert fig.layout.height == 140 * 2 + 80


def test_a_batch_shows_its_first_clip_and_silence_can_be_kept():
    batch = torch.stack([CODES, CODES + 100])
    fig = codes_figure(batch, frame_rate=4, silence=None)
    assert list(fig.data[0].y) == [5, 0, 7, 7] and list(fig.data[1].y) == [0, 0, 3, 1]
    assert list(fig.data[1].x) == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert [a.text for a in fig.layout.annotations] == ["codebook 0", "codebook 1"]


def test_another_silence_token():
    fig = codes_figure(CODES, frame_rate=1, silence=7)
    assert list(fig.data[0].y) == [5, 0] and list(fig.data[0].x) == [0.0, 1.0]
