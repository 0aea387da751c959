# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run dev test deps deps-test system-deps lint demo bench bench-load audit clean

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

# gunicorn, as the container serves (one worker with the in-process engine).
run: deps demo
	$(PY) -m gunicorn --config deploy/gunicorn.conf.py app:server

# Flask's development server, restarted when a source file changes.
dev: deps demo
	$(PY) app.py --reload

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: system-deps deps-test lint
	$(PY) -m pytest

audit: deps-test
	$(PY) .ci/audit_dependencies.py

bench: deps-test
	$(PY) -m bench

# wrk against gunicorn (needs Debian's wrk: apt-get install wrk); not run in CI.
bench-load: deps-test
	nice -n 10 $(PY) -m bench.load

clean:
	rm -rf $(VENV) var tests/artifacts
