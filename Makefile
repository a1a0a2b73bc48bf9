# The two commands of the README: `make run` runs the demo community, `make test` runs every check.
SHELL := /bin/bash
VENV := .venv/bin
PORT ?= 8123
COVERAGE_FLOOR ?= 90

.PHONY: run test lint types pytest bootstrap system-packages clean

bootstrap:
	@scripts/bootstrap.sh

system-packages:
	@scripts/system-packages.sh

run: bootstrap system-packages
	@PORT=$(PORT) $(VENV)/community-hub run --port $(PORT)

test: bootstrap system-packages lint types pytest

lint:
	@echo "==> ruff"
	@$(VENV)/ruff check .

types:
	@echo "==> mypy --strict"
	@$(VENV)/mypy hub devices custom_components

pytest:
	@echo "==> pytest (coverage floor $(COVERAGE_FLOOR)%)"
	@$(VENV)/pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

clean:
	rm -rf .venv .demo .mypy_cache .ruff_cache .coverage
