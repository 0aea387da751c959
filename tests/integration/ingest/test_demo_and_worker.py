"""The demo loader is idempotent; the worker entry point refuses useless setups."""

from __future__ import annotations

from config import load_settings
from data import datasets, demo, worker
from tests.integration.ingest.conftest import READABLE


def test_demo_account_and_dataset_load_once(make_app, services_of):
    app = make_app(ingest_mode="inline")
    services = services_of(app)
    with app.server.app_context():
        user, created = demo.ensure_demo_user(services)
        view = demo.load_demo_dataset(services, user.id)
        again_user, created_again = demo.ensure_demo_user(services)
        again = demo.load_demo_dataset(services, user.id)
        listed = datasets.list_datasets(services, user.id)
    assert created and not created_again and again_user.id == user.id
    assert user.email == demo.DEMO_EMAIL
    assert view["status"] in READABLE and view["rowCount"] == 7
    assert (again["id"], again["version"]) == (view["id"], 1)
    assert [d["name"] for d in listed] == [demo.DEMO_DATASET]


def test_the_demo_dataset_comes_back_after_a_restart(make_app, services_of, tmp_path):
    """As with `python -m data.demo && python app.py` on the in-process engine."""
    store = str(tmp_path / "store")
    loader = make_app(ingest_mode="inline", local_store_dir=store)
    with loader.server.app_context():
        user, _ = demo.ensure_demo_user(services_of(loader))
        demo.load_demo_dataset(services_of(loader), user.id)
    restarted = make_app(ingest_mode="inline", local_store_dir=store)
    (listed,) = datasets.list_datasets(services_of(restarted), user.id)
    assert listed["name"] == demo.DEMO_DATASET and listed["status"] in READABLE


def test_worker_needs_redis_and_a_mongodb_server(capsys, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("MONGO_URI", raising=False)
    assert worker.main([]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert worker.main([]) == 2
    assert "MONGO_URI is not set" in capsys.readouterr().err
    settings = load_settings({"redis_url": "redis://x", "mongo_uri": "mongodb://x"})
    assert settings.resolved_ingest_mode == "rq"
    assert worker._configuration_problem(settings) is None
