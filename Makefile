# scicurate: set-up, demo, tests, lint and benchmarks. Needs only python3 (>= 3.11) and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS  := .tools
UV_VERSION := 0.13.8
# Use uv from PATH when there is one; otherwise bootstrap a pinned copy into .tools/.
UV ?= $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/uv-venv/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced
# Label Studio cannot live in .venv (its pins conflict with Prefect's): a venv of its own.
LS_VENV := .venv-labelstudio
LS_STAMP := $(LS_VENV)/.synced
# LLaMA-Factory (the trainer check) pins datasets and transformers below .venv's: a venv of its own.
LF_VENV := .venv-llamafactory
LF_STAMP := $(LF_VENV)/.synced
LF_STUB := requirements/stubs/torchaudio

# Pass a machine's local wheel folder (the standard pip variable) on to uv.
ifdef PIP_FIND_LINKS
export UV_FIND_LINKS ?= $(PIP_FIND_LINKS)
endif
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Prefect offline: patient ephemeral server, no telemetry.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 60
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: help setup labelstudio llamafactory check-trainers chromium tesseract demo test lint format bench clean review-model

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(TOOLS)/uv-venv/bin/uv:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "python3 >= 3.11 is required")'
	$(PYTHON) -m venv $(TOOLS)/uv-venv
	$(TOOLS)/uv-venv/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# torch is not in the lock: PyPI's Linux wheel drags in several GB of CUDA libraries. The
# Nougat tests need only a CPU build, so a CPU wheel from the machine's local wheel folder
# (PIP_FIND_LINKS) is installed when there is one; otherwise those tests skip and GPU users
# install the torch that fits their machine (see the README).
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --inexact --python $(PYTHON)
	@wheel=$$(ls $${UV_FIND_LINKS:-/nonexistent}/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n1); \
	if [ -n "$$wheel" ]; then \
	  echo "installing the local CPU torch wheel $$(basename $$wheel) (Nougat tests)"; \
	  $(UV) pip install --python $(VENV) --quiet "$$wheel" \
	    || echo "could not install $$(basename $$wheel): the Nougat tests will skip"; \
	else echo "no local CPU torch wheel: the Nougat tests will skip"; fi
	@touch $@

setup: $(STAMP) ## create .venv from uv.lock (run by every other target)

$(LS_STAMP): requirements/labelstudio-server.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(LS_VENV)
	$(UV) pip sync --quiet --python $(LS_VENV) requirements/labelstudio-server.txt
	@touch $@

labelstudio: $(LS_STAMP) ## install the Label Studio server (1.23.2) into .venv-labelstudio

# torch is the CPU build (2.13.0+cpu), from the machine's local wheel folder (PIP_FIND_LINKS) or
# PyTorch's CPU wheel index (UV_FIND_LINKS or UV_EXTRA_INDEX_URL); the lock has no CUDA
# libraries. torchaudio is a stub (see requirements/llamafactory-overrides.txt).
$(LF_STAMP): requirements/llamafactory.txt $(LF_STUB)/pyproject.toml $(LF_STUB)/torchaudio/__init__.py | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(LF_VENV)
	$(UV) pip sync --quiet --python $(LF_VENV) requirements/llamafactory.txt || { \
	  echo "could not install requirements/llamafactory.txt: torch==2.13.0+cpu needs a local wheel" \
	    "folder (PIP_FIND_LINKS) or PyTorch's CPU index (UV_EXTRA_INDEX_URL)"; exit 1; }
	$(UV) pip install --quiet --python $(LF_VENV) --no-deps ./$(LF_STUB)
	@touch $@

llamafactory: $(LF_STAMP) ## install LLaMA-Factory (0.9.5, CPU torch) into .venv-llamafactory

check-trainers: $(STAMP) $(LF_STAMP) ## LLaMA-Factory loads the demo's datasets and trains 2 steps on each
	SCICURATE_REQUIRE_LLAMAFACTORY=1 $(UV) run --no-sync pytest -q tests/trainers

chromium: ## install Debian's chromium when absent (the report and labeling tests render in it)
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends chromium fonts-dejavu-core; }

# OCR for pages without a text layer (PyMuPDF drives Tesseract). Extra languages: install
# tesseract-ocr-<lang> and set SCICURATE_OCR_LANGUAGES (e.g. eng+deu).
tesseract: ## install Debian's tesseract-ocr and its English data when absent (OCR)
	@{ command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx eng; } || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends tesseract-ocr tesseract-ocr-eng; }

demo: $(STAMP) $(LS_STAMP) ## run the pipeline offline on the bundled sample
	$(UV) run --no-sync scicurate demo

# The trainer check (tests/trainers, about 2 minutes warm) is part of `make test` too, wherever
# the CPU torch for LLaMA-Factory can be installed; where it cannot, those tests skip and say so.
test: $(STAMP) $(LS_STAMP) chromium tesseract ## run the tests (they start Label Studio, Prefect, S3 locally)
	@$(MAKE) --no-print-directory $(LF_STAMP) \
	  || echo "LLaMA-Factory could not be installed: the trainer check (tests/trainers) will skip"
	SCICURATE_REQUIRE_LABEL_STUDIO=1 SCICURATE_REQUIRE_CHROMIUM=1 SCICURATE_REQUIRE_TESSERACT=1 \
	  SCICURATE_REQUIRE_LLAMAFACTORY=$$([ -f $(LF_STAMP) ] && echo 1 || echo 0) \
	  $(UV) run --no-sync pytest

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(UV) run --no-sync ruff check --fix .
	$(UV) run --no-sync ruff format .

bench: $(STAMP) ## run every benchmark in bench/ (prints JSON lines)
	@set -e; for b in bench/bench_*.py; do echo "== $$b"; $(UV) run --no-sync python $$b; done

clean: ## remove the environments and local data (never ../shared)
	rm -rf $(VENV) $(LS_VENV) $(LF_VENV) $(TOOLS) .scicurate .pytest_cache .mypy_cache .ruff_cache

# The shipped review-aspect model: trained on the shared ICLR 2023/2024 structured reviews
# (held-out forums excluded); the same file and limit give the same model.
REVIEWS_V2 ?= ../shared/fixtures/openreview/reviews_v2/iclr2023_2024_official_reviews.jsonl.gz
REVIEW_MODEL_MAX ?= 8000
review-model: $(STAMP) ## retrain the shipped review model (reviews/default_model) from REVIEWS_V2
	$(VENV)/bin/python -m reviews.train_default $(REVIEWS_V2) --max-reviews $(REVIEW_MODEL_MAX)
