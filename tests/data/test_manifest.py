import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicinterp.data.manifest import ManifestError, load_manifest, to_concept_set
from musicinterp.data.stems import build_stem_manifest

SHIPPED = Path(__file__).resolve().parents[2] / "data_manifests"


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.json")), ids=lambda p: p.stem)
def test_shipped_manifests_validate(path):
    m = load_manifest(path)
    if m.kind == "prompts":
        assert len(m.body["positive"]) >= 16 and len(m.body["negative"]) >= 16
        assert not set(m.body["positive"]) & set(m.body["negative"])


def test_organism_manifest_builds_concept_set():
    cs = to_concept_set(SHIPPED / "organism_drums_paired.json")
    assert len(cs) == 256 and cs.groups[0] == cs.groups[1] and cs.labels["drums"].sum() == 128


def _write(tmp_path, body, name="m.json"):
    p = tmp_path / name
    p.write_text(json.dumps(body) if isinstance(body, dict) else body)
    return p


@pytest.mark.parametrize("body, message", [
    ({"name": "x"}, "top level: missing field 'kind'"),
    ({"kind": "video", "name": "x"}, "kind: must be one of"),
    ({"kind": "audio", "name": "x", "concepts": {"drums": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"drums": 2}}]}, r"entries\[0\].labels.drums: binary"),
    ({"kind": "audio", "name": "x", "concepts": {"drums": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {}}]}, r"entries\[0\].labels: missing label for concept"),
    ({"kind": "audio", "name": "x", "concepts": {"drums": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"drums": 1}},
                  {"id": "a", "path": "b.wav", "labels": {"drums": 0}}]}, r"entries\[1\].id: duplicate id 'a'"),
    ({"kind": "audio", "name": "x", "concepts": {"drums": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"drums": 1}, "duration": 0}]}, r"entries\[0\].duration"),
    ({"kind": "prompts", "name": "x", "concept": "tempo", "positive": ["fast"], "negative": []}, "negative: expected"),
    ({"kind": "organism", "name": "x", "concept": "drums", "count": 1, "seed": 0}, "count: needs at least 2"),
])
def test_bad_manifests_name_file_and_field(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ManifestError, match=message) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_jsonl_manifest_and_relative_paths(tmp_path):
    lines = [json.dumps({"kind": "audio", "name": "x", "concepts": {"bright": "continuous"}}),
             json.dumps({"id": "a", "path": "clips/a.wav", "labels": {"bright": 0.25}, "offset": 1.5, "duration": 2}),
             json.dumps({"id": "b", "path": "clips/b.wav", "labels": {"bright": 0.75}, "split": "val"})]
    path = _write(tmp_path, "\n".join(lines), "m.jsonl")
    cs = to_concept_set(path, root=tmp_path / "data")
    assert cs.audio[0].path == str(tmp_path / "data" / "clips" / "a.wav") and cs.audio[0].offset_s == 1.5
    assert cs.labels["bright"].tolist() == [0.25, 0.75] and cs.splits is None
    bad = _write(tmp_path, "{not json", "bad.json")
    with pytest.raises(ManifestError, match="bad.json: not valid JSON"):
        load_manifest(bad)


def test_stems_builder_mixes_with_and_without(tmp_path):
    sr = 16000
    t = np.arange(3 * sr) / sr
    for track in ("song1", "song2"):
        d = tmp_path / "stems" / track
        d.mkdir(parents=True)
        drums = np.where((t % 0.5) < 0.05, 0.5, 0.0) * np.random.default_rng(0).standard_normal(len(t))
        if track == "song2":
            drums[: 2 * sr] = 0  # silent drums in the first two seconds
        sf.write(d / "drums.wav", drums, sr)
        sf.write(d / "bass.wav", 0.3 * np.sin(2 * np.pi * 55 * t), sr)
        sf.write(d / "mixture.wav", drums, sr)  # ignored
    path = build_stem_manifest(tmp_path / "stems", tmp_path / "out", stem="drums", segment_s=1.0, progress=False)
    m = load_manifest(path)
    groups = {e["group"] for e in m.entries}
    assert len(m.entries) == 2 * len(groups) and len(groups) == 4  # 3 + 1 audible segments
    cs = to_concept_set(m)
    with_, _ = sf.read(cs.audio[0].path)
    without, sr_out = sf.read(cs.audio[1].path)
    assert sr_out == 32000 and len(with_) == 32000
    assert np.abs(with_ - without).max() > 0.1  # drums removed
    assert np.abs(np.fft.rfft(without))[: 80].sum() > 0.5 * np.abs(np.fft.rfft(with_))[:80].sum()  # bass kept
