"""Training pairs for the organism CLAP: rendered clips at the model's rate, their labels, and captions.

A clip's *labels* are what a listener can hear: the four planted concepts
(drums, tempo, timbre, bass) and two nuisances (dynamics: loud = the world's top
level, as :class:`~musicinterp.organism.judges.DynamicsJudge` reads it; mode:
minor or major, audible only against a bass line, so unknown without bass, as
:class:`~musicinterp.organism.judges.ModeJudge` leaves it undecided). A caption
names a random subset of them in random order (caption dropout), inside a
random template. Two captions and a clip are *compatible* when every attribute
the caption names agrees with the clip: training targets spread over all
compatible clips in a batch instead of assuming the diagonal is the only match.

:func:`log_mel` is the feature extractor's own log-mel, batched in torch for
training speed; tests hold it to ``ClapFeatureExtractor`` on the same audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd

import numpy as np
import torch
from scipy.signal import resample_poly

from . import vocab as V
from .renderer import render_clip
from .world import Clip, OrganismWorld

ATTRIBUTES: tuple[str, ...] = ("drums", "tempo", "timbre", "bass", "dynamics", "mode")
# (word for label 1, word for label 0)
ATTRIBUTE_WORDS: dict[str, tuple[str, str]] = {
    "drums": ("drums", "no drums"), "tempo": ("fast", "slow"), "timbre": ("bright", "dark"),
    "bass": ("bass", "no bass"), "dynamics": ("loud", "quiet"), "mode": ("minor", "major"),
}
TEMPLATES = ("{}", "music with {}", "a recording of {}", "a song with {}", "a tune with {}", "{} music")
JOINERS = (" ", " and ", " , ")
UNKNOWN = -1
TRAIN_SEED0 = 5_000_000  # world seeds of the CLAP's training clips
HELDOUT_SEED0 = 9_000_000  # world seeds of held-out clips (benchmark, notebook)


def clip_labels(clip: Clip) -> np.ndarray:
    """``(6,)`` int8 labels in :data:`ATTRIBUTES` order; mode is :data:`UNKNOWN` without bass."""
    lat, nui = clip.latents, clip.nuisance
    mode = int(nui.minor) if lat.bass else UNKNOWN
    return np.array([lat.drums, lat.tempo, lat.timbre, lat.bass, int(nui.dynamics == 2), mode], dtype=np.int8)


def caption(labels: np.ndarray, rng: np.random.Generator, p_mention: float = 0.5, p_single: float = 0.3
            ) -> tuple[str, np.ndarray]:
    """A caption naming some of the known ``labels`` (at least one) and the boolean mask of those it names."""
    known = np.flatnonzero(labels != UNKNOWN)
    mask = np.zeros(len(ATTRIBUTES), dtype=bool)
    if rng.random() < p_single:
        mask[rng.choice(known)] = True
    else:
        mask[known] = rng.random(len(known)) < p_mention
        if not mask.any():
            mask[rng.choice(known)] = True
    order = rng.permutation(np.flatnonzero(mask))
    words = [ATTRIBUTE_WORDS[ATTRIBUTES[a]][1 - int(labels[a])] for a in order]
    text = TEMPLATES[rng.integers(len(TEMPLATES))].format(JOINERS[rng.integers(len(JOINERS))].join(words))
    return text, mask


def compatibility(labels: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """``(B, B)`` float: caption i (naming ``masks[i]`` of clip i's labels) fits clip j."""
    agree = labels[:, None, :] == labels[None, :, :]  # (caption clip, clip, attribute)
    return (agree | ~masks[:, None, :]).all(-1).float()


def to_rate(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``audio`` (any leading shape) resampled from ``rate`` to ``target`` along the last axis (polyphase)."""
    if rate == target:
        return audio
    g = gcd(rate, target)
    return resample_poly(audio, target // g, rate // g, axis=-1)


def render_at(clips: Sequence[Clip], sample_rate: int) -> np.ndarray:
    """``(B, samples)`` float64: each clip rendered by the organism (32 kHz) and resampled to ``sample_rate``."""
    audio = np.stack([render_clip(c.codes) for c in clips]).astype(np.float64)
    return to_rate(audio, V.SAMPLE_RATE, sample_rate)


def log_mel(audio: np.ndarray | torch.Tensor, extractor) -> torch.Tensor:
    """``(B, 1, frames, mels)`` float32: ``extractor``'s log-mel (Hann STFT, Slaney mels, dB) of full windows."""
    x = torch.as_tensor(np.asarray(audio, dtype=np.float64))
    window = torch.hann_window(extractor.fft_window_size, periodic=True, dtype=torch.float64)
    spec = torch.stft(x, extractor.fft_window_size, extractor.hop_length, window=window, center=True,
                      pad_mode="reflect", return_complex=True).abs() ** 2  # (B, freq, frames)
    filters = torch.as_tensor(extractor.mel_filters_slaney, dtype=torch.float64)  # (freq, mels)
    mel = torch.einsum("bft,fm->btm", spec, filters)
    return (10.0 * torch.log10(mel.clamp_min(1e-10))).float()[:, None]


def window_frames(extractor) -> int:
    """Log-mel frames of one full window of ``extractor`` (centred STFT: samples // hop + 1)."""
    return extractor.nb_max_samples // extractor.hop_length + 1


def crop_windows(feats: torch.Tensor, frames: int, rng: np.random.Generator) -> torch.Tensor:
    """``(B, 1, frames, mels)``: one window per clip of ``feats`` ``(B, 1, T, mels)``, each at a random offset
    (time-shift augmentation; the whole clip when it is no longer than ``frames``)."""
    spare = feats.shape[2] - frames
    if spare <= 0:
        return feats
    offsets = rng.integers(0, spare + 1, size=len(feats))
    return torch.stack([f[:, o:o + frames] for f, o in zip(feats, offsets.tolist(), strict=True)])


def world_clips(seeds: Sequence[int], n_frames: int, **fixed: int) -> list[Clip]:
    """World clips from ``seeds``; ``fixed`` sets latents (e.g. ``drums=1``), the rest drawn from each seed."""
    world = OrganismWorld(n_frames)
    clips = [world.sample(int(s)) for s in seeds]
    for concept, value in fixed.items():
        clips = [world.with_concept(c, concept, value) for c in clips]
    return clips


def clap_examples(seeds: Sequence[int], extractor, n_frames: int, batch: int = 64, progress: bool = False,
                  p_perturb: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, 1, frames, mels)`` features and ``(N, 6)`` labels of the world clips from ``seeds``; with
    ``p_perturb`` > 0 that share of them (drawn per seed) has voices rewritten and is labelled by the detectors
    (:mod:`~musicinterp.organism.clap_perturb`)."""
    from tqdm.auto import tqdm

    from .clap_perturb import perturbed_clip

    feats, labels = [], []
    seeds = list(seeds)
    for start in tqdm(range(0, len(seeds), batch), desc="rendering clips", disable=not progress):
        codes, rows = [], []
        for seed, clip in zip(seeds[start:start + batch], world_clips(seeds[start:start + batch], n_frames),
                              strict=True):
            rng = np.random.default_rng([int(seed), 11])
            if p_perturb > 0 and rng.random() < p_perturb:
                c, lab = perturbed_clip(clip, rng)
            else:
                c, lab = clip.codes.numpy(), clip_labels(clip)
            codes.append(c)
            rows.append(lab)
        audio = to_rate(np.stack([render_clip(c) for c in codes]).astype(np.float64), V.SAMPLE_RATE,
                        extractor.sampling_rate)
        feats.append(log_mel(audio, extractor))
        labels.append(torch.from_numpy(np.stack(rows)))
    return torch.cat(feats), torch.cat(labels)
