# Two commands: `make run` starts the platform, `make test` runs the suite.
# Both create .venv and install the pinned dependencies when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
BROWSER := /usr/bin/chromium /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

.PHONY: run test lint format

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cem up

test: $(STAMP) $(BROWSER)
	$(BIN)/python -m pytest $(ARGS)

# The dashboard's browser tests (tests/dashboard) drive Debian's Chromium, with a CJK font;
# installed when missing (as root, or with sudo), nothing to do when present.
$(BROWSER):
	sh tests/dashboard/install-browser.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Fills the running platform (`make run`) with a simulated fleet through the gateway;
# e.g. `make demo ARGS="--small"` or `make demo ARGS="--owners 2000 --days 14"`.
.PHONY: demo
demo: $(STAMP)
	$(BIN)/python -m simulator $(ARGS)
