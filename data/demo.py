"""Load demo data: a demo account with the sample sales dataset and a generated
web-analytics event log with its KPI measures (idempotent).

`make run` runs this before the app. With the in-process MongoDB engine the records
written here vanish when this process exits; the uploaded file stays in the object
store, and the app rebuilds the dataset from it at start-up.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from app import create_app
from auth import service
from auth.users import UserRepository
from data import datasets
from data.demo_events import DEMO_DIMENSIONS, DEMO_MEASURES, generate_events, to_csv
from data.errors import Conflict
from data.ingest.schema import Choice

DEMO_EMAIL = "demo@insightboard.local"
DEMO_PASSWORD = "insightboard-demo"
DEMO_DATASET = "January Sales"
EVENTS_DATASET = "Web analytics events"
SAMPLE = Path(__file__).resolve().parents[1] / "demo" / "sales.csv"
FINAL = ("processed", "cached", "failed")


def ensure_demo_user(services):
    """The demo account: created on first run, reused afterwards."""
    try:
        return service.register_account(services, DEMO_EMAIL, DEMO_PASSWORD, None), True
    except Conflict:
        user, _hash = UserRepository(services.postgres).credentials(DEMO_EMAIL)
        return user, False


def load_demo_dataset(services, owner_id: str, timeout_s: float = 300) -> dict:
    """Upload the sample file (a no-op when already there) and wait for processing."""
    with SAMPLE.open("rb") as sample:
        result = datasets.upload_dataset(
            services, owner_id, sample, dataset_name=DEMO_DATASET, filename=SAMPLE.name
        )
    deadline = time.monotonic() + timeout_s
    view = result
    while view["status"] not in FINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        view = datasets.get_dataset(services, owner_id, result["id"], result["version"])
    return view


def load_demo_events(services, owner_id: str, timeout_s: float = 600) -> dict:
    """Upload the generated event log (same seed, same bytes: a no-op when there)
    with DAU, sessions, MAU, bounce rate and revenue, and wait for processing."""
    choice = Choice(
        time_column="timestamp",
        metric_columns=("revenue",),
        dimension_columns=DEMO_DIMENSIONS,
    )
    result = datasets.upload_dataset(
        services,
        owner_id,
        io.BytesIO(to_csv(generate_events())),
        dataset_name=EVENTS_DATASET,
        filename="events.csv",
        choice=choice,
        measures=DEMO_MEASURES,
    )
    return _wait(services, owner_id, result, timeout_s)


def _wait(services, owner_id: str, result: dict, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    view = result
    while view["status"] not in FINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        view = datasets.get_dataset(services, owner_id, result["id"], result["version"])
    return view


def main() -> None:
    """Prepare the databases and load the demo data."""
    app = create_app()
    services = app.server.extensions["insightboard"]
    try:
        if services.settings.app_env == "production":
            print("APP_ENV=production: no demo account is created.")
            return
        with app.server.app_context():
            user, created = ensure_demo_user(services)
            view = load_demo_dataset(services, user.id)
            events = load_demo_events(services, user.id)
        _report(user.email, created, view)
        _report_dataset(events)
    finally:
        services.close()


def _report(email: str, created: bool, view: dict) -> None:
    password = DEMO_PASSWORD if created else f"{DEMO_PASSWORD} (unless you changed it)"
    print(f"Demo account: {email} / password: {password}")
    _report_dataset(view)
    print("Open http://127.0.0.1:8050")


def _report_dataset(view: dict) -> None:
    print(
        f"Dataset '{view['name']}' v{view['version']}: {view['status']}, "
        f"{view['rowCount']} rows"
    )


if __name__ == "__main__":
    main()
