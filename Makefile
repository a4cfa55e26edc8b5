# imgate: `make run` serves the demo workspace, `make test` runs every test.
.DEFAULT_GOAL := help
.PHONY: help install run test lint format docs bench clean

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

help:
	@echo "make run     install, seed the demo workspace and serve on 127.0.0.1:8080"
	@echo "make test    run the test suite"
	@echo "make lint    ruff + mypy --strict"
	@echo "make format  ruff format and import order"
	@echo "make docs    regenerate docs/parameters.md and the README's error table"
	@echo "make bench   the gateway side by side with thumbor, bare pyvips and nginx"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/imgate demo
	@echo "Dashboard: http://$${IMGATE_HOST:-127.0.0.1}:$${IMGATE_PORT:-8080}/_/dashboard/ (with mailer = console, the sign-in code is printed in this log)"
	$(BIN)/imgate serve

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

docs: install
	$(BIN)/python -m gateway.docs

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var bench-results .mypy_cache .ruff_cache .pytest_cache .hypothesis
