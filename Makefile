# The two commands a user needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SPLEETER_VENV := .venv-spleeter
DEMO_OUT ?= demo-output
LOCK := requirements/main.lock
SPLEETER_LOCK := requirements/spleeter.lock
# What the locks are compiled for (the machines this project runs on).
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header

.PHONY: install demo test lint spleeter-env bench clean-demo lock

# Every package at the version and hash of the lock file (byte-identical builds depend on
# the packages that decode, resample and encode audio); then this project itself.
$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.installed

# Spleeter pins numpy<2 / TensorFlow 2.12, so it lives in its own environment,
# spoken to through builders/misme/spleeter_worker.py over a subprocess.
$(SPLEETER_VENV)/.installed: $(SPLEETER_LOCK)
	$(PYTHON) -m venv $(SPLEETER_VENV)
	$(SPLEETER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SPLEETER_VENV)/bin/python -m pip install --quiet --require-hashes -r $(SPLEETER_LOCK)
	touch $@

spleeter-env: $(SPLEETER_VENV)/.installed

# The demo, then the thesis's study on its MiSME build (fast preset; report.md path printed).
demo: install
	$(BIN)/misme-build demo --out $(DEMO_OUT)
	$(BIN)/misme-build misme experiments $(DEMO_OUT)/build --out $(DEMO_OUT)/experiments --preset fast --workers 2

# The suite includes the Spleeter tests (they train a tiny model), so it needs that environment.
# It runs on TEST_WORKERS pytest-xdist workers, one test file (or the Ray group) per worker at a
# time, longest first (tests/conftest.py); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2
test: install spleeter-env
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every script prints its figures; the stress run is shortened here (its default, 1,000 runs
# per console script, takes hours: `python bench/stress.py` for the full histogram).
bench: install
	for script in bench/[!_]*.py; do args=; [ "$$script" = bench/stress.py ] && args="--runs 20"; \
	  $(BIN)/python $$script $$args || exit 1; done

# Refresh both locks from pyproject.toml and the Spleeter requirements (newest allowed
# versions, hashes of every file; needs the package index). Review the diff, run
# `make test`, commit: a different lock can make different bytes. torch is locked as
# PyTorch's CPU wheel (torch==2.13.0+cpu), found in TORCH_WHEELS: PyPI's Linux torch is a
# CUDA build that pulls gigabytes of nvidia packages.
TORCH_WHEELS ?= /opt/wheels
lock:
	$(PYTHON) -m venv .venv-tools
	.venv-tools/bin/python -m pip install --quiet uv
	.venv-tools/bin/uv pip compile pyproject.toml --extra test --extra ray --prerelease allow --upgrade \
	  --find-links $(TORCH_WHEELS) $(LOCK_TARGET) -o $(LOCK)
	.venv-tools/bin/uv pip compile builders/misme/spleeter-requirements.txt --upgrade $(LOCK_TARGET) -o $(SPLEETER_LOCK)

clean-demo:
	rm -rf $(DEMO_OUT)
