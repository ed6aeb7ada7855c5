"""The README's Quickstart block runs as written (extracted from README.md, never copied)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def quickstart_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README.md has no python block under '## Quickstart'"
    return match.group(1)


def test_the_quickstart_is_short_and_uses_one_import():
    code = quickstart_block()
    lines = [ln for ln in code.splitlines() if ln.strip()]
    assert len(lines) <= 10
    assert [ln for ln in lines if re.match(r"\s*(import|from)\s", ln)] == ["import musicinterp as mi"]


@pytest.mark.slow
def test_the_quickstart_runs(tmp_path):
    code = quickstart_block() + "\nprint(repr(steered)); print(repr(store))\n"
    env = {**os.environ, "PLOTLY_RENDERER": "json"}  # .show() prints the figure's JSON instead of a browser
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "GenerationResult(2 x 4 codebooks x 400 frames (200 prompt)" in out.stdout
    assert "steered by iti:drums" in out.stdout
    assert re.search(r"[\"']type[\"']:\s*[\"']heatmap[\"']", out.stdout), out.stdout[:500]  # the figure was shown
