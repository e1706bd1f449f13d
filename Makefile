# geotools: two commands on a fresh machine.
#   make demo   create .venv with the system python3, install geotools (runtime dependencies
#               only), run the demo pipeline
#   make test   add the test and dev extras (pytest, ruff, mypy...) and run the whole test suite
# pip prints every package it collects and a progress bar (no --quiet: a first install takes
# minutes, and silence looks like a hang).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip install --progress-bar on
# One stamp per set of extras: `make demo` never pulls the test, dev or bench extras.
STAMP_RUN   = $(VENV)/.installed-run
STAMP_TEST  = $(VENV)/.installed-test
STAMP_BENCH = $(VENV)/.installed-bench

.PHONY: demo test lint typecheck check bench clean help

help:
	@echo "make demo   - install into $(VENV) and run the whole pipeline on the bundled demo data"
	@echo "make test   - install test extras and run the test suite"
	@echo "make check  - ruff + mypy"
	@echo "make bench  - tenure benchmark, tiers S and M (see benchmarks/README.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	@echo "Installing geotools and its runtime dependencies into $(VENV) ..."
	$(PIP) -e .
	touch $@

$(STAMP_TEST): $(STAMP_RUN)
	@echo "Adding the test and dev extras (pytest, playwright, ruff, mypy...) ..."
	$(PIP) -e ".[test,dev]"
	touch $@

$(STAMP_BENCH): $(STAMP_RUN)
	$(PIP) -e ".[bench]"
	touch $@

demo: $(STAMP_RUN)
	$(BIN)/geotools demo --overwrite

test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check .

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

check: lint typecheck

bench: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run_tenure.py --tiers S,M

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
