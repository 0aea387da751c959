"""Helpers that start and stop the test run's own services (never the shared ones)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import redis


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A private redis-server on a free port, started and stopped by fault tests."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            with contextlib.suppress(redis.exceptions.ConnectionError):
                if client.ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop the server (only the one this object started)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A private Redis for the duration of a with-block."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


def wait_for_http(
    url: str, process: subprocess.Popen | None = None, timeout: float = 60
) -> bytes:
    """Poll url until it answers 200; fail early when the process has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        # OSError covers refused connections, resets and read timeouts (gunicorn
        # accepts connections before its worker has finished building the app).
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return response.read()
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a process this test run started, then kill it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_app_process(environment: dict, port: int) -> subprocess.Popen:
    """`python app.py` from the project root with this environment, once /healthz
    answers on the port (stop it with stop_process)."""
    process = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
    return process


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class ThrowawayPostgres:
    """A private PostgreSQL cluster (`initdb -A trust` as the postgres user) on a
    free port, for tests that stop and restart the server: never the shared one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="ib-pg-"))
        self.data = self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def create(self) -> ThrowawayPostgres:
        """initdb the cluster, then start it."""
        shutil.chown(self.directory, "postgres")
        self._as_postgres(
            str(POSTGRES_BIN / "initdb"), "-A", "trust", "-U", "postgres",
            "-D", str(self.data),
        )  # fmt: skip
        return self.start()

    def start(self) -> ThrowawayPostgres:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        self._as_postgres(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-w", "-l", str(self.directory / "log"), "start",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server at once (connections are cut)."""
        self._as_postgres(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
            "-w", "stop",
        )  # fmt: skip

    def destroy(self) -> None:
        """Stop the server if it runs and remove the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
