# Ketenregie — every target creates or refreshes .venv as needed. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
FLASK  := $(BIN)/flask --app api

.DEFAULT_GOAL := help
.PHONY: help run test lint bench simulate migrate seed-demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Ketenregie needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@ $(VENV)/.installed-run

migrate: $(VENV)/.installed-run ## Apply database migrations (DATABASE_URL, default: SQLite in instance/)
	$(FLASK) db upgrade

seed-demo: migrate ## Load the demo organisations, users and cases (idempotent)
	$(FLASK) seed-demo

run: seed-demo ## Run the web app with the timer sweeper on http://$(HOST):$(PORT) (PORT=8080 for another port)
	$(FLASK) serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test ## Layer rule (import-linter), ruff and mypy
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy engine

test: lint ## Lint, then the whole test suite (PostgreSQL and browser tests run when available)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test ## Benchmarks: medians beside raw SpiffWorkflow, in one run
	$(BIN)/python -m bench

N ?= 300
simulate: $(VENV)/.installed-test ## A simulated year of N cases (N=300) through the API; DATABASE_URL for PostgreSQL
	$(BIN)/python -m tests.simulation --cases $(N)

clean: ## Remove the virtualenv and caches (keeps the database in instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
