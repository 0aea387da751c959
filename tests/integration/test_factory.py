"""The application factory: independent apps, overrides, proxy trust, entry points."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request
from plotly.io.json import to_json_plotly

from config import SettingsError
from data.cache import cache_get, cache_set
from tests.services import free_port, start_app_process, stop_process, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


def services_of(app):
    """The Services bundle an app owns."""
    return app.server.extensions["insightboard"]


def test_overrides_reach_the_settings_and_the_flask_config(make_app):
    app = make_app(max_upload_mb=3, mongo_db="overridden")
    settings = services_of(app).settings
    assert settings.mongo_db == "overridden"
    assert services_of(app).mongo.name == "overridden"
    assert app.server.config["MAX_CONTENT_LENGTH"] == 4 * 1024 * 1024
    assert app.server.config["SECRET_KEY"] == settings.secret_key


def test_two_apps_do_not_share_mongo_data(make_app):
    first, second = make_app(), make_app()
    services_of(first).mongo["datasets"].insert_one({"_id": "only-in-first"})
    assert services_of(first).mongo["datasets"].count_documents({}) == 1
    assert services_of(second).mongo["datasets"].count_documents({}) == 0


def test_two_apps_do_not_share_object_store_directories(make_app):
    first, second = make_app(), make_app()
    services_of(first).store.put("reports/a.txt", io.BytesIO(b"first"))
    assert services_of(first).store.get("reports/a.txt") == b"first"
    assert services_of(second).store.exists("reports/a.txt") is False
    assert services_of(first).store.root != services_of(second).store.root


def test_two_apps_do_not_share_in_process_caches(make_app):
    first, second = make_app(), make_app()
    with first.server.app_context():
        assert cache_set("analytics:x", {"mean": 1.5}) is True
    with second.server.app_context():
        assert cache_get("analytics:x") is None
        cache_set("analytics:x", {"mean": 9.0})
    with first.server.app_context():
        assert cache_get("analytics:x") == {"mean": 1.5}


def test_both_apps_serve_pages_and_health_side_by_side(make_app):
    clients = [make_app().server.test_client() for _ in range(2)]
    for client in clients:
        assert client.get("/").status_code == 200
        assert client.get("/healthz").get_json() == {"status": "ok"}
        assert client.get("/api/openapi.json").status_code == 200


def test_in_process_engine_shows_a_discreet_notice_in_the_shell(make_app):
    layout = make_app().server.test_client().get("/_dash-layout")
    assert layout.status_code == 200
    assert "memory-notice" in layout.get_data(as_text=True)
    assert "Set MONGO_URI" in layout.get_data(as_text=True)


@pytest.mark.parametrize(
    ("mongo_uri", "shown"),
    [(None, True), ("mongodb://127.0.0.1:9/", False)],
    ids=["in-process", "server"],
)
def test_the_memory_notice_depends_on_mongo_uri(
    make_app, monkeypatch, mongo_uri, shown
):
    """The shell shows the notice only for the in-process engine. The layout is
    built with the app's services under other settings (a server is never
    contacted: building the shell does not touch MongoDB)."""
    import app as app_module

    dash_app = make_app()
    services = dash_app.server.extensions["insightboard"]
    settings = services.settings.model_copy(update={"mongo_uri": mongo_uri})
    assert settings.in_process_mongo is shown
    monkeypatch.setattr(
        app_module,
        "get_services",
        lambda: dataclasses.replace(services, settings=settings),
    )
    with dash_app.server.test_request_context("/"):
        shell = to_json_plotly(app_module.serve_layout())
    assert ("memory-notice" in shell) is shown
    assert ("Set MONGO_URI" in shell) is shown
    assert "navbar" in shell


def _client_with_echo_route(app):
    """A client whose /test-echo-request answers with what Flask saw, ahead of the
    sign-in guard (the request object is the same one every handler gets)."""

    def echo():
        if request.path != "/test-echo-request":
            return None
        return {
            "remote_addr": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
        }

    app.server.before_request_funcs.setdefault(None, []).insert(0, echo)
    return app.server.test_client()


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "insights.example.com",
}


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(make_app):
    client = _client_with_echo_route(make_app())
    seen = client.get("/test-echo-request", headers=FORWARDED).get_json()
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "http", "host": "localhost"}


def test_forwarded_headers_are_honoured_behind_one_trusted_proxy(make_app):
    client = _client_with_echo_route(make_app(trusted_proxy_count=1))
    headers = {**FORWARDED, "X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
    seen = client.get("/test-echo-request", headers=headers).get_json()
    # Only the hop the proxy appended is trusted, never the client-supplied one.
    assert seen == {
        "remote_addr": "203.0.113.7",
        "scheme": "https",
        "host": "insights.example.com",
    }


def test_factory_refuses_production_with_the_default_secret(database_url, tmp_path):
    from app import create_app

    with pytest.raises(SettingsError, match="SECRET_KEY must be set"):
        create_app(
            {
                "app_env": "production",
                "secret_key": "dev-insecure-change-me",
                "database_url": database_url,
                "local_store_dir": str(tmp_path),
            }
        )


def test_factory_refuses_production_with_a_cheap_password_hash(database_url, tmp_path):
    from app import create_app

    with pytest.raises(SettingsError, match="PASSWORD_HASH_ROUNDS must be at least 12"):
        create_app(
            {
                "app_env": "production",
                "secret_key": "a-production-secret-key-long-enough-0123456789",
                "password_hash_rounds": 11,
                "database_url": database_url,
                "local_store_dir": str(tmp_path),
            }
        )


def test_password_hashes_cost_12_unless_configured(monkeypatch):
    from config import Settings

    monkeypatch.delenv("PASSWORD_HASH_ROUNDS", raising=False)
    assert Settings().password_hash_rounds == 12


def test_new_password_hashes_have_the_configured_cost(make_app, new_user):
    """PASSWORD_HASH_ROUNDS sets the cost of new hashes, for registrations and
    password changes alike, and of the hash an unknown e-mail is checked against."""
    from auth.passwords import dummy_hash
    from auth.service import change_password
    from auth.users import UserRepository

    app = make_app(password_hash_rounds=5)
    services = app.server.extensions["insightboard"]
    user = new_user(app.server.test_client())
    repository = UserRepository(services.postgres)
    account, stored = repository.credentials(user["email"])
    assert stored.startswith("$2b$05$")
    change_password(services, account, user["password"], "another long password", None)
    assert repository.credentials(user["email"])[1].startswith("$2b$05$")
    assert dummy_hash(5).startswith("$2b$05$")


def _entry_point_environment(database_url: str, tmp_path: Path, **extra) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "MONGO_URI", "S3_BUCKET", "APP_ENV", "SECRET_KEY")
    }
    environment.update(
        DATABASE_URL=database_url,
        LOCAL_STORE_DIR=str(tmp_path / "objects"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return environment


def test_python_app_py_refuses_production_with_a_one_line_message(
    database_url, tmp_path
):
    environment = _entry_point_environment(database_url, tmp_path, APP_ENV="production")
    finished = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1
    assert finished.stderr.strip().startswith("insightboard: Invalid configuration:")
    assert "SECRET_KEY must be set" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_python_app_py_serves_on_host_and_port_from_the_environment(
    database_url, tmp_path
):
    port = free_port()
    environment = _entry_point_environment(
        database_url, tmp_path, HOST="127.0.0.1", PORT=str(port)
    )
    process = start_app_process(environment, port)
    try:
        body = wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        assert body.strip() == b'{"status":"ok"}'
        home = wait_for_http(f"http://127.0.0.1:{port}/", process)
        assert b"<title>Insightboard</title>" in home
    finally:
        stop_process(process)
