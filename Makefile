# Every target builds what it needs into .venv by itself: on a fresh machine
# `make demo` and `make test` are the only two set-up commands.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
JOBS   ?= 2

.PHONY: demo test test-deep bench lint docs docs-check clean

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

# Builds the site, executing the tutorials in docs/tutorials (a failing cell fails the build); MathJax is
# served by the site itself (docs/mkdocs_hooks.py), so the pages work offline.
docs: $(VENV)/.docs
	$(VENV)/bin/mkdocs build --strict

# Opens the built pages in headless Chromium (Debian's package, installed when missing: needs root) and
# checks what a reader sees: typeset math, graph pictures, reports; screenshots in site/_screenshots/.
docs-check: docs
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ apt-get update && apt-get install -y chromium; }
	$(PY) docs/check_site.py site

clean:
	rm -rf $(VENV) build dist site .pytest_cache .hypothesis .ruff_cache
