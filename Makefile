# geotools: two commands on a fresh machine.
#   make demo   create .venv with the system python3, install geotools, run the demo pipeline
#   make test   install the test extras and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint typecheck check bench clean help

help:
	@echo "make demo   - install into $(VENV) and run the whole pipeline on the bundled demo data"
	@echo "make test   - install test extras and run the test suite"
	@echo "make check  - ruff + mypy"
	@echo "make bench  - tenure benchmark, tiers S and M (see benchmarks/README.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,dev,bench]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/geotools demo --overwrite

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

bench: $(STAMP)
	$(BIN)/python benchmarks/run_tenure.py --tiers S,M

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
