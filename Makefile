# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run dev live test test-mongo deps deps-test node-deps system-deps lint demo bench bench-load audit clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

deps: $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .

deps-test: $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"

system-deps:
	bash deploy/install-system-deps.sh

# Node tooling for the tests (axe-core for the accessibility checks, mingo for the
# conformance suite), exactly as locked.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

demo: deps
	$(PY) -m data.demo

# gunicorn, as the container serves (one worker with the in-process engine).
run: deps demo
	$(PY) -m gunicorn --config deploy/gunicorn.conf.py app:server

# A live feed for an app started with `make run`: a batch of page views appended to
# the demo's web-analytics dataset every second (watch its KPI page move).
live:
	$(PY) -m demo.live

# Flask's development server, restarted when a source file changes.
dev: deps demo
	$(PY) app.py --reload

lint: deps-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

# Three pytest-xdist workers on two cores: a serial run waited most of its time
# (on browsers, servers and subprocesses), using ~40 % of one core. Every worker
# makes its own database, redis-server, S3 server and free ports (tests/conftest.py);
# worksteal evens out the long browser tests. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 3

test: system-deps deps-test node-deps lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

audit: deps-test
	$(PY) .ci/audit_dependencies.py

# The pipeline oracle tests and the conformance cases against a real MongoDB >= 7.0
# at MONGO_URI (each compared with the in-process engine), e.g. after
# `docker compose up -d mongo`: MONGO_URI=mongodb://127.0.0.1:27017 make test-mongo
test-mongo: deps-test node-deps
	@test -n "$(MONGO_URI)" || { echo "test-mongo: set MONGO_URI to a MongoDB >= 7.0 server"; exit 2; }
	$(PY) -m pytest -m "mongo or conformance"

bench: deps-test
	$(PY) -m bench

# wrk against gunicorn (needs Debian's wrk: apt-get install wrk); not run in CI.
bench-load: deps-test
	nice -n 10 $(PY) -m bench.load

clean:
	rm -rf $(VENV) var tests/artifacts node_modules
