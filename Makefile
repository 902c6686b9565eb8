# Every target creates .venv when it is missing and installs what it needs.
# torch comes from pip on purpose: uv and poetry do not see the wheels on local disk.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint bench clean-cache

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "torch>=2.9" "torchvision>=0.24"
	$(BIN)/pip install --quiet -e ".[dev,lite]"
	touch $(STAMP)

# The whole loop with no camera: generate, print, simulate, score and report, on the
# default scenes; it prints where each file is and ends with the report PDF.
demo: $(STAMP)
	$(BIN)/patch-harness demo

lint: $(STAMP)
	$(BIN)/ruff check harness tests bench
	$(BIN)/ruff format --check harness tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

test-all: lint
	$(BIN)/python -m pytest -q -m ""

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench.models
	$(BIN)/python -m bench.generate
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.score
