"""Shared fixtures: a fresh PostgreSQL database per run, private Redis and S3 servers,
and apps built through the factory with overrides."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from data import postgres
from tests.services import RedisServer, free_port

# CI explores a fixed sequence of examples so that a landing is never decided by a
# rare draw; local runs keep exploring new random examples (and report any failure
# with the example that reproduces it). Neither has a per-example deadline: tests
# assert behaviour, not timing, and a loaded machine is not a failure.
hypothesis_settings.register_profile("local", deadline=None)
hypothesis_settings.register_profile(
    "ci", derandomize=True, print_blob=True, deadline=None
)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "local")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """A thread ended by SystemExit ended normally, as Python's own thread hook
    says; pytest's hook reports it. dash.testing stops its server that way, in
    every thread the server started (request, socket and browser pipe threads),
    and on a loaded machine such a thread may only end during a later test."""
    report = threading.excepthook

    def report_unless_system_exit(args: threading.ExceptHookArgs) -> None:
        if not issubclass(args.exc_type, SystemExit):
            report(args)

    threading.excepthook = report_unless_system_exit


ARTIFACTS = Path(__file__).parent / "artifacts"
SAMPLE_CSV = Path(__file__).resolve().parents[1] / "demo" / "sales.csv"
POSTGRES_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"
)


@pytest.fixture(scope="session")
def database_url():
    """A database created for this test run and dropped at its end."""
    url = f"{POSTGRES_SERVER}/ib_test_{uuid.uuid4().hex[:12]}"
    postgres.ensure_database(url)
    yield url
    postgres.drop_database(url)


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server for the whole run."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on 127.0.0.1 with a random port, with fake credentials."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def build_app(default_database_url: str, store_dir: Path, **overrides):
    """An app through the factory with the test defaults; overrides win (also a
    `database_url` of their own)."""
    from app import create_app

    settings = {
        "app_env": "test",
        "database_url": default_database_url,
        "local_store_dir": str(store_dir),
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "log_level": "WARNING",
        # Tests register many accounts from 127.0.0.1; rate-limit tests set
        # their own limits.
        "login_rate_limit": "1000/minute",
        "register_rate_limit": "1000/minute",
        # Never the shared Redis that `make` exports for `make run`.
        "redis_url": None,
        # No report-schedule ticker: tests drive schedules with their own clock
        # (a ticker would deliver other tests' schedules from the shared database).
        "report_schedule_interval_s": 0,
        # bcrypt's minimum cost: the suite registers thousands of accounts, and
        # cost 12 made each registration and sign-in ~0.25 s (the default and the
        # production floor are tested in test_factory.py).
        "password_hash_rounds": 4,
        **overrides,
    }
    return create_app(settings)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app through the factory; keyword overrides win over test defaults."""
    built = []

    def _make(**overrides):
        app = build_app(database_url, tmp_path / f"objects-{len(built)}", **overrides)
        built.append(app)
        return app

    yield _make
    for app in built:
        app.server.extensions["insightboard"].close()


@pytest.fixture
def app(make_app):
    """An app with the in-process MongoDB engine and no Redis."""
    return make_app()


@pytest.fixture
def client(app):
    """A Flask test client for `app`."""
    return app.server.test_client()


def register_user(client, email: str | None = None, password: str | None = None):
    """Register an account through the API and sign it in: {"id", "email",
    "password", "headers"} with `Authorization: Bearer <jwt>`."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    password = password or f"pw-{uuid.uuid4().hex}"
    credentials = {"email": email, "password": password}
    registered = client.post("/api/auth/register", json=credentials)
    assert registered.status_code == 201, registered.get_json()
    signed_in = client.post("/api/auth/login", json=credentials)
    assert signed_in.status_code == 200, signed_in.get_json()
    token = signed_in.get_json()["access_token"]
    return {
        "id": registered.get_json()["id"],
        "email": email.strip().lower(),
        "password": password,
        "headers": {"Authorization": f"Bearer {token}"},
    }


@pytest.fixture
def new_user():
    """`new_user(client)` registers and signs in an account (see register_user)."""
    return register_user


def pytest_setup_options():
    """Chromium options for dash[testing]: a laptop-sized window."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.add_argument("--window-size=1366,768")
    options.add_argument("--disable-background-networking")
    options.add_argument("--disable-component-update")
    return options
