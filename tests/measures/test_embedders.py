import numpy as np
import pytest
import torch

from musicinterp.measures import (
    AudioDistances,
    ClapEmbedder,
    Embedder,
    EncodecEmbedder,
    MeasureError,
    MelEmbedder,
    TokenEmbedder,
    audio_distances,
    model_embedder,
)


def _tiny_clap(fusion: bool = False):
    from transformers import ClapAudioConfig, ClapConfig, ClapModel, ClapTextConfig

    audio = ClapAudioConfig(patch_embeds_hidden_size=16, hidden_size=32, depths=[1, 1], num_attention_heads=[1, 2],
                            projection_dim=16, window_size=8, enable_fusion=fusion)
    text = ClapTextConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                          intermediate_size=32, projection_dim=16, max_position_embeddings=40)
    torch.manual_seed(0)
    return ClapModel(ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=16)).eval()


@pytest.fixture(scope="module")
def clap():
    from transformers import ClapFeatureExtractor

    return _tiny_clap(), ClapFeatureExtractor()


class _Spy:
    """Stands in for the feature extractor and records what it is handed."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []
        self.sampling_rate, self.nb_max_samples = inner.sampling_rate, inner.nb_max_samples

    def __call__(self, wins, **kwargs):
        self.calls.append(([len(w) for w in wins], kwargs))
        return self.inner(wins, **kwargs)


def test_clap_windows_a_25_s_clip_into_three_and_is_deterministic(clap):
    model, extractor = clap
    spy = _Spy(extractor)
    emb = ClapEmbedder(model, spy, sample_rate=48_000)
    audio = np.random.default_rng(0).normal(scale=0.1, size=(1, 25 * 48_000)).astype(np.float32)
    assert [len(w) for w in emb.windows(audio)[0]] == [480_000, 480_000, 240_000]
    first, second = emb(audio), emb(audio)
    assert first.shape == (1, 16) and first.dtype == np.float64
    np.testing.assert_array_equal(first, second)
    assert abs(np.linalg.norm(first) - 1) < 1e-9
    lengths, kwargs = spy.calls[0]
    assert lengths == [480_000, 480_000, 240_000]
    assert kwargs["padding"] == "repeatpad" and kwargs["sampling_rate"] == 48_000
    assert isinstance(emb, Embedder) and emb.name == "clap"


def test_clap_resamples_32k_audio_to_48k_before_the_extractor(clap):
    model, extractor = clap
    spy = _Spy(extractor)
    emb = ClapEmbedder(model, spy)  # MusicGen's rate by default
    t = np.arange(2 * 32_000) / 32_000
    tone = np.sin(2 * np.pi * 1000 * t)[None]
    (win,) = emb.windows(tone)[0]
    assert len(win) == 2 * 48_000
    peak_hz = np.argmax(np.abs(np.fft.rfft(win))) * 48_000 / len(win)
    assert abs(peak_hz - 1000) < 1
    out = emb(np.concatenate([tone, 0.5 * tone]))
    assert out.shape == (2, 16) and np.isfinite(out).all()
    assert spy.calls[0][0] == [96_000, 96_000] and spy.calls[0][1]["sampling_rate"] == 48_000


def test_clap_fused_model_is_deterministic():
    from transformers import ClapFeatureExtractor

    emb = ClapEmbedder(_tiny_clap(fusion=True), ClapFeatureExtractor(), sample_rate=48_000)
    audio = np.random.default_rng(1).normal(scale=0.1, size=(3, 48_000)).astype(np.float32)
    np.testing.assert_array_equal(emb(audio), emb(audio))


def test_encodec_embedder_on_tiny_codes(tiny, codes):
    emb = EncodecEmbedder(tiny)
    out = emb(codes)
    width = 2 * tiny.hf.config.audio_encoder.codebook_dim
    assert out.shape == (2, width) and out.dtype == np.float64 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, emb(codes))
    assert model_embedder(tiny).name == "encodec"


def test_token_embedder_on_tiny_codes(tiny, codes):
    out = TokenEmbedder(tiny)(codes)
    assert out.shape == (2, 2 * tiny.d_model) and np.isfinite(out).all()
    assert not np.allclose(out[0], out[1])


def test_mel_embedder_on_audio_and_on_rendered_codes():
    from musicinterp.organism import OrganismWorld
    from musicinterp.organism.renderer import render

    class Rendered:  # a model whose codec is the organism's renderer
        name, sample_rate, renderer = "organism-like", 32_000, staticmethod(render)

        def codes_to_audio(self, c):
            return render(c)

    codes, _ = OrganismWorld().batch(range(4), n_frames=50)
    model = Rendered()
    emb = model_embedder(model)
    assert isinstance(emb, MelEmbedder)
    from_codes = emb(codes)
    assert from_codes.shape == (4, 64) and np.isfinite(from_codes).all()
    np.testing.assert_allclose(from_codes, MelEmbedder(sample_rate=32_000)(render(codes)))
    with pytest.raises(MeasureError, match="synthesizer"):
        EncodecEmbedder(model)
    with pytest.raises(MeasureError, match="codes"):
        MelEmbedder(sample_rate=32_000)(codes)



def test_mel_embedder_in_batches_equals_one_clip_at_a_time():
    from musicinterp.organism import OrganismWorld
    from musicinterp.organism.renderer import render

    audio = render(OrganismWorld().batch(range(7), n_frames=50)[0])
    alone = np.concatenate([MelEmbedder(sample_rate=32_000)(audio[i:i + 1]) for i in range(7)])
    np.testing.assert_allclose(MelEmbedder(sample_rate=32_000, batch_size=3)(audio), alone, rtol=1e-10)
    np.testing.assert_allclose(MelEmbedder(sample_rate=32_000)(audio), alone, rtol=1e-10)
    with pytest.raises(MeasureError, match="batch_size must be at least 1, got 0"):
        MelEmbedder(sample_rate=32_000, batch_size=0)


def test_audio_distances_result():
    emb = MelEmbedder(sample_rate=8_000, n_mels=4, n_fft=256, hop_length=128)
    rng = np.random.default_rng(0)
    quiet, loud = rng.normal(scale=0.01, size=(8, 4_000)), rng.normal(scale=1.0, size=(8, 4_000))
    res = audio_distances(quiet, loud, emb, n_boot=20)
    assert isinstance(res, AudioDistances) and res.n_a == 8 and res.dim == 8
    assert res.fad > 0 and res.kad.value > 0
    assert set(res.to_dict()) == {"embedder", "n_a", "n_b", "dim", "fad", "fad_ci", "fad_inf", "kad"}
    assert repr(res).startswith("AudioDistances(mel, n=8/8")
    with pytest.raises(MeasureError, match="embedder"):
        audio_distances(quiet, loud, object())
