"""Container health checks: `http` (the app answers /healthz) or `worker` (the rq
worker in this container is registered in Redis). Exit status 0 means healthy."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request


def check_http() -> bool:
    """True when /healthz on this container's PORT answers 200."""
    port = os.environ.get("PORT", "8050")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return response.status == 200
    except OSError:
        return False


def check_worker() -> bool:
    """True when an rq worker started on this host is registered (heartbeat alive)."""
    import redis
    import rq

    try:
        connection = redis.Redis.from_url(
            os.environ["REDIS_URL"], socket_connect_timeout=3, socket_timeout=3
        )
        workers = rq.Worker.all(connection=connection)
    except (KeyError, redis.exceptions.RedisError):
        return False
    return any(worker.hostname == socket.gethostname() for worker in workers)


def main(argv: list[str]) -> int:
    """Run the named check (default: http); 0 when healthy, 1 otherwise."""
    mode = argv[1] if len(argv) > 1 else "http"
    checks = {"http": check_http, "worker": check_worker}
    if mode not in checks:
        print(f"unknown check {mode!r}; use one of {sorted(checks)}", file=sys.stderr)
        return 2
    return 0 if checks[mode]() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
