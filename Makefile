# The README's quick start: `make demo` and `make test`. Both create the environment when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint screenshots bench clean venv package package-smoke

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m monitor.cli.qtcheck
	$(BIN)/monitor demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	@if [ -n "$$MONITOR_TEST_DATABASE_URL" ]; then echo "== PostgreSQL half: on ($$MONITOR_TEST_DATABASE_URL)"; \
	else echo "== PostgreSQL half: SKIPPED (MONITOR_TEST_DATABASE_URL not set; see README, Development)"; fi
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# Benchmarks with budgets (issue 9): figures next to a bare baseline measured in the same run; not a test.
bench: $(STAMP)
	$(BIN)/python bench/run.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m monitor.ui.screenshots docs light
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m monitor.ui.screenshots docs/dark dark

# A one-folder desktop bundle (issue 8; packaging/README.md): build/dist/withdrawal-monitor/.
package: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[package]"
	$(BIN)/pyinstaller --noconfirm --clean packaging/withdrawal-monitor.spec --distpath build/dist --workpath build/pyinstaller

package-smoke:
	$(BIN)/python packaging/smoke_test.py build/dist/withdrawal-monitor/withdrawal-monitor

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
