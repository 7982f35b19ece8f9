# The two entry points the README promises. PYTHON may name another interpreter.
PYTHON ?= python3

.PHONY: demo test lint

demo:
	$(PYTHON) -m pip install --quiet ".[all]"
	$(PYTHON) -m pixelpipe demo

test:
	$(PYTHON) -m pip install --quiet -e ".[test]"
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m mypy
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m mypy
