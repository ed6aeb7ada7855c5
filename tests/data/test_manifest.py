import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicinterp.data.manifest import ManifestError, load_manifest, to_concept_set

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
    ({"kind": "organism", "name": "x", "concept": "drums", "count": 1, "seed": 0}, "count: needs 2 to 100000 clips"),
    ({"kind": "organism", "name": "x", "concept": "drums", "count": 10**12, "seed": 0}, "count: needs 2 to 100000"),
    ({"kind": "organism", "name": "x", "concept": "drums", "count": 90000, "seed": 0, "n_frames": 1500},
     "count: 90000 clips of 1500 frames are 135000000 frames, more than 10000000"),
    ({"kind": "organism", "name": "x", "concept": "drums", "count": 4, "seed": 0, "n_frames": 10**9},
     "n_frames: expected an integer from 5 to 1500"),
    ({"kind": "organism", "name": "x", "concept": "../drums", "count": 4, "seed": 0},
     "concept: '../drums' cannot be used as a name"),
    ({"kind": "prompts", "name": "x", "concept": "a/b", "positive": ["p"], "negative": ["n"]}, "concept: 'a/b'"),
    ({"kind": "audio", "name": "x", "concepts": {"../../evil": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"../../evil": 1}}]}, r"concepts.../../evil: '../../evil'"),
    ({"kind": "audio", "name": "x", "concepts": {"d": "binary"},
      "entries": [{"id": "..", "path": "a.wav", "labels": {"d": 1}}]}, r"entries\[0\].id: '..' cannot be used"),
    ({"kind": "audio", "name": "x", "concepts": {"d": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"d": 1}, "offset": float("nan")}]},
     r"entries\[0\].offset: expected a non-negative number of seconds up to 86400 \(a day of audio\), got nan"),
    ({"kind": "audio", "name": "x", "concepts": {"d": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"d": 1}, "duration": float("inf")}]},
     r"entries\[0\].duration: expected a positive number of seconds up to 600 \(ten minutes"),
    ({"kind": "audio", "name": "x", "concepts": {"d": "binary"},
      "entries": [{"id": "a", "path": "a.wav", "labels": {"d": 1}, "group": ["g"]}]}, r"entries\[0\].group"),
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


@pytest.mark.parametrize("entry_path", ["../outside.wav", "clips/../../outside.wav", "/etc/passwd"])
def test_paths_leaving_the_root_are_refused_unless_allowed(tmp_path, entry_path):
    body = {"kind": "audio", "name": "x", "concepts": {"d": "binary"},
            "entries": [{"id": "a", "path": entry_path, "labels": {"d": 1}},
                        {"id": "b", "path": "clips/b.wav", "labels": {"d": 0}}]}
    path = _write(tmp_path, body)
    with pytest.raises(ManifestError, match=r"m.json: entries\[0\].path: .* leaves the manifest's root"):
        to_concept_set(path)
    cs = to_concept_set(path, allow_outside_root=True)
    assert cs.ids == ["a", "b"]


# ---------------------------------------------------------------- malformed manifests, generated
_json_values = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True)
                            | st.text(max_size=6), lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
_FIELDS = ["kind", "name", "concepts", "entries", "concept", "positive", "negative", "count", "seed", "paired",
           "id", "path", "labels", "offset", "duration", "split", "group"]


@st.composite
def manifests(draw) -> dict:
    base = {"kind": draw(st.sampled_from(["audio", "prompts", "organism", "video"])), "name": "m",
            "concepts": {"d": "binary"}, "entries": [{"id": "a", "path": "a.wav", "labels": {"d": 1}}],
            "concept": "drums", "positive": ["x"], "negative": ["y"], "count": 4, "seed": 0}
    for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=4)):
        if draw(st.booleans()):
            base.pop(key, None)
        else:
            base[key] = draw(_json_values)
    if draw(st.booleans()) and isinstance(base.get("entries"), list) and base["entries"]:
        entry = dict(base["entries"][0]) if isinstance(base["entries"][0], dict) else {}
        entry[draw(st.sampled_from(_FIELDS))] = draw(_json_values)
        base["entries"] = [entry] + base["entries"]
    return base


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=manifests(), as_jsonl=st.booleans())
def test_malformed_manifests_end_in_a_named_manifest_error(tmp_path, body, as_jsonl):
    """Whatever the manifest holds, loading it succeeds or raises ManifestError naming the file (never KeyError...)."""
    if as_jsonl and isinstance(body.get("entries"), list):
        header = {k: v for k, v in body.items() if k != "entries"}
        text = "\n".join([json.dumps(header)] + [json.dumps(e) for e in body["entries"]])
        path = _write(tmp_path, text, "fuzz.jsonl")
    else:
        path = _write(tmp_path, body, "fuzz.json")
    try:
        m = load_manifest(path)
    except ManifestError as err:
        assert str(path) in str(err)
        return
    if m.kind != "organism":  # organism sets are built from the world, not read from disk
        to_concept_set(m, root=tmp_path, allow_outside_root=True)


def test_binary_and_nested_manifests_are_named(tmp_path):
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ManifestError, match="b.json: not a UTF-8 JSON manifest"):
        load_manifest(tmp_path / "b.json")
    (tmp_path / "d.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ManifestError, match="d.json"):
        load_manifest(tmp_path / "d.json")
    (tmp_path / "l.jsonl").write_text('[1]\n{"id": "a"}')
    with pytest.raises(ManifestError, match="l.jsonl: line 1: expected the header object"):
        load_manifest(tmp_path / "l.jsonl")
