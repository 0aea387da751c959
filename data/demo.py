"""Load demo data: a demo account with the sample sales dataset (idempotent).

`make run` runs this before the app. With the in-process MongoDB engine the records
written here vanish when this process exits; the uploaded file stays in the object
store, and the app rebuilds the dataset from it at start-up.
"""

from __future__ import annotations

import time
from pathlib import Path

from app import create_app
from auth import service
from auth.users import UserRepository
from data import datasets
from data.errors import Conflict

DEMO_EMAIL = "demo@insightboard.local"
DEMO_PASSWORD = "insightboard-demo"
DEMO_DATASET = "January Sales"
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
        _report(user.email, created, view)
    finally:
        services.close()


def _report(email: str, created: bool, view: dict) -> None:
    password = DEMO_PASSWORD if created else f"{DEMO_PASSWORD} (unless you changed it)"
    print(f"Demo account: {email} / password: {password}")
    print(
        f"Dataset '{view['name']}' v{view['version']}: {view['status']}, "
        f"{view['rowCount']} rows"
    )
    print("Open http://127.0.0.1:8050")


if __name__ == "__main__":
    main()
