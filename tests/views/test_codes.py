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


def test_pair_figure_puts_prompt_unsteered_and_steered_on_one_time_axis():
    import numpy as np

    from musicinterp.views.codes import codes_pair_figure, spectrogram_figure

    base = torch.tensor([[5, 6, 0, 7], [0, 3, 0, 0]])  # (K=2, T=4), prompt = first 2 frames
    steered = {"smitin": torch.tensor([[5, 6, 9, 9], [0, 3, 4, 4]]), "iti": torch.tensor([[5, 6, 8, 0], [0, 3, 0, 1]])}
    fig = codes_pair_figure(base, steered, 2, frame_rate=2, roles=["lead", "drums"], title="c0")
    assert len(fig.data) == 2 * 4  # per codebook: prompt, unsteered, one per steered version
    prompt, unsteered, smitin, iti = fig.data[:4]
    assert list(prompt.x) == [0.0, 0.5] and list(prompt.y) == [5, 6]
    assert list(unsteered.x) == [1.5] and list(unsteered.y) == [7]  # frame 2 of the continuation is silence
    assert list(smitin.x) == [1.0, 1.5] and smitin.visible and iti.visible is False
    assert list(fig.data[6].y) == [4, 4] and fig.layout.yaxis.title.text == "lead"
    assert {s.x0 for s in fig.layout.shapes} == {0, 1.0}  # prompt shaded, boundary marked
    (menu,) = fig.layout.updatemenus
    assert [b.label for b in menu.buttons] == ["smitin", "iti"]
    assert list(menu.buttons[1].args[0]["visible"]) == [True, True, False, True] * 2
    single = codes_pair_figure(base, {"smitin": steered["smitin"]}, 2)
    assert not single.layout.updatemenus and len(single.data) == 6
    sr = 8000
    tone = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32)
    spec = spectrogram_figure({"unsteered": tone, "steered": tone * 0.5}, sr, prompt_seconds=0.5)
    z = np.asarray(spec.data[0].z)
    assert len(spec.data) == 2 and abs(spec.data[0].y[int(z.mean(1).argmax())] - 1000) < 40
