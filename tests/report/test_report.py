import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import soundfile as sf

from musicinterp.report import Audio, Report, ReportError, ReportItemTypeError

from .conftest import SR, sample_report, tone


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _json_blocks(html: str) -> dict[str, object]:
    blocks = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, flags=re.S)
    return {i: json.loads(text) for i, text in blocks}


def test_same_report_same_bytes(tmp_path):
    a = sample_report().save(tmp_path / "a.html").read_bytes()
    b = sample_report().save(tmp_path / "b.html").read_bytes()
    assert a == b
    assert sample_report().save(tmp_path / "a.html").read_bytes() == a  # saving over it: same bytes again


def test_plotly_inlined_once_and_no_cdn(report, tmp_path):
    html = report.save(tmp_path / "r.html").read_text()
    assert html.count("Copyright 2012-") == 1  # plotly.js's banner
    assert html.count('class="plotly-graph-div"') == 3
    assert "cdn.plot.ly/plotly" not in html and "<script src=" not in html
    for i in (1, 2, 3):
        assert f'id="fig-{i}"' in html
    assert [m for m in re.findall(r'id="(sec-[^"]+)"', html)] == ["sec-intro", "sec-figures", "sec-tables",
                                                                   "sec-audio"]
    assert 'href="#sec-tables"' in html and 'href="#item-4">comparison<' in html  # contents by section


def test_script_in_cell_or_markdown_cannot_break_out():
    evil = "</script><script>alert(1)</script><!--"
    r = Report("x </script>")
    r.add(pd.DataFrame({"a": [evil], "b": [1.5]}), section=evil, title=evil, caption=evil)
    r.add(f"# {evil}\n\n*{evil}* [x](javascript:alert(1)) `{evil}`")
    html, _ = r.to_html()
    parser = _Tags()
    parser.feed(html[html.index("</head>"):])
    # as a browser parses it: the only script elements are ours (the JSON block and the sort code)
    assert [a for t, a in parser.tags if t == "script"] == [{"type": "application/json", "id": "tbl-0-data"}, {}]
    assert not [a for t, a in parser.tags if t == "a" and "javascript" in a.get("href", "")]
    assert "<\\/script>" in html  # escaped inside the JSON block
    assert _json_blocks(html)["tbl-0-data"]["rows"] == [[evil, 1.5]]


def test_json_block_round_trips_to_table_data():
    df = pd.DataFrame({"method": ["iti", "smitin", "x</"], "success": [0.75, np.float32(0.5), np.nan],
                       "n": np.array([16, 8, 4], dtype=np.int64), "ok": [True, False, True]})
    rows = [{"a": 1, "b": "two"}, {"b": "three", "c": 2.5}]
    r = Report("t").add(df, title="df").add(rows, title="rows")
    blocks = _json_blocks(r.to_html()[0])
    assert blocks["tbl-0-data"] == {"columns": ["method", "success", "n", "ok"],
                                    "rows": [["iti", 0.75, 16, True], ["smitin", 0.5, 8, False],
                                             ["x</", None, 4, True]]}
    assert blocks["tbl-1-data"] == {"columns": ["a", "b", "c"], "rows": [[1, "two", None], [None, "three", 2.5]]}


def test_audio_over_budget_goes_to_sidecar(tmp_path):
    clips = [Audio(tone(220 * (i + 1), 1.0), SR, f"clip {i}") for i in range(4)]  # 16 kB WAV each
    r = Report("budget", audio_budget_mb=0.05)  # room for two clips as base64 (~21.4 kB each)
    r.add(clips, section="Audio")
    out = r.save(tmp_path / "rep.html")
    html = out.read_text()
    assert html.count('src="data:audio/wav;base64,') == 2
    side = tmp_path / "rep_files"
    names = sorted(p.name for p in side.iterdir())
    assert names == ["002-clip-2.wav", "003-clip-3.wav"]
    assert 'src="rep_files/002-clip-2.wav"' in html
    data, rate = sf.read(side / "003-clip-3.wav", dtype="float32")
    assert rate == SR and np.abs(data - clips[3].samples).max() < 1 / 2**14
    # a bigger budget embeds everything and removes the stale sidecar folder
    r.audio_budget_mb = 20
    r.save(out)
    assert not side.exists() and out.read_text().count("data:audio/wav;base64,") == 4


def test_sidecar_folder_with_foreign_files_is_refused(tmp_path):
    (tmp_path / "rep_files").mkdir()
    (tmp_path / "rep_files" / "notes.txt").write_text("mine")
    with pytest.raises(ReportError, match="rep_files"):
        Report("x").add((tone(440), SR)).save(tmp_path / "rep.html")
    assert not (tmp_path / "rep.html").exists()


def test_embedded_audio_decodes_to_the_samples(report):
    html, files = report.to_html()
    assert not files
    src = re.findall(r'src="data:audio/wav;base64,([^"]+)"', html)
    assert len(src) == 2
    import base64

    data, rate = sf.read(io.BytesIO(base64.b64decode(src[1])), dtype="float32")
    assert rate == SR and len(data) == SR // 4
    assert np.abs(data - tone(660, 0.25)).max() < 1 / 2**14


def test_repr_html_is_a_fragment_with_unique_ids(report):
    a, b = report._repr_html_(), report._repr_html_()
    assert a.startswith('<div class="mi-report">') and "<html" not in a
    assert a.count("Copyright 2012-") == 1 and "window.define = undefined" in a
    ids_a = set(re.findall(r'id="(mi\d+-fig-\d+)"', a))
    ids_b = set(re.findall(r'id="(mi\d+-fig-\d+)"', b))
    assert len(ids_a) == 3 and not ids_a & ids_b  # two displays in one notebook do not collide


def test_repr_html_leaves_out_audio_past_the_budget():
    r = Report("x", audio_budget_mb=0).add([(tone(440), SR)], title="clips")
    html = r._repr_html_()
    assert "data:audio" not in html and "past the 0 MB audio budget" in html


@pytest.mark.parametrize("item", [42, object(), {"a": 1}, [], [1, 2], np.zeros(3)])
def test_unsupported_item_names_the_argument(item):
    with pytest.raises(ReportItemTypeError, match="item must be a plotly Figure"):
        Report("x").add(item)


def test_bad_audio_names_the_argument():
    bad = tone(440)
    bad[10] = np.nan
    with pytest.raises(ReportError, match="samples .*NaN or inf"):
        Report("x").add((bad, SR))
    with pytest.raises(ReportError, match="sample_rate must be a positive integer, got 0"):
        Report("x").add(Audio(tone(440), 0, "a"))
    with pytest.raises(ReportError, match="sample_rate must be a positive integer, got -8000"):
        Report("x").add([(tone(440), -8000)])
    with pytest.raises(ReportError, match="samples must be a non-empty"):
        Audio(np.zeros(0), SR)


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ReportError, match="title"):
        Report("")
    with pytest.raises(ReportError, match="audio_budget_mb"):
        Report("x", audio_budget_mb=-1)
    with pytest.raises(ReportError, match="section must be a string"):
        Report("x").add("text", section=3)
    with pytest.raises(ReportError, match="is a folder"):
        Report("x").add("text").save(tmp_path)


def test_default_section_and_titles():
    fig = go.Figure(layout_title_text="from the figure")
    r = Report("x").add("intro").add(fig, section="B").add(fig, title="given")
    assert [(i.section, i.title) for i in r.items] == [("Results", ""), ("B", "from the figure"), ("B", "given")]
    assert r.sections == ["Results", "B"] and len(r) == 3
