#!/usr/bin/env bash
# One GPU benchmark run, from the repository root, on a machine with no network: install the carried wheels,
# run the CUDA cases of tests/models/test_dtypes.py, then benchmarks/gpu_suite.py; everything is written
# under $OUT (run.log, dtypes.log, gpu_suite.log, gpu_suite.err, gpu_suite.json). Finishes within ~9 minutes
# (LIMIT_S, default 530 s from the start): the suite is given what is left and, stopped early, still writes
# the figures it has (it saves its JSON after every section and prints it on SIGTERM).
#
#     bash benchmarks/gpu_run.sh            # carry: .whl
#
# The remote machine is expected to have: python3.12, torch (CUDA), transformers, accelerate, pandas,
# pyarrow, scipy, scikit-learn, safetensors, tqdm, pytest, pytest-xdist, hypothesis, numpy, numba (and
# their own dependencies: filelock, fsspec, jinja2, pyyaml, joblib, threadpoolctl, ...).
# .whl/ (ignored through .git/info/exclude, not .gitignore) carries what it lacks, as cp312 manylinux_x86_64
# or py3-none-any wheels, one version each, at this venv's versions (44 wheels, 38.6 MiB in all):
#   nnsight-0.8.1 (cp312)            greenlet-3.5.6 (cp312)      cloudpickle-3.1.3
#   pydantic-2.14.4                  pydantic_core-2.50.5 (cp312) annotated_types-0.8.0
#   typing_inspection-0.4.5          typing_extensions-4.16.0
#   transformers-5.25.0              huggingface_hub-2.4.0       tokenizers-0.23.3 (abi3)
#   safetensors-0.8.0 (abi3)         regex-2026.11.19 (cp312)    packaging-26.4
#   kernels-0.19.1 (cp312)           tomlkit-0.15.3
#     (transformers 5.25 checks at import: huggingface-hub>=2.4, tokenizers>=0.23.1,<0.24,
#      safetensors>=0.8.0, regex>=2025.10.22; its from_pretrained defaults to use_kernels=True and
#      raises without kernels 0.19.x, so the organism checkpoint would not load without it)
#   httpx2-2.16.2  httpcore2-2.16.2  anyio-4.16.0  h11-0.16.0  idna-3.20  truststore-0.10.5
#   certifi-2026.10.19.post1  charset_normalizer-3.5.3 (cp312)    (huggingface_hub 2.x imports these)
#   plotly-7.1.0                     narwhals-2.29.0
#   soundfile-0.14.0 (manylinux_2_28, bundles libsndfile)         cffi-2.1.1 (cp312)  pycparser-3.12
#   librosa-0.11.0  audioread-3.1.0  soxr-1.1.0 (abi3)  pooch-1.9.0  platformdirs-4.14.9  requests-2.34.2
#   urllib3-2.8.0  lazy_loader-0.6  decorator-5.3.1  msgpack-1.2.4 (cp312)
#   umap_learn-0.5.12                pynndescent-0.7.0
#   dictionary_learning-0.1.0        einops-0.8.2
#   psutil-7.2.2 (abi3)
# Left out on purpose (never imported by musicinterp or the suite, or already brought by the remote's own
# transformers/torch): hf-xet, zstandard, httpx/httpcore and websocket-client (nnsight's remote backend
# only), typer/click/rich (CLIs), filelock, fsspec, pyyaml, jupyter and notebook packages.
#
# Overrides for a dry run elsewhere: PY, SITE, WHEELS, OUT, LIMIT_S, PYTEST_K, GPU_SUITE_EXTRA (appended to
# the suite's arguments, e.g. "--device cpu --dtype float32 --sizes tiny --quick").

set -u -o pipefail
START=$(date +%s)
cd "$(dirname "$0")/.."  # the repository root
PY=${PY:-python3}
SITE=${SITE:-/tmp/site}
WHEELS=${WHEELS:-.whl}
OUT=${OUT:-/tmp/gpu_run_out}
LIMIT_S=${LIMIT_S:-530}
PYTEST_K=${PYTEST_K:-cuda}
GPU_SUITE_EXTRA=${GPU_SUITE_EXTRA:-}
SUITE_OUT=/tmp/gpu_out
mkdir -p "$OUT"
elapsed() { echo $(( $(date +%s) - START )); }
note() { echo "[$(elapsed)s] $*" | tee -a "$OUT/run.log"; }

note "install $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into $SITE"
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
    "$WHEELS"/*.whl >>"$OUT/run.log" 2>&1 || note "pip install failed (rc $?)"
export PYTHONPATH="$SITE:$PWD"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

note "environment"
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | head -5) >>"$OUT/run.log"
$PY - >>"$OUT/run.log" 2>&1 <<'EOF'
import importlib.metadata as md, importlib.util, sys
print("python", sys.version.split()[0])
for dist, mod in (("torch", "torch"), ("transformers", "transformers"), ("huggingface_hub", "huggingface_hub"),
                  ("tokenizers", "tokenizers"), ("safetensors", "safetensors"), ("kernels", "kernels"),
                  ("nnsight", "nnsight"), ("pydantic", "pydantic"), ("plotly", "plotly"), ("soundfile", "soundfile"),
                  ("librosa", "librosa"), ("umap-learn", "umap"), ("pynndescent", "pynndescent"),
                  ("dictionary-learning", "dictionary_learning"), ("einops", "einops"), ("accelerate", "accelerate"),
                  ("numpy", "numpy"), ("numba", "numba"), ("pandas", "pandas"), ("pyarrow", "pyarrow"),
                  ("scipy", "scipy"), ("scikit-learn", "sklearn"), ("musicinterp", "musicinterp")):
    try:
        version = md.version(dist)
    except md.PackageNotFoundError:
        version = "-"
    spec = importlib.util.find_spec(mod)
    print(f"{dist:20s} {version:14s} {spec.origin if spec else 'NOT FOUND'}")
import torch
import musicinterp
print("import musicinterp OK; cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
EOF
tail -25 "$OUT/run.log"

note "pytest tests/models/test_dtypes.py -k $PYTEST_K"
timeout -k 10 150 $PY -m pytest -q -p no:cacheprovider tests/models/test_dtypes.py -k "$PYTEST_K" -rA \
    >"$OUT/dtypes.log" 2>&1
note "pytest rc $?"
tail -5 "$OUT/dtypes.log"

LEFT=$(( LIMIT_S - $(elapsed) ))
note "gpu_suite.py with ${LEFT}s left"
timeout -k 20 "$LEFT" $PY benchmarks/gpu_suite.py --out "$SUITE_OUT" --budget-s 400 $GPU_SUITE_EXTRA \
    2>"$OUT/gpu_suite.err" | tee "$OUT/gpu_suite.log"
note "gpu_suite.py rc ${PIPESTATUS[0]}"
if [ -f "$SUITE_OUT/gpu_suite.json" ]; then
    cp "$SUITE_OUT/gpu_suite.json" "$OUT/gpu_suite.json"
    # Stopped hard before printing its last line: the saved figures become the log's last line.
    tail -n 1 "$OUT/gpu_suite.log" | $PY -c 'import json, sys; json.loads(sys.stdin.read())' 2>/dev/null \
        || { echo; cat "$SUITE_OUT/gpu_suite.json"; echo; } >>"$OUT/gpu_suite.log"
else
    note "no $SUITE_OUT/gpu_suite.json"
fi
tail -c 20000 "$OUT/gpu_suite.err" >"$OUT/gpu_suite.err.tail" && mv "$OUT/gpu_suite.err.tail" "$OUT/gpu_suite.err"
note "done"
