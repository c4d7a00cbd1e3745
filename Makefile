# Quick start: `make brief` builds output/brief.pdf from inputs/; `make test` runs the suite.
# Both set everything up first: system libraries (with apt-get when missing) and .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# chromium and chromium-driver: tests/test_serve.py loads the served brief in a real, headless browser.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils fonts-dejavu-core \
	chromium chromium-driver

.PHONY: brief test lint lint-code format-check bench system clean inputs docs serve

brief: $(STAMP)
	$(BIN)/briefgen build --inputs inputs --output output

# The gates, configured in pyproject.toml: `make lint` is ruff check, ruff format --check and mypy.
# `make test` runs all of it before pytest.
test: $(STAMP) lint
	$(BIN)/pytest -q

lint: lint-code format-check

lint-code: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

format-check: $(STAMP)
	$(BIN)/ruff format --check .

# The live preview: http://127.0.0.1:8000/, rebuilt and reloaded on every change to inputs/.
serve: $(STAMP)
	$(BIN)/briefgen serve --inputs inputs --output output

# The user guide as a site (site/), as CI builds it.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# Regenerate the illustrative sample in inputs/ (deterministic).
inputs: $(STAMP)
	$(BIN)/python scripts/make_sample_inputs.py inputs

system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (install them with your package manager)"; exit 1; fi; \
	fi

$(STAMP): pyproject.toml | system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) output/*.pdf output/*.html output/charts output/static output/fonts output/.cache site build dist
