"""Preservation distance, the per-embedder measure fields, and TADA's area under alignment gain, on
hand-made embeddings and comparison rows."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from musicinterp.compare.preservation import alignment_auc, measure_fields, preservation_distance


def test_preservation_distance_by_hand():
    e = np.eye(3)
    assert preservation_distance(e, e.copy()) == pytest.approx(0.0)
    assert preservation_distance(e, np.roll(e, 1, axis=1)) == pytest.approx(1.0)  # orthogonal twins
    assert preservation_distance(e, -e) == pytest.approx(2.0)
    assert preservation_distance(3.0 * e, e) == pytest.approx(0.0)  # length does not count
    # the mean over prompts: one identical pair, one at 60 degrees (1 - cos = 0.5)
    steered = np.array([[1.0, 0.0], [0.5, math.sqrt(3) / 2]])
    assert preservation_distance(steered, np.array([[2.0, 0.0], [1.0, 0.0]])) == pytest.approx(0.25)


def test_measure_fields_of_identical_sets():
    emb = np.random.default_rng(0).normal(size=(8, 3))
    out = measure_fields({"mel": emb, "tiny": emb[:3]}, {"mel": emb.copy(), "tiny": emb[:3].copy()})
    assert out["distance_mel"] == pytest.approx(0.0, abs=1e-12)
    assert out["kad_mel_lo"] <= 0.0 <= out["kad_mel_hi"]
    assert out["fad_mel_lo"] <= out["fad_mel"] <= out["fad_mel_hi"]
    # fewer than 4 clips: the distance only
    assert out["distance_tiny"] == pytest.approx(0.0, abs=1e-12)
    assert set(out) == {"distance_mel", "fad_mel", "fad_mel_lo", "fad_mel_hi", "kad_mel", "kad_mel_lo",
                        "kad_mel_hi", "distance_tiny"}


def _comparison(points):
    """Rows of one task: ``points[method]`` = [(distance, gain), ...]."""
    rows = [{"task": "drums", "method": m, "distance_mel": d, "success_gain": g}
            for m, pts in points.items() for d, g in pts]
    rows.append({"task": "bass", "method": "other", "distance_mel": 0.9, "success_gain": 5.0})
    rows.append({"task": "drums", "method": "unmeasured", "success_gain": 1.0})
    return SimpleNamespace(rows=rows)


def test_alignment_auc_of_a_straight_line():
    # gain = 2 * distance up to 0.5: the area under it from 0 to 0.5 is 0.5 * 0.5 * 1.0 = 0.25
    comp = _comparison({"line": [(0.5, 1.0), (0.1, 0.2), (0.3, 0.6)]})
    assert alignment_auc(comp, "drums", "mel", cutoff=0.5) == {"line": pytest.approx(0.25)}
    assert alignment_auc(comp, "drums", "mel") == {"line": pytest.approx(0.25)}  # cutoff: its largest distance
    assert alignment_auc(comp, "drums", "mel", cutoff=0.25)["line"] == pytest.approx(0.0625)


def test_alignment_auc_shares_the_cutoff_and_holds_curves_flat():
    comp = _comparison({"line": [(0.1, 0.2), (0.5, 1.0)], "short": [(0.25, 1.0), (float("nan"), 9.0)]})
    auto = alignment_auc(comp, "drums", "mel")  # cutoff 0.25, the smaller of the largest distances
    assert auto["line"] == pytest.approx(0.0625) and auto["short"] == pytest.approx(0.125)
    wide = alignment_auc(comp, "drums", "mel", cutoff=0.5)
    assert wide["short"] == pytest.approx(0.125 + 0.25 * 1.0)  # flat at its last gain past 0.25
    assert set(wide) == {"line", "short"}
    assert math.isnan(alignment_auc(comp, "drums", "mel", cutoff=0.0)["line"])
    assert alignment_auc(comp, "tempo", "mel") == {}
