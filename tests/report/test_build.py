import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import soundfile as sf

from musicinterp.report import ReportError, build_report

from .conftest import SR, tone


@pytest.fixture
def results(tmp_path):
    """A results folder in the documented layout."""
    out = tmp_path / "out"
    (out / "figures" / "probes").mkdir(parents=True)
    (out / "tables").mkdir()
    (out / "text").mkdir()
    (out / "audio" / "continuation").mkdir(parents=True)
    go.Figure(go.Heatmap(z=[[1, 2]]), layout_title_text="heads").write_json(out / "figures" / "probes" / "heads.json")
    go.Figure(go.Scatter(y=[1, 2]), layout_title_text="sweep").write_json(out / "figures" / "sweep.json")
    pd.DataFrame({"method": ["iti", "smitin"], "success": [0.5, 0.75]}).to_csv(out / "tables" / "best.csv",
                                                                             index=False)
    (out / "tables" / "rows.json").write_text(json.dumps({"columns": ["a", "b"], "rows": [[1, "x"], [2, "y"]]}))
    (out / "text" / "summary.md").write_text("# Summary\n\nAll **good**.")
    sf.write(out / "audio" / "continuation" / "0_unsteered.wav", tone(440), SR, subtype="PCM_16")
    sf.write(out / "audio" / "continuation" / "0_iti.wav", tone(660), SR, subtype="PCM_16")
    sf.write(out / "audio" / "loose.wav", tone(220, 0.25), SR, subtype="PCM_16")
    (out / "provenance.json").write_text(json.dumps({"model": "organism", "fingerprint": "f1", "seeds": [0],
                                                     "command": "musicinterp demo", "minutes": 2.5}))
    return out


def test_every_file_becomes_an_item(results):
    r = build_report(results)
    got = [(i.kind, i.section, i.title) for i in r.items]
    assert got == [("text", "Notes", ""), ("figure", "Figures", "sweep"), ("figure", "probes", "heads"),
                   ("table", "Tables", "best"), ("table", "Tables", "rows"), ("audio", "Audio", ""),
                   ("audio", "continuation", "continuation")]
    assert [a.label for a in r.items[-1].payload] == ["0_iti", "0_unsteered"]
    assert np.abs(r.items[-1].payload[1].samples - tone(440)).max() < 1 / 2**14
    assert r.items[3].payload.rows == (("iti", 0.5), ("smitin", 0.75))
    assert r.items[4].payload.rows == ((1, "x"), (2, "y"))
    assert (r.provenance.model, r.provenance.command, r.provenance.extra) == ("organism", "musicinterp demo",
                                                                              {"minutes": 2.5})
    assert r.title == "musicinterp report: out"


def test_sections_json_orders_and_captions(results):
    (results / "sections.json").write_text(json.dumps({
        "title": "Demo", "order": ["Steering", "probes"],
        "items": {"audio/continuation": {"section": "Steering", "title": "listen", "caption": "same seed"},
                  "figures/sweep.json": {"section": "Steering", "caption": "*sweep*"}}}))
    r = build_report(results)
    assert r.title == "Demo"
    assert r.sections == ["Steering", "probes", "Notes", "Tables", "Audio"]
    assert [(i.kind, i.title, i.caption) for i in r.items[:2]] == [("audio", "listen", "same seed"),
                                                                    ("figure", "sweep", "*sweep*")]


def test_sections_json_titles_name_sections_in_words(results):
    (results / "sections.json").write_text(json.dumps({
        "order": ["probes", "Notes"], "titles": {"probes": "Where the concept is read", "Notes": "Summary"}}))
    assert build_report(results).sections[:3] == ["Where the concept is read", "Summary", "Figures"]
    (results / "sections.json").write_text(json.dumps({"titles": ["probes"]}))
    with pytest.raises(ReportError, match="'titles' must be an object"):
        build_report(results)


def test_report_from_folder_is_deterministic(results, tmp_path):
    a = build_report(results).save(tmp_path / "a.html").read_bytes()
    assert build_report(results).save(tmp_path / "b.html").read_bytes() == a


@pytest.mark.parametrize(("path", "content", "match"), [
    ("figures/bad.json", "[1, 2]", "bad.json is not a plotly figure JSON"),
    ("figures/broken.json", "{", "broken.json is not a plotly figure JSON.*line 1"),
    ("tables/t.json", '{"columns": ["a"], "rows": [[1, 2]]}', "t.json: every row must be a list of 1 values"),
    ("tables/t.json", "[]", "table .*t.json must hold a non-empty list"),
    ("audio/x.wav", "not audio", "cannot read audio .*x.wav"),
    ("sections.json", '{"items": {"figures/nope.json": {}}}', "names items that do not exist: figures/nope.json"),
    ("sections.json", '{"order": "a"}', "'order' must be a list"),
    ("provenance.json", '["x"]', "provenance.json must be a JSON object"),
])
def test_bad_files_are_named(results, path, content, match):
    (results / path).write_text(content)
    with pytest.raises(ReportError, match=match):
        build_report(results)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        build_report(tmp_path / "nope")
    (tmp_path / "figures").mkdir()
    with pytest.raises(ReportError, match="holds no report items"):
        build_report(tmp_path)
