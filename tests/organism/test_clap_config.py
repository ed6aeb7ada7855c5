"""The organism CLAP's shape: transformers' own classes, a tokenizer of the organism's words."""

from transformers import ClapModel

from musicinterp.organism.clap_config import (
    ATTRIBUTE_WORDS,
    OrganismClapConfig,
    build_clap_tokenizer,
    clap_feature_extractor,
    clap_model_config,
)
from musicinterp.organism.clap_data import window_frames


def test_tokenizer_wraps_words_and_joins_negations():
    tok = build_clap_tokenizer()
    ids = tok(["music with no drums", "a dog barking"], padding=True)["input_ids"]
    vocab = tok.get_vocab()
    assert ids[0] == [0, vocab["music"], vocab["with"], vocab["no_drums"], 2]
    assert ids[1] == [0, vocab["a"], vocab["<unk>"], vocab["<unk>"], 2]
    assert all(w in vocab for w in ATTRIBUTE_WORDS) and tok.pad_token_id == 1


def test_config_builds_a_small_clap_at_the_declared_rate():
    cfg = OrganismClapConfig()
    model = ClapModel(clap_model_config(cfg, len(build_clap_tokenizer())))
    assert sum(p.numel() for p in model.parameters()) < 2_500_000  # well under 10 MB of float32
    fe = clap_feature_extractor(cfg)
    assert fe.sampling_rate == 16000 != 32000 and fe.nb_max_samples == cfg.window_samples == 64000
    assert model.config.audio_config.num_mel_bins == fe.feature_size == 16
    # the window's 16 ms frames fill HTSAT's folded image without overflowing it (the model would refuse)
    audio = model.config.audio_config
    assert 0.9 * audio.spec_size * (audio.spec_size // audio.num_mel_bins) <= window_frames(fe) \
        <= audio.spec_size * (audio.spec_size // audio.num_mel_bins)
    assert OrganismClapConfig.from_dict(cfg.to_dict()) == cfg


def test_a_saved_config_without_p_perturb_was_trained_on_world_clips_only():
    assert OrganismClapConfig.from_dict({"steps": 3}).p_perturb == 0.0
    assert OrganismClapConfig().p_perturb == 0.5  # the shipped recipe
    assert OrganismClapConfig.from_dict(OrganismClapConfig(p_perturb=0.25).to_dict()).p_perturb == 0.25
