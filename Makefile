# Every target builds what it needs into .venv by itself: on a fresh machine
# `make demo` and `make test` are the only two set-up commands.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
JOBS   ?= 2

.PHONY: demo test test-deep bench lint docs clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	touch $@

$(VENV)/.demo: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e ".[demo]"
	touch $@

$(VENV)/.dev: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e ".[dev]"
	touch $@ $(VENV)/.demo

$(VENV)/.bench: $(VENV)/.dev
	$(PIP) install --quiet -e ".[bench]"
	touch $@

$(VENV)/.docs: $(VENV)/.created pyproject.toml
	$(PIP) install --quiet -e ".[docs]"
	touch $@

demo: $(VENV)/.demo
	$(VENV)/bin/chainrule demo

test: $(VENV)/.dev
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -n $(JOBS) -q --durations=15

test-deep: $(VENV)/.dev
	CHAINRULE_DEEP=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -n $(JOBS) -q -m "deep or not deep"

bench: $(VENV)/.bench
	$(PY) -m benchmarks

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

docs: $(VENV)/.docs
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist site .pytest_cache .hypothesis .ruff_cache
