# arbqos: `make demo` runs the whole stack locally, `make test` runs every check,
# `make check` is the fast lane (lint, types, the tests that start no process; < 60 s).
# Setup is idempotent: each step checks what is already there and says what it does.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.arbqos-installed
STAMP_NPM := node_modules/.arbqos-installed
# pip prints a warning per missing local index folder on some machines; keep real errors.
PIP_FILTER := { grep -v "^WARNING: Location '" || true; }

.PHONY: setup setup-python setup-system setup-node test check lint typecheck pytest pytest-fast wheel-check demo bench render evidence clean

setup: setup-system setup-python setup-node

setup-python: $(STAMP_PY)

$(STAMP_PY): pyproject.toml constraints.txt
	@if [ ! -x $(BIN)/python ]; then echo "setup: creating virtualenv $(VENV)"; $(PYTHON) -m venv $(VENV); fi
	@echo "setup: installing arbqos and its dev tools into $(VENV) (pip, pinned by constraints.txt)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | $(PIP_FILTER)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,demo]' 2>&1 | $(PIP_FILTER)
	@touch $@
	@echo "setup: python packages ready"

setup-system:
	@missing=""; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v amtool >/dev/null 2>&1 || missing="$$missing prometheus-alertmanager"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != "0" ]; then echo "setup: need Debian packages:$$missing (run as root or install them)"; exit 1; fi; \
	  echo "setup: apt-get update"; apt-get update -q >/dev/null; \
	  echo "setup: apt-get install$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	else echo "setup: prometheus, promtool, alertmanager and amtool already installed"; fi

setup-node: $(STAMP_NPM)

$(STAMP_NPM): package.json package-lock.json
	@echo "setup: npm ci (anvil and solc-js from package-lock.json)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@
	@echo "setup: node tools ready: $$(./node_modules/.bin/anvil --version | head -n1)"

lint: setup-python
	@echo "check: ruff (lint and format)"
	@$(BIN)/ruff check src tests bench
	@$(BIN)/ruff format --check --quiet src tests bench
	@echo "check: import-linter (product never imports the harness; layers; no cycles)"
	@$(BIN)/lint-imports --no-cache >/dev/null || $(BIN)/lint-imports --no-cache

typecheck: setup-python
	@echo "check: mypy src/"
	@$(BIN)/mypy

# Two workers, one test file each at a time: the two end-to-end demo modules (one whole stack
# each, mostly waiting on real time) run side by side with the rest.
pytest: setup
	@echo "check: pytest -n 2 --dist loadfile (every test)"
	@$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=10

pytest-fast: setup
	@echo "check: pytest --fast -n 2 (tests that start no process; starting one fails the test)"
	@$(BIN)/python -m pytest -q -p no:cacheprovider --fast -n 2 --dist worksteal --durations=5

test: setup lint typecheck pytest

# The three steps run side by side; each prints its output when it ends.
check: setup
	@started=$$(date +%s); \
	$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck pytest-fast && \
	echo "check: passed in $$(( $$(date +%s) - started )) s (\`make test\` runs every test)"

wheel-check: setup-python
	@$(BIN)/python -m tests.support.wheel

demo: setup
	@$(BIN)/arbqos demo

bench: setup
	@set -e; for b in bench/*.py; do echo "bench: $$b"; $(BIN)/python $$b; done

render: setup-python
	@$(BIN)/arbqos render

evidence: setup
	@$(BIN)/arbqos evidence --out evidence

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache build src/*.egg-info
