"""benchmarks/save_result.py saves a benchmark's JSON last line with its command, and nothing when the run fails."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def saver(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("save_result", ROOT / "benchmarks" / "save_result.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    return module


def test_saves_the_last_line_with_the_command(saver, tmp_path, capsys):
    code = "print('working'); print(); print('{\"speedup\": 1.5}')"
    path = saver.record("bench", [sys.executable, "-c", code], note="idle machine")
    saved = json.loads(path.read_text())
    assert path == tmp_path / "bench.json"
    assert saved["speedup"] == 1.5
    assert saved["_command"].endswith("(idle machine)") and "-c" in saved["_command"]
    assert saved["_wall_s"] >= 0
    assert "working" in capsys.readouterr().out  # the benchmark's output passes through


@pytest.mark.parametrize("code, message", [
    ("import sys; print('{\"a\": 1}'); sys.exit(3)", "exited with 3"),
    ("print('done in 3 s')", "not JSON"),
    ("print('[1, 2]')", "not an object"),
])
def test_a_failed_run_leaves_the_old_file(saver, tmp_path, code, message):
    (tmp_path / "bench.json").write_text('{"old": true}\n')
    with pytest.raises(SystemExit, match=message):
        saver.record("bench", [sys.executable, "-c", code], note=None)
    assert json.loads((tmp_path / "bench.json").read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]


def test_command_line_takes_a_note_before_the_command(saver, tmp_path, monkeypatch):
    code = "print('{\"x\": 2}')"
    monkeypatch.setattr(sys, "argv", ["save_result.py", "named", "--note", "busy", "--", sys.executable, "-c", code])
    saver.main()
    saved = json.loads((tmp_path / "named.json").read_text())
    assert saved["x"] == 2 and saved["_command"].endswith("(busy)")
    monkeypatch.setattr(sys, "argv", ["save_result.py", "named"])
    with pytest.raises(SystemExit):
        saver.main()
