# The two commands: `make run` and `make test`. Each bootstraps .venv with what it needs:
# `run` the runtime (requirements.txt) only; test, lint, bench and mutate the development set
# (requirements-dev.txt, which includes the runtime). A stamp named after the checksums of the
# files it installed makes a changed file reinstall.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_SUM := $(shell cksum requirements.txt | cut -d' ' -f1)
DEV_SUM := $(RUNTIME_SUM)-$(shell cksum requirements-dev.txt | cut -d' ' -f1)
STAMP := $(VENV)/.runtime-$(RUNTIME_SUM)
DEV_STAMP := $(VENV)/.dev-$(DEV_SUM)
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test lint format bench mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.runtime-*
	touch $(STAMP)

# The development set includes the runtime, so it leaves both stamps current.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.runtime-* $(VENV)/.dev-*
	touch $(STAMP) $(DEV_STAMP)

run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	@echo ""
	@echo "SRO Activity Log: http://$(HOST):$(PORT)/  (API: http://$(HOST):$(PORT)/api/v1/openapi.json)"
	@echo ""
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) wsgi:app

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Coverage of api/ (lines and branches) is measured on the SQLite run and printed, not gated.
test: lint
	rm -f .coverage
	env -u TEST_DATABASE_URL $(BIN)/pytest --cov=api --cov-branch --cov-report=
	$(BIN)/python -m tests.coverage_totals
	@if [ -n "$$POSTGRES_TEST_URL" ]; then \
		echo "== the same suite on PostgreSQL =="; \
		TEST_DATABASE_URL="$$POSTGRES_TEST_URL" $(BIN)/pytest -m "not browser"; \
	fi

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# Mutation testing of the rules that guard people and data (see docs/testing.md); not in CI.
mutate: $(DEV_STAMP)
	$(BIN)/python -m tests.mutation

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage mutants
