# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test deps deps-test system-deps lint demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

deps: $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .

deps-test: $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"

system-deps:
	bash deploy/install-system-deps.sh

demo: deps
	$(PY) -m data.demo

run: deps demo
	$(PY) app.py

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

test: system-deps deps-test lint
	$(PY) -m pytest

bench: deps-test
	$(PY) -m bench

clean:
	rm -rf $(VENV) var tests/artifacts
