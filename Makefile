# `make demo` and `make test` each set up .venv themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CORE := $(VENV)/.installed-core
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(CORE): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(DEV): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@ $(CORE)

demo: $(CORE)
	$(VENV)/bin/catenax lesson --out out/lesson

test: $(DEV)
	$(VENV)/bin/ruff check src tests benchmarks examples conftest.py
	$(VENV)/bin/ruff format --check src tests benchmarks examples conftest.py
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

lint: $(DEV)
	$(VENV)/bin/ruff check --fix src tests benchmarks examples conftest.py
	$(VENV)/bin/ruff format src tests benchmarks examples conftest.py

bench: $(DEV)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/lesson.py

clean:
	rm -rf $(VENV) out .pytest_cache
