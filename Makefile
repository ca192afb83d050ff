# The few commands people run. Everything goes into a local virtual environment, .venv/.
#
#   make setup   create .venv and install vilab with its test tools
#   make test    run every test: unit tests and the notebooks (nbval, smoke mode)
#   make lint    ruff check + format check
#   make bench   the speed benchmarks (prints ratios measured side by side)
#   make lab     start JupyterLab on the tutorials
#
# PyTorch: TORCH_SPEC picks the build. The default, torch==2.13.0, is the CPU wheel this
# course's machines keep on local disk. Elsewhere, pick the build from PyTorch's own index:
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu      (CPU only, small)
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cu126    (NVIDIA GPU)

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
BIN := $(VENV)/bin

.PHONY: setup test lint format bench lab

setup:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/pip install -e ".[dev]"

test:
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check vilab tests benchmarks
	$(BIN)/ruff format --check vilab tests benchmarks

format:
	$(BIN)/ruff format vilab tests benchmarks
	$(BIN)/ruff check --fix vilab tests benchmarks

bench:
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_panel.py
	$(BIN)/python benchmarks/bench_vae.py

lab:
	$(BIN)/jupyter lab notebooks/
