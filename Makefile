# The two commands a user needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SPLEETER_VENV := .venv-spleeter
DEMO_OUT ?= demo-output

.PHONY: install demo test lint spleeter-env bench clean-demo

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# Spleeter pins numpy<2 / TensorFlow 2.12, so it lives in its own environment,
# spoken to through builders/misme/spleeter_worker.py over a subprocess.
$(SPLEETER_VENV)/.installed: builders/misme/spleeter-requirements.txt
	$(PYTHON) -m venv $(SPLEETER_VENV)
	$(SPLEETER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SPLEETER_VENV)/bin/python -m pip install --quiet -r builders/misme/spleeter-requirements.txt
	touch $@

spleeter-env: $(SPLEETER_VENV)/.installed

demo: install
	$(BIN)/misme-build demo --out $(DEMO_OUT)

# The suite includes the Spleeter tests (they train a tiny model), so it needs that environment.
test: install spleeter-env
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean-demo:
	rm -rf $(DEMO_OUT)
