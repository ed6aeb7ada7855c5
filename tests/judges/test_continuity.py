"""Continuation judges: key kept and tempo kept, exact on the organism and from audio on any model."""

import numpy as np
import pytest
import torch

from musicinterp.judges import AudioKeyKept, AudioTempoKept, JudgeInputError, continuity_judges
from musicinterp.judges.continuity import audio_key
from musicinterp.organism import OrganismKeyKept, OrganismTempoKept
from musicinterp.organism.world import Latents, OrganismWorld

SR = 16000
C_MAJOR = [60, 64, 67, 72, 65, 69, 62, 71]


def test_organism_continuation_of_the_same_clip_keeps_key_and_tempo():
    world = OrganismWorld(300)
    clips = [world.sample(s) for s in range(8)]
    codes = torch.stack([c.codes for c in clips])
    prompt, cont = codes[..., :150], codes[..., 150:]
    assert OrganismKeyKept()(prompt, cont).rate >= 7 / 8
    assert OrganismTempoKept()(prompt, cont).rate == 1.0
    # continuations taken from a clip in a key a tritone away, at the other tempo
    other = []
    for c in clips:
        lat = Latents(**{**c.latents.as_dict(), "tempo": 1 - c.latents.tempo})
        seed = next(s for s in range(100, 400) if world.draw_nuisance(s).key == (c.nuisance.key + 6) % 12
                    and world.draw_nuisance(s).minor == c.nuisance.minor)
        other.append(world.sample(seed, latents=lat).codes[..., 150:])
    moved = torch.stack(other)
    key = OrganismKeyKept()(prompt, moved)
    assert key.rate == 0.0 and (key.scores < 0.9).all()
    assert OrganismTempoKept()(prompt, moved).rate == 0.0
    with pytest.raises(JudgeInputError, match="same B and K"):
        OrganismKeyKept()(prompt[:2], cont)


def _tone(midi, seconds):
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440 * 2 ** ((midi - 69) / 12)
    return sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2, 3)) * np.exp(-t / 0.4)


def _melody(transpose=0, note_s=0.25, seconds=3.0):
    n = int(seconds / note_s)
    return (0.2 * np.concatenate([_tone(C_MAJOR[i % 8] + transpose, note_s) for i in range(n)])).astype(np.float32)


class FakeCodec:
    """A decoder whose codes index prepared clips (codes[b, 0, 0] picks the clip)."""

    sample_rate = SR

    def __init__(self, clips):
        self.clips = clips

    def codes_to_audio(self, codes):
        return np.stack([self.clips[int(c[0, 0])] for c in codes])


def _codes(*indices):
    out = torch.zeros(len(indices), 4, 10, dtype=torch.long)
    out[:, 0, 0] = torch.tensor(indices)
    return out


def test_audio_key_estimate_and_key_kept():
    c_major, f_sharp = _melody(0), _melody(6)
    assert audio_key(c_major, SR)[:2] == (0, False)
    assert audio_key(f_sharp, SR)[:2] == (6, False)
    codec = FakeCodec([c_major, _melody(0, note_s=0.2), f_sharp])
    res = AudioKeyKept()(_codes(0, 0), _codes(1, 2), decoder=codec)
    assert res.present.tolist() == [True, False]
    assert res.scores[0] > res.scores[1]


def test_audio_tempo_kept_within_tolerance():
    codec = FakeCodec([_melody(note_s=0.25, seconds=6), _melody(note_s=0.25, seconds=6)[::-1].copy(),
                       _melody(note_s=0.5, seconds=6)])
    res = AudioTempoKept()(_codes(0, 0), _codes(1, 2), decoder=codec)
    assert res.present.tolist() == [True, False]
    assert res.scores[1] == pytest.approx(1.0, abs=0.25)  # half the note rate: log2 ratio 1
    assert res.scores[0] < 0.2
    with pytest.raises(ValueError, match="tolerance"):
        AudioTempoKept(tolerance=0.0)


def test_default_continuity_judges_follow_the_model():
    class Organism:
        source = "organism"

    assert [type(j) for j in continuity_judges(Organism())] == [OrganismKeyKept, OrganismTempoKept]
    assert [type(j) for j in continuity_judges(object())] == [AudioKeyKept, AudioTempoKept]
