"""Captions, labels and features of the organism CLAP's training pairs."""

import numpy as np
import torch

from musicinterp.organism import DynamicsJudge, ModeJudge, organism_judges
from musicinterp.organism.clap_config import OrganismClapConfig, clap_feature_extractor
from musicinterp.organism.clap_data import (
    ATTRIBUTES,
    UNKNOWN,
    caption,
    clap_examples,
    clip_labels,
    compatibility,
    crop_windows,
    log_mel,
    render_at,
    window_frames,
    world_clips,
)


def test_labels_are_what_the_exact_judges_read():
    clips = world_clips(range(40), 200)
    codes = torch.stack([c.codes for c in clips])
    labels = np.stack([clip_labels(c) for c in clips])
    for i, judge in enumerate(organism_judges()):
        assert (judge.decide(judge.score_codes(codes)) == labels[:, i]).all()
    # loud = the world's top dynamics level; the judge reads the drawn velocities, which stray on a few clips
    assert (DynamicsJudge().decide(DynamicsJudge().score_codes(codes)) == labels[:, 4]).mean() >= 0.9
    mode = ModeJudge().score_codes(codes)
    assert np.isnan(mode[labels[:, 5] == UNKNOWN]).all()  # without bass the mode cannot be heard
    both = (labels[:, 5] != UNKNOWN) & ~np.isnan(mode)
    assert ((mode[both] > 0) == labels[both, 5]).mean() >= 0.9


def test_captions_vary_and_name_known_attributes_only():
    labels = np.array([1, 0, 1, 0, 1, UNKNOWN], dtype=np.int8)
    rng = np.random.default_rng(0)
    texts = set()
    for _ in range(200):
        text, mask = caption(labels, rng)
        texts.add(text)
        assert mask.any() and not mask[5] and "major" not in text and "minor" not in text
        assert ("no bass" in text) == mask[3] and ("slow" in text) == mask[1]
    assert len(texts) > 50


def test_compatibility_counts_only_named_attributes():
    labels = torch.tensor([[1, 0, 1, 0, 0, -1], [1, 1, 1, 0, 0, -1], [0, 0, 1, 0, 0, -1]])
    masks = torch.zeros(3, len(ATTRIBUTES), dtype=torch.bool)
    masks[0, 0] = masks[1, 1] = masks[2, 2] = True  # "drums", "fast", "bright"
    assert compatibility(labels, masks).tolist() == [[1, 1, 0], [0, 1, 0], [1, 1, 1]]


def test_training_features_are_the_feature_extractors():
    fe = clap_feature_extractor(OrganismClapConfig())
    audio = render_at(world_clips(range(3), 200), fe.sampling_rate)
    assert audio.shape == (3, fe.nb_max_samples)
    ref = fe(list(audio), sampling_rate=fe.sampling_rate, return_tensors="pt")["input_features"]
    assert torch.allclose(log_mel(audio, fe), ref, atol=1e-3)
    feats, labels = clap_examples(range(2), fe, 200)
    assert feats.shape == (2, 1, 251, 16) and labels.shape == (2, 6)  # 4 s of 16 ms frames, 16 mel bins


def test_time_shift_crops_are_full_windows_of_the_longer_render_at_seeded_offsets():
    fe = clap_feature_extractor(OrganismClapConfig())
    frames = window_frames(fe)
    assert frames == fe(list(render_at(world_clips(range(1), 200), fe.sampling_rate)), sampling_rate=fe.sampling_rate,
                        return_tensors="pt")["input_features"].shape[2]
    n = frames + 64  # a longer render: 64 frames to spare
    long = torch.arange(4 * n * 2, dtype=torch.float32).reshape(4, 1, n, 2)
    a = crop_windows(long, frames, np.random.default_rng(3))
    b = crop_windows(long, frames, np.random.default_rng(3))
    assert a.shape == (4, 1, frames, 2) and torch.equal(a, b)
    starts = [int(w[0, 0, 0].item()) // 2 - i * n for i, w in enumerate(a)]
    assert all(0 <= s <= n - frames for s in starts) and len(set(starts)) > 1
    for i, (w, s) in enumerate(zip(a, starts, strict=True)):
        assert torch.equal(w, long[i, :, s:s + frames])
    short = long[:, :, :frames]
    assert crop_windows(short, frames, np.random.default_rng(0)) is short
