"""A live feed for the demo: `python -m demo.live` (or `make live`).

Signs in as the demo user through the REST API, finds the "Web analytics events"
dataset that `make run` loads, and every second appends a small batch of page
views stamped with the current time (POST /api/datasets/{id}/records), so that a
KPI page left open on that dataset moves by itself. Like any program it uses only
the public API: `--url` points it at another server, Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import random
import time
import urllib.error
import urllib.request

from data.demo import DEMO_EMAIL, DEMO_PASSWORD, EVENTS_DATASET
from data.demo_events import CAMPAIGNS, CATEGORIES, PAGE_TYPES, SOURCES


def request(url: str, method: str, body=None, token: str | None = None) -> dict:
    """One JSON API call; raises SystemExit with the server's message on an error."""
    data = json.dumps(body).encode() if body is not None else None
    call = urllib.request.Request(url, data=data, method=method)
    call.add_header("Content-Type", "application/json")
    if token:
        call.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("error", {})
        message = f"{method} {url}: {error.code} {detail.get('message')}"
        raise SystemExit(message) from None


def events_dataset(base: str, token: str) -> str:
    """The id of the demo user's web-analytics dataset."""
    listed = request(f"{base}/api/datasets", "GET", token=token)["datasets"]
    for dataset in listed:
        if dataset["name"] == EVENTS_DATASET:
            return dataset["id"]
    raise SystemExit(f"No dataset named {EVENTS_DATASET!r}: run `make run` first.")


def page_views(rng: random.Random, moment: dt.datetime, count: int) -> list[dict]:
    """`count` page views at `moment`, with the demo's columns."""
    stamp = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    views = []
    for _ in range(count):
        user = rng.randrange(5000)
        page = rng.choice(PAGE_TYPES)
        views.append({
            "timestamp": stamp, "user_id": f"live-u{user}",
            "session_id": f"live-s{user}-{moment:%Y%m%d%H}",
            "page_type": page, "traffic_source": rng.choice(SOURCES),
            "campaign": rng.choice(CAMPAIGNS),
            "product_category": rng.choice(CATEGORIES),
            "bounced": rng.choice(("true", "false")),
            "revenue": round(rng.uniform(5, 120), 2) if page == "checkout" else 0,
        })  # fmt: skip
    return views


def run(base: str, every_s: float, batches: int | None) -> None:
    """Append a batch every `every_s` seconds (forever, or `batches` times)."""
    token = request(
        f"{base}/api/auth/login",
        "POST",
        {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
    )["access_token"]
    dataset_id = events_dataset(base, token)
    rng = random.Random()
    sent = 0
    print(f"appending to {EVENTS_DATASET} ({dataset_id}); open {base}/kpi/{dataset_id}")
    while batches is None or sent < batches:
        now = dt.datetime.now(dt.UTC)
        batch = {
            "batchId": f"live-{now:%Y%m%dT%H%M%S%f}",
            "records": page_views(rng, now, rng.randint(2, 12)),
        }
        answer = request(
            f"{base}/api/datasets/{dataset_id}/records", "POST", batch, token
        )
        sent += 1
        print(f"revision {answer['revision']}: +{answer['accepted']} page views")
        time.sleep(every_s)


def main() -> None:
    """Parse the options and feed the dataset until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8050")
    parser.add_argument("--every", type=float, default=1.0, help="seconds")
    parser.add_argument("--batches", type=int, default=None, help="then stop")
    options = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        run(options.url.rstrip("/"), options.every, options.batches)


if __name__ == "__main__":
    main()
