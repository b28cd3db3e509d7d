# Two commands do all the set-up on a fresh machine (Python >= 3.11 and pip):
#   make demo   solve a small problem with each method family, write demo_output/
#   make test   run the test suite (the `slow` tests are skipped; `make test-slow` runs them)
#   make lint   ruff and pyright
#   make test-heavy   the notebooks, docs pages and longer checks (CI runs them after make test)
#   make gpu-check    the suite at the default matmul precision on the accelerator JAX sees,
#                     then benchmarks (PROFILE=quick, or paper for the papers' sizes)
#   make test-tf32    the default suite with float32 matmuls rounded to TF32, on any machine
# Both create and then reuse the local virtual environment .venv.
# `make docs` builds the documentation site into site/ (mkdocs, strict; adds the docs extra).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jaxsci-installed
PYTEST_WORKERS ?= 2
PROFILE ?= quick

.PHONY: install compare demo test test-heavy test-slow test-tf32 gpu-check wheel lint bench bench-quick docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,bench,notebooks,docs,lint,demo]"
	touch $(STAMP)

install: $(STAMP)

# Optional: torch (CPU) and diffusers, for the parity tests against diffusers' schedulers.
compare: $(STAMP)
	$(PY) -m pip install --quiet -e ".[compare]"

demo: $(STAMP)
	$(PY) -m jaxsci demo --out demo_output

test: $(STAMP)
	$(PY) -m pytest -m "not slow and not heavy" -n $(PYTEST_WORKERS) -q --durations=30

# the notebooks, the runnable docs pages and the longer checks: CI runs them after `make test`
test-heavy: $(STAMP)
	$(PY) -m pytest -m "heavy and not slow" -n $(PYTEST_WORKERS) -q --durations=15

# float32 matmul operands rounded to TF32's 10-bit mantissa (tests/conftest.py): the tests
# that a GPU's default precision would fail, found on a CPU; mark them `full_precision`
test-tf32: $(STAMP)
	JAXSCI_TEST_EMULATE_TF32=1 $(PY) -m pytest -m "not slow and not heavy" -n $(PYTEST_WORKERS) -q --ignore=tests/install

# on a GPU or TPU host, first `.venv/bin/pip install -U "jax[cuda12]"` (or "jax[tpu]")
gpu-check: $(STAMP)
	$(PY) benchmarks/accelerator/check.py --profile $(PROFILE) --out accelerator_report

# the sdist and the wheel, into dist/
wheel: $(STAMP)
	$(PY) -m build --outdir dist .

# ruff (style, imports, common bugs) and pyright (types), both configured in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check jaxsci tests benchmarks examples
	$(VENV)/bin/pyright

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q

# Every benchmarks/*.py script prints a markdown table and writes JSON to benchmarks/out/.
bench: $(STAMP)
	mkdir -p benchmarks/out
	for script in benchmarks/*.py; do \
	  name=$$(basename $$script .py); \
	  $(PY) $$script --json benchmarks/out/$$name.json || exit 1; \
	done

bench-quick: $(STAMP)
	mkdir -p benchmarks/out
	for script in benchmarks/*.py; do \
	  name=$$(basename $$script .py); \
	  $(PY) $$script --quick --json benchmarks/out/$$name.json || exit 1; \
	done

# The documentation site (mkdocs-material + mkdocstrings) in site/; fails on any warning.
docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) demo_output benchmarks/out .pytest_cache accelerator_report dist build
