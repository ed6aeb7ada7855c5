import numpy as np
import pytest
import torch


def test_logits_to_frames_undoes_the_delay_shift(tiny):
    k, t, v = tiny.n_codebooks, 6, 3
    # position p of codebook k predicts frame p - k: fill each position with that frame number
    pos = torch.arange(t + k)[None, None, :, None] - torch.arange(k)[None, :, None, None]
    logits = pos.expand(2, k, t + k, v).float()
    frames = tiny.logits_to_frames(logits, t)
    assert frames.shape == (2, k, t, v)
    assert torch.equal(frames, torch.arange(t).float()[None, None, :, None].expand(2, k, t, v))
    assert tiny.sequence_length(t) == t + k and list(tiny.valid_positions(t)) == list(range(k, t + 1))


def test_teacher_forcing_inputs_follow_the_delay_pattern(tiny, codes):
    dec = tiny.decoder_inputs(codes).reshape(2, 4, -1)
    pad = tiny.pad_id
    for k in range(4):  # codebook k: BOS and k pads, the codes, then pads to the end
        assert dec[:, k, : k + 1].eq(pad).all() and dec[:, k, k + 13 :].eq(pad).all()
        assert torch.equal(dec[:, k, k + 1 : k + 13], codes[:, k])
    kw = tiny.forward_inputs(codes, cfg_rows=True)
    assert kw["decoder_input_ids"].shape == (2 * 2 * 4, 16) and kw["use_cache"] is False


def test_generation_start_is_bos_then_the_prompt(tiny, codes):
    start = tiny.generation_start(2, codes[..., :3])
    assert start.shape == (8, 4) and start[:, 0].eq(tiny.pad_id).all()
    assert torch.equal(start[:, 1:].reshape(2, 4, 3), codes[..., :3])


def test_bad_codes_rows_and_audio_are_named(tiny, codes, organism):
    with pytest.raises(ValueError, match=r"codes must be \(B, 4, T\)"):
        tiny.check_codes(codes[:, :3])
    with pytest.raises(ValueError, match=r"ids outside \[0, 2048\)"):
        tiny.check_codes(codes + 2048)
    with pytest.raises(ValueError, match="a guided decoder batch for 2 prompts has 4 rows, got 3"):
        tiny.cfg_rows(torch.zeros(3, 5), 2, "cond")
    assert tiny.cfg_rows(torch.arange(4), 2, "uncond").tolist() == [2, 3]
    with pytest.raises(ValueError, match="works on native codes"):
        organism.audio_to_codes(np.zeros(640, np.float32))
