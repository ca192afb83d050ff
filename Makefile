# The few commands people run. Everything goes into a local virtual environment, .venv/.
#
#   make lab     start the course: set up what is missing, then JupyterLab on notebooks/
#   make test    run every test (sets up what is missing first): unit tests and notebooks
#   make setup   only the set-up: system tools, .venv, vilab with its test tools
#   make lint    ruff check + format check
#   make bench   the speed benchmarks (prints ratios measured side by side)
#
# `make setup` is cheap when nothing changed: the Python part reruns only when
# pyproject.toml is newer than the stamp file .venv/.setup-done (delete it to force a
# reinstall). The system tools (graphviz's `dot` for model graphs, Chromium for the browser
# tests; listed in apt.txt and APT_PACKAGES) are installed with apt-get when missing and we
# are root or may sudo without a password; otherwise it prints what to install and goes on.
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
STAMP := $(VENV)/.setup-done
# apt.txt is what a JupyterHub/Binder image needs; chromium only runs the browser tests.
APT_PACKAGES ?= $(shell cat apt.txt) chromium

.PHONY: setup system-packages test lint format bench lab

setup: system-packages $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

# One line per package: its command is looked up first, so this costs nothing when present.
system-packages:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
	    case $$pkg in graphviz) cmd=dot ;; *) cmd=$$pkg ;; esac; \
	    command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	else \
	    echo "Missing system packages:$$missing (the tests that need them will skip)."; \
	    echo "  Debian/Ubuntu: sudo apt-get install$$missing"; \
	    case "$$missing" in *graphviz*) \
	        echo "  conda: conda install -c conda-forge graphviz   macOS: brew install graphviz";; \
	    esac; \
	    exit 0; \
	fi; \
	echo "Installing system packages:$$missing"; \
	$$sudo apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check vilab tests benchmarks
	$(BIN)/ruff format --check vilab tests benchmarks

format: setup
	$(BIN)/ruff format vilab tests benchmarks
	$(BIN)/ruff check --fix vilab tests benchmarks

bench: setup
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_panel.py
	$(BIN)/python benchmarks/bench_vae.py
	$(BIN)/python benchmarks/bench_cold_start.py

lab: setup
	$(BIN)/jupyter lab notebooks/
