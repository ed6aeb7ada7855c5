"""AudioDistances: a trivial embedder gives exactly the distances of its embeddings; a pure shift has the
closed-form FAD ``||shift||^2``; identical sets are at distance 0; bad embedders and sets are refused."""

import numpy as np
import pytest

from musicinterp.measures import AudioDistances, MeasureError, audio_distances, embedding_distances


class Flatten:
    """A trivial embedder: each clip's samples are its embedding."""

    name = "flat"

    def __init__(self):
        self.calls = 0

    def __call__(self, clips):
        self.calls += 1
        return np.asarray(clips, dtype=np.float64).reshape(len(clips), -1)


def _sets(n=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    return a, rng.normal(loc=0.5, size=(n, d))


def test_audio_distances_are_the_distances_of_the_embeddings():
    a, b = _sets()
    emb = Flatten()
    got = audio_distances(a, b, emb, n_boot=30, seed=4, paired=True)
    want = embedding_distances(a, b, name="flat", n_boot=30, seed=4, paired=True)
    assert emb.calls == 2
    assert got == want and got.to_dict() == want.to_dict()
    assert (got.embedder, got.n_a, got.n_b, got.dim) == ("flat", 12, 12, 3)


def test_a_pure_shift_has_fad_equal_to_the_squared_shift():
    a, _ = _sets(n=20)
    shift = np.array([0.3, -0.4, 1.2])  # ||shift||^2 = 0.09 + 0.16 + 1.44
    res = embedding_distances(a, a + shift, n_boot=20)
    assert res.fad == pytest.approx(1.69, abs=1e-6)
    assert res.kad.value > 0 and res.fad_ci.low <= res.fad_ci.value <= res.fad_ci.high


def test_identical_sets_are_at_distance_zero():
    a, _ = _sets(n=10)
    res = embedding_distances(a, a.copy(), n_boot=50, paired=True)
    assert res.fad == pytest.approx(0.0, abs=1e-6)
    assert res.kad.low <= 0.0 <= res.kad.high
    assert res.kad.level == 0.95 and res.fad_ci.level == 0.95
    d = res.to_dict()
    assert d["fad"] == res.fad and d["kad"] == res.kad.to_dict() and d["fad_inf"] == res.fad_inf.to_dict()
    assert repr(res).startswith("AudioDistances(embeddings, n=10/10, d=3: FAD ")
    assert isinstance(res, AudioDistances)


def test_bad_embedders_and_sets_are_refused():
    a, b = _sets()

    def nameless(clips):  # callable, but no name
        return clips

    with pytest.raises(MeasureError, match="embedder must have a name and be callable on clips, got function"):
        audio_distances(a, b, nameless)
    with pytest.raises(MeasureError, match="needs at least 4 rows"):
        embedding_distances(a[:3], b)
    with pytest.raises(MeasureError, match="same embedding width"):
        embedding_distances(a, b[:, :2])
    with pytest.raises(MeasureError, match="non-finite"):
        embedding_distances(np.where(a > 1, np.nan, a), b)
