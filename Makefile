# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create (or reuse) .venv and install the project into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU build of torch; override (e.g. TORCH_SPEC=torch) on a CUDA machine.
TORCH_SPEC ?= torch==2.13.0

.PHONY: venv test demo course lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	# dictionary-learning 0.1.0 pins nnsight<0.4, which conflicts with nnsight 0.8.
	# Its SAE classes and trainers import fine against 0.8 (we feed them our own
	# batches instead of its ActivationBuffer, and never import its training.py,
	# which needs wandb), so install it without its dependencies.
	$(PY) -m pip install --quiet --no-deps "dictionary-learning==0.1.0"
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .

test: venv lint
	$(VENV)/bin/pytest -q -p no:cacheprovider -n 2 --durations=15

demo: venv
	$(VENV)/bin/musicinterp demo

# Execute every course notebook and write its HTML next to the demo's outputs.
course: venv
	mkdir -p musicinterp_out/course
	$(VENV)/bin/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=900 \
		--output-dir musicinterp_out/course notebooks/[0-9][0-9]_*.ipynb

clean:
	rm -rf $(VENV) musicinterp_out
