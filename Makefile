# On a fresh clone `make run` and `make test` are the whole set-up: they create .venv with
# Python 3.11+ and (re)install the project whenever pyproject.toml changed.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench chromium clean-data

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 oder neuer wird benötigt." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Extra options: make run ARGS="--api-port 9000 --data-dir /tmp/demo"
run: $(STAMP)
	$(BIN)/mitwirken dev $(ARGS)

# Browser tests use Debian's Chromium; install it when missing and we may (root), else skip.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
	    echo "Chromium nicht installiert; Browser-Tests werden übersprungen."; \
	  fi; }

test: $(STAMP) chromium
	$(BIN)/pytest $(PYTEST_ARGS)

# The fast lane: everything but end-to-end, browser, fuzz and slow tests (pytest markers in
# pyproject.toml), on every core (pytest-xdist); no Chromium needed. `make test` runs them
# all. Measured time in README.md (about 2 min on the 2 shared cores: not yet under a minute).
test-fast: $(STAMP)
	$(BIN)/pytest -q -n auto -m "not e2e and not browser and not fuzz and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean-data:
	rm -rf .data
