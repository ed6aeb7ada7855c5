"""Generation skips MusicGen's built-in audio decode (the codes are recorded) and leaves the codec intact."""

import numpy as np
import torch

from musicinterp import generate, load_model
from musicinterp.models.codec import codec_decode_skipped


def test_the_codec_is_stubbed_only_inside_the_block_and_restored_after_an_error():
    model = load_model("tiny")
    encoder = model.hf.audio_encoder
    real = encoder.decode
    codes = torch.randint(0, 2048, (1, 2, 4, 3))
    try:
        with codec_decode_skipped(model.hf):
            assert encoder.decode(codes, audio_scales=[None, None]).audio_values.shape == (2, 1, 0)
            with codec_decode_skipped(model.hf):  # nested: still skipped, restored once
                pass
            assert "decode" in vars(encoder)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "decode" not in vars(encoder) and encoder.decode == real


def test_generation_never_runs_the_codec_unless_audio_is_asked_for(monkeypatch):
    model = load_model("tiny")
    calls = []
    real = type(model.hf.audio_encoder).decode

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(model.hf.audio_encoder), "decode", counting)
    res = generate(model, batch=2, n_frames=4, seed=0, decode_audio=False)
    assert calls == [] and res.codes.shape == (2, 4, 4)
    res = generate(model, batch=2, n_frames=4, seed=0, decode_audio=True)
    assert len(calls) == 1  # once, by musicinterp; MusicGen's own decode was skipped
    np.testing.assert_allclose(res.audio, model.codes_to_audio(res.codes), atol=1e-6)
