"""Perturbed world clips: rewritten voices obey the grammar (but for the lead's held notes), span both sides of
each detector's threshold, keep what they should, and are labelled by the detectors."""

import numpy as np
import pytest
import torch

from musicinterp.organism import vocab as V
from musicinterp.organism.clap_config import OrganismClapConfig, clap_feature_extractor
from musicinterp.organism.clap_data import ATTRIBUTES, UNKNOWN, clap_examples, clip_labels, world_clips
from musicinterp.organism.clap_perturb import (
    perturb_codes,
    perturbed_clip,
    random_bass,
    random_drums,
    retimed_lead,
    shifted_brightness,
)
from musicinterp.organism.detectors import (
    bass_rate,
    drum_rate,
    grammar_report,
    lead_onset_rate,
    world_validity,
)


def _clips(n: int = 60):
    return world_clips(range(n), 300)


def test_rewritten_clips_break_the_grammar_only_with_held_lead_notes():
    codes = [perturb_codes(c.codes.numpy(), np.random.default_rng([i, 11]))[0] for i, c in enumerate(_clips())]
    batch = torch.from_numpy(np.stack(codes))
    report = grammar_report(batch)
    assert all(v.sum() == 0 for k, v in report.items() if k != "lead_sustain"), report
    broken = report["lead_sustain"] > 0
    assert 0 < broken.sum() < len(codes)
    fixed = batch[broken].clone()  # give every held note its onset back: the clip obeys the grammar
    for lead in fixed[:, V.LEAD]:
        held = torch.from_numpy(_held_notes(lead.numpy()))
        lead[held] = torch.tensor([V.lead_onset(int(t) - V.LEAD_SUSTAIN, 0) for t in lead[held]])
    assert world_validity(fixed).all()


def _held_notes(lead: np.ndarray) -> np.ndarray:
    """Frames where a sustain starts a new pitch (a held note: no onset)."""
    onset = (lead >= 1) & (lead < V.LEAD_ONSET_MAX)
    pitch = np.where(onset, (lead - 1) // V.LEAD_VELOCITIES, lead - V.LEAD_SUSTAIN)
    return np.r_[False, (~onset[1:]) & (pitch[1:] != pitch[:-1])]


def test_about_half_the_retimed_leads_hold_notes_the_tempo_detector_does_not_count():
    clip = _clips(1)[0]
    lead, bright = clip.codes[V.LEAD].numpy(), clip.codes[V.BRIGHT].numpy()
    holding = 0
    for seed in range(40):
        new_lead, new_bright = retimed_lead(lead, bright, np.random.default_rng(seed))
        onsets = (new_lead >= 1) & (new_lead < V.LEAD_ONSET_MAX)
        holding += int(_held_notes(new_lead).any())
        assert onsets[0] and (new_bright[onsets] % V.BRIGHT_PHASES == 0).all()
        rate = lead_onset_rate(torch.from_numpy(new_lead)[None, None].expand(1, V.N_CODEBOOKS, -1)).item()
        assert rate == pytest.approx(onsets.sum() * V.FRAME_RATE / len(new_lead))  # held notes do not count
    assert 10 <= holding <= 30


def test_rewritten_voices_reach_both_sides_of_each_threshold():
    rng = np.random.default_rng(0)
    bass = torch.from_numpy(np.stack([random_bass(300, rng) for _ in range(80)]))
    drums = torch.from_numpy(np.stack([random_drums(300, rng) for _ in range(80)]))
    full = torch.zeros(80, V.N_CODEBOOKS, 300, dtype=torch.long)
    full[:, V.BASS], full[:, V.DRUMS] = bass, drums
    clips = _clips(80)
    leads = [retimed_lead(c.codes[V.LEAD].numpy(), c.codes[V.BRIGHT].numpy(), rng) for c in clips]
    full[:, V.LEAD] = torch.from_numpy(np.stack([lead for lead, _ in leads]))
    for score, threshold in ((bass_rate(full), 0.5), (drum_rate(full), 0.03), (lead_onset_rate(full), 3.6)):
        above = (score > threshold).float().mean().item()
        assert 0.2 < above < 0.8, (threshold, above)


def test_retimed_lead_keeps_the_clips_pitches_velocities_and_brightness_levels():
    clip = _clips(1)[0]
    lead, bright = clip.codes[V.LEAD].numpy(), clip.codes[V.BRIGHT].numpy()
    new_lead, new_bright = retimed_lead(lead, bright, np.random.default_rng(4))
    onsets = lambda row: row[(row >= 1) & (row < V.LEAD_ONSET_MAX)] - 1  # noqa: E731
    assert set(onsets(new_lead) // V.LEAD_VELOCITIES) <= set(onsets(lead) // V.LEAD_VELOCITIES)
    assert set(onsets(new_lead) % V.LEAD_VELOCITIES) <= set(onsets(lead) % V.LEAD_VELOCITIES)
    assert (new_bright // V.BRIGHT_PHASES == bright // V.BRIGHT_PHASES).all()
    starts = np.flatnonzero((new_lead >= 1) & (new_lead < V.LEAD_ONSET_MAX))
    assert (new_bright[starts] % V.BRIGHT_PHASES == 0).all()  # phases restart at every new onset


def test_shifted_brightness_moves_every_level_by_one_offset_within_range():
    bright = np.array([V.bright_token(level, phase) for level, phase in [(3, 0), (4, 1), (15, 2), (0, 7), (9, 3)]])
    old = bright // V.BRIGHT_PHASES
    offsets = set()
    for seed in range(30):
        out = shifted_brightness(bright, np.random.default_rng(seed))
        assert (out % V.BRIGHT_PHASES == bright % V.BRIGHT_PHASES).all()
        fits = [o for o in range(-10, 11) if (out // V.BRIGHT_PHASES == np.clip(old + o, 0, 15)).all()]
        assert fits, out
        offsets.add(fits[0])
    assert len(offsets) > 5


def test_labels_come_from_the_detectors_and_mode_only_from_an_untouched_world():
    for i, clip in enumerate(_clips(40)):
        codes, labels = perturbed_clip(clip, np.random.default_rng([i, 11]))
        batch = torch.from_numpy(codes)[None]
        assert labels[0] == int(drum_rate(batch).item() > 0.03) and labels[3] == int(bass_rate(batch).item() > 0.5)
        assert labels[1] == int(lead_onset_rate(batch).item() > 3.6)
        world_lines = (codes[V.BASS] == clip.codes[V.BASS].numpy()).all() and (
            codes[V.LEAD] == clip.codes[V.LEAD].numpy()).all()
        mode = ATTRIBUTES.index("mode")
        assert labels[mode] == (clip_labels(clip)[mode] if world_lines else UNKNOWN)


def test_training_examples_perturb_the_asked_share_deterministically():
    fe = clap_feature_extractor(OrganismClapConfig())
    seeds = range(24)
    _, plain = clap_examples(seeds, fe, 200)
    feats_a, mixed_a = clap_examples(seeds, fe, 200, p_perturb=0.5)
    feats_b, mixed_b = clap_examples(seeds, fe, 200, p_perturb=0.5)
    assert torch.equal(feats_a, feats_b) and torch.equal(mixed_a, mixed_b)
    world = torch.from_numpy(np.stack([clip_labels(c) for c in world_clips(seeds, 200)]))
    assert torch.equal(plain, world)
    changed = (mixed_a != world).any(1).float().mean().item()
    assert 0.15 < changed < 0.85
