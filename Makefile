# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test deps deps-test deps-node system-deps lint demo bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

deps: $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .

deps-test: $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"

system-deps:
	bash deploy/install-system-deps.sh

# Node test tooling (package.json; axe-core for the accessibility checks), reinstalled
# when the lock file changes. .ci/run runs `npm ci` itself first.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

deps-node: node_modules/.package-lock.json

demo: deps
	$(PY) -m data.demo

run: deps demo
	$(PY) app.py

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: system-deps deps-test deps-node lint
	$(PY) -m pytest

bench: deps-test
	$(PY) -m bench

clean:
	rm -rf $(VENV) var tests/artifacts node_modules
