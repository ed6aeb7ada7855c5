import argparse

import plotly.graph_objects as go
import pytest

from musicinterp.cli.report import add_report_parsers
from musicinterp.report import ReportError
from tests.report.conftest import SR, tone


def _run(argv):
    parser = argparse.ArgumentParser()
    add_report_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_report_command_writes_html(tmp_path, capsys):
    import soundfile as sf

    (tmp_path / "figures").mkdir()
    (tmp_path / "audio").mkdir()
    go.Figure(go.Scatter(y=[1, 3])).write_json(tmp_path / "figures" / "a.json")
    sf.write(tmp_path / "audio" / "a.wav", tone(440, 1.0), SR, subtype="PCM_16")
    assert _run(["report", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    assert 'id="fig-0"' in html and html.count("data:audio/wav;base64,") == 1
    assert "wrote" in capsys.readouterr().out
    out = tmp_path / "elsewhere" / "r.html"
    assert _run(["report", str(tmp_path), "--out", str(out), "--audio-budget-mb", "0", "--title", "T"]) == 0
    assert "<title>T</title>" in out.read_text() and (tmp_path / "elsewhere" / "r_files" / "000-a.wav").is_file()


def test_report_command_names_a_bad_folder(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        _run(["report", str(tmp_path / "missing")])
