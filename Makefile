# Needs only python3 (3.11+) with venv and pip; everything else is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium
# The CyberTipline schema is not shipped; the demo's clearinghouse part uses it when present.
SCHEMA_REF := $(wildcard $(CURDIR)/../shared/reference/cybertipline/cyber_tipline.xsd)

.PHONY: demo test lint typecheck unit bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	BRIGHTLINE_HOME=$${BRIGHTLINE_HOME:-$(CURDIR)/.brightline-demo} \
	BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH=$${BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH:-$(SCHEMA_REF)} \
	$(BIN)/brightline demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The console's browser tests drive Debian's chromium; install it when missing (needs root or sudo).
browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	}

# Test files are spread over one worker per CPU (a file stays on one worker, so module fixtures
# are built once); on two cores this halves the run and keeps CI under its 15 minutes.
unit: $(STAMP) browser
	$(BIN)/pytest -q -n auto --dist loadfile

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/index_benchmark.py
	$(BIN)/python benchmarks/hashing_benchmark.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .brightline-demo
