# MLP: the two commands are `make up` and `make test`. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMPS := .make
export PATH := $(BIN):$(PATH)
export BENTOML_DO_NOT_TRACK := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help up test setup lint format check-node browser clean

help:
	@echo "make up    install everything and start MLP at http://127.0.0.1:$${MLP_PORT:-8000}"
	@echo "make test  install everything and run the whole test suite"
	@echo "make lint  ruff, mypy, import-linter, eslint/prettier"

$(STAMPS):
	@mkdir -p $(STAMPS)

# Python: torch pinned first (local CPU wheel), then everything from the lock file.
$(STAMPS)/python: constraints.txt requirements.in setup.cfg | $(STAMPS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
		{ echo "MLP needs Python 3.11 or newer as $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -r requirements.in
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

check-node:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "Node.js and npm are missing: install them (Debian: apt-get install -y nodejs npm) and re-run make"; \
		exit 1; }

# Node tools run by the hub (configurable-http-proxy), installed locally from the lock file.
$(STAMPS)/node: package.json package-lock.json | $(STAMPS) check-node
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The lab extension: built with jlpm from jupyter_ext/, installed prebuilt by pip.
LABEXT_SRC := $(shell find jupyter_ext/src jupyter_ext/style jupyter_ext/mlp_jupyter_ext jupyter_ext/jupyter-config -type f -not -path '*/labextension/*' -not -path '*/__pycache__/*' 2>/dev/null) \
	jupyter_ext/package.json jupyter_ext/yarn.lock jupyter_ext/pyproject.toml
$(STAMPS)/labext: $(STAMPS)/python $(LABEXT_SRC) | check-node
	cd jupyter_ext && $(BIN)/jlpm install --immutable && $(BIN)/jlpm build:prod
	$(BIN)/pip install -q --no-deps --no-build-isolation -e ./jupyter_ext
	touch $@

$(STAMPS)/kernels: $(STAMPS)/python $(wildcard kernels/*/kernel.json)
	$(BIN)/mlp kernels install
	touch $@

setup: $(STAMPS)/python $(STAMPS)/node $(STAMPS)/labext $(STAMPS)/kernels

# Debian's chromium for the browser tests (Playwright never downloads its own browser).
browser:
	@command -v chromium >/dev/null || { \
		echo "installing Debian chromium for the browser tests"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

up: setup
	$(BIN)/mlp up

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mlp mlp_magics hub_config pipelines_as_notebooks bentos jupyter_ext/mlp_jupyter_ext
	$(BIN)/lint-imports
	cd jupyter_ext && $(BIN)/jlpm lint:check

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup browser lint
	cd jupyter_ext && $(BIN)/jlpm test
	$(BIN)/pytest

clean:
	rm -rf $(STAMPS) $(VENV) node_modules jupyter_ext/node_modules jupyter_ext/lib
