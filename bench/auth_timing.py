"""Sign-in timing: an unknown e-mail must cost about as much as a wrong password.

Run: `python -m bench.auth_timing` (needs the local PostgreSQL; creates and drops
its own database). Prints medians per case and the ratio to the wrong-password
baseline measured in the same run.
"""

from __future__ import annotations

import statistics
import time
import uuid

from data import postgres

ROUNDS = 40
SERVER = "postgresql://postgres@127.0.0.1:5432"


def timed_login(client, email: str, password: str) -> float:
    """Wall-clock milliseconds of one POST /api/auth/login."""
    started = time.perf_counter()
    client.post("/api/auth/login", json={"email": email, "password": password})
    return (time.perf_counter() - started) * 1000


def interleaved(client, cases: dict[str, tuple[str, str]]) -> dict[str, list]:
    """ROUNDS samples per case, taken round-robin so load drift hits all alike."""
    samples: dict[str, list] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, (email, password) in cases.items():
            samples[name].append(timed_login(client, email, password))
    return samples


def main() -> None:
    """Measure the three sign-in outcomes and print a Markdown table."""
    from app import create_app

    url = f"{SERVER}/ib_bench_{uuid.uuid4().hex[:8]}"
    app = create_app(
        {
            "app_env": "test",
            "database_url": url,
            "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
            "log_level": "ERROR",
            "login_rate_limit": "100000/minute",
        }
    )
    try:
        client = app.server.test_client()
        credentials = {"email": "bench@example.com", "password": "bench password"}
        client.post("/api/auth/register", json=credentials)
        cases = interleaved(
            client,
            {
                "wrong password (baseline)": (credentials["email"], "wrong password"),
                "unknown e-mail": ("nobody@example.com", "wrong password"),
                "correct password": (credentials["email"], credentials["password"]),
            },
        )
        baseline = statistics.median(cases["wrong password (baseline)"])
        print("| case | median ms | p90 ms | ratio to baseline |")
        print("|---|---|---|---|")
        for name, samples in cases.items():
            median = statistics.median(samples)
            p90 = statistics.quantiles(samples, n=10)[-1]
            print(f"| {name} | {median:.1f} | {p90:.1f} | {median / baseline:.3f} |")
    finally:
        app.server.extensions["insightboard"].close()
        postgres.drop_database(url)


if __name__ == "__main__":
    main()
