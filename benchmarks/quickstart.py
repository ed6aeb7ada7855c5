"""Run the README Quickstart block in a fresh process; JSON ``{"lines", "imports", "seconds"}`` on the last line.

Targets: lines <= 10, imports == 1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    section = (ROOT / "README.md").read_text().split("## Quickstart", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    lines = [ln for ln in code.splitlines() if ln.strip()]
    imports = [ln for ln in lines if re.match(r"\s*(import|from)\s", ln)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True,
                             env={**os.environ, "PLOTLY_RENDERER": "json"})
        seconds = time.perf_counter() - t0
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
    print(json.dumps({"lines": len(lines), "imports": len(imports), "seconds": round(seconds, 1),
                      "ok": out.returncode == 0, "targets_met": len(lines) <= 10 and len(imports) == 1}))


if __name__ == "__main__":
    main()
