"""Deployment files: compose structure, Dockerfile, .env.example, nginx, gunicorn.

No Docker engine exists on the dev and CI machines, so the compose file and the
Dockerfile are parsed and their structure asserted; nginx's config is checked with
the real `nginx -t`, and then served by a real nginx in front of a real gunicorn
running the container's command.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
import websocket
import yaml

from config import Settings
from tests.services import free_port, stop_process, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
EMBEDDER = "http://127.0.0.2:8999"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SERVICES = {
    "app",
    "worker",
    "mongo",
    "postgres",
    "redis",
    "minio",
    "minio-init",
    "nginx",
}
ONE_SHOT = {"minio-init"}
DATA_VOLUMES = {"postgres", "mongo", "redis", "minio"}
# Variables that are not Settings fields but that .env.example documents.
EXTRA_VARIABLES = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "POSTGRES_PASSWORD",
    "MONGO_PASSWORD",
    "REDIS_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "HTTP_PORT",
    "GUNICORN_WORKERS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
}
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose.yml, parsed."""
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    """The compose services by name."""
    return compose["services"]


# --------------------------------------------------------------- docker compose


def test_compose_has_the_app_its_worker_and_every_dependency(services):
    assert set(services) == SERVICES
    assert services["mongo"]["image"] == "mongo:7"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name in ("minio", "minio-init", "nginx"):
        image = services[name]["image"]
        assert ":" in image and not image.endswith(":latest"), image


def test_worker_runs_the_app_image_with_the_job_command(services):
    app, worker = services["app"], services["worker"]
    assert worker["image"] == app["image"]
    assert (
        worker["build"] == app["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    )
    assert worker["command"] == ["python", "-m", "data.worker"]
    assert worker["environment"] == app["environment"]


def test_only_nginx_publishes_ports(services):
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert services["nginx"]["ports"] == ["${HTTP_PORT:-8080}:80"]


def test_every_long_running_service_has_a_health_check(services):
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_dependencies_wait_for_health_or_completion(services):
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully"
                if dependency in ONE_SHOT
                else "service_healthy"
            )
            assert rule == {"condition": expected}, (name, dependency)
    assert set(services["app"]["depends_on"]) == {
        "postgres",
        "mongo",
        "redis",
        "minio-init",
    }
    assert set(services["nginx"]["depends_on"]) == {"app"}
    assert set(services["minio-init"]["depends_on"]) == {"minio"}


def test_data_lives_in_named_volumes_and_binds_are_read_only_config(compose):
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source, _target, *mode = mount.split(":")
            if source.startswith("."):
                assert mode == ["ro"], (name, mount)
                assert (ROOT / source).is_file(), mount
            else:
                assert source in declared, (name, mount)
                used.add(name)
    assert used == DATA_VOLUMES
    assert declared == {"pgdata", "mongodata", "redisdata", "miniodata"}
    assert (
        "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"
        in compose["services"]["nginx"]["volumes"]
    )


def test_services_share_a_private_network_and_only_nginx_reaches_out(compose):
    networks = compose["networks"]
    assert networks["backend"]["internal"] is True
    for name, service in compose["services"].items():
        assert "backend" in service["networks"], name
        outside = [n for n in service["networks"] if not networks[n].get("internal")]
        assert outside == (["edge"] if name == "nginx" else []), name


def test_redis_requires_a_password_that_compose_never_defaults(services):
    redis_service = services["redis"]
    assert "--requirepass" in " ".join(redis_service["command"])
    assert redis_service["environment"]["REDIS_PASSWORD"].startswith(
        "${REDIS_PASSWORD:?"
    )
    assert "REDISCLI_AUTH" in " ".join(redis_service["healthcheck"]["test"])
    assert services["app"]["environment"]["REDIS_URL"].startswith(
        "redis://:${REDIS_PASSWORD:?"
    )


def test_no_secret_has_a_default_value(services):
    pattern = re.compile(r"\$\{([A-Z_]*(PASSWORD|SECRET)[A-Z_]*)(:?[?-])")
    for name, service in services.items():
        for key, value in service.get("environment", {}).items():
            for match in pattern.finditer(str(value)):
                assert match.group(3) == ":?", (name, key, value)
            if re.search("PASSWORD|SECRET", key):
                assert "${" in str(value), (name, key)


def test_app_environment_names_only_real_settings(services):
    environment = services["app"]["environment"]
    unknown = set(environment) - SETTING_NAMES - EXTRA_VARIABLES
    assert unknown == set()
    assert environment["APP_ENV"] == "production"
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert "@mongo:27017/" in environment["MONGO_URI"]
    assert environment["S3_ENDPOINT_URL"] == "http://minio:9000"


def test_minio_init_creates_the_bucket_idempotently(services):
    script = " ".join(services["minio-init"]["command"])
    assert "mc mb --ignore-existing" in script
    assert "$$S3_BUCKET" in script
    assert (
        services["minio-init"]["environment"]["S3_BUCKET"]
        == (services["app"]["environment"]["S3_BUCKET"])
    )


def test_nginx_body_limit_covers_the_upload_limit(services):
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    limit_mb = int(re.search(r"client_max_body_size (\d+)m;", text).group(1))
    upload_mb = int(services["app"]["environment"]["MAX_UPLOAD_MB"])
    assert upload_mb == Settings.model_fields["max_upload_mb"].default
    assert upload_mb + 1 <= limit_mb <= upload_mb * 1.25


# ------------------------------------------------------------------ Dockerfile


def dockerfile_stages() -> list[list[str]]:
    """Instructions of each stage, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = list(text.replace("\\\n", " ").splitlines())
    instructions = [line.strip() for line in lines if line.strip()]
    instructions = [line for line in instructions if not line.startswith("#")]
    stages: list[list[str]] = []
    for instruction in instructions:
        if instruction.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_dockerfile_is_multi_stage_with_a_slim_runtime():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    assert [stage[0].split()[-1] for stage in stages] == ["builder", "runtime"]
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    builder, runtime = stages[0], stages[-1]
    assert any("pip install -c constraints.txt ." in line for line in builder)
    assert any(line.startswith("COPY --from=builder /opt/venv") for line in runtime)
    # The runtime runs the installed wheel, not a copy of the source tree.
    assert not any("pip uninstall" in line for line in builder)
    assert not any(line.startswith("COPY . ") for line in runtime)
    assert not any("pip install" in line for line in runtime)


def test_runtime_runs_gunicorn_as_a_non_root_user_with_a_health_check():
    runtime = dockerfile_stages()[-1]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    user_index = max(i for i, line in enumerate(runtime) if line.startswith("USER "))
    assert not any(line.startswith("RUN ") for line in runtime[user_index:])
    healthcheck = next(line for line in runtime if line.startswith("HEALTHCHECK"))
    assert "curl" not in healthcheck and "deploy/healthcheck.py" in healthcheck
    command = json.loads(next(line for line in runtime if line.startswith("CMD "))[4:])
    assert command == ["gunicorn", "--config", "deploy/gunicorn.conf.py", "app:server"]
    for path in ("deploy/gunicorn.conf.py", "deploy/healthcheck.py"):
        assert (ROOT / path).is_file()


def test_builder_dependency_step_lists_exactly_the_pinned_dependencies(tmp_path):
    builder = dockerfile_stages()[0]
    step = next(line for line in builder if "requirements.txt" in line)
    extract = step.removeprefix("RUN ").split(" && ")[0]
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    subprocess.run(["sh", "-c", extract], cwd=tmp_path, check=True, env=os.environ)
    listed = (tmp_path / "requirements.txt").read_text().split()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert listed == pyproject["project"]["dependencies"]
    assert all("==" in requirement for requirement in listed)


def test_dockerignore_keeps_local_state_out_and_the_code_in():
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env", "var", "tests", "**/__pycache__"} <= patterns
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    needed = {f"{module}.py" for module in setup["py-modules"]}
    needed |= set(setup["packages"]) | {"assets", "deploy", "demo"}
    needed |= {"pyproject.toml", "constraints.txt"}
    assert needed & patterns == set()


# ---------------------------------------------------------------- .env.example


def env_example_variables() -> dict[str, str]:
    """NAME -> shown value for every `NAME=value` or `# NAME=value` line."""
    found: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            found.setdefault(match.group(1), match.group(2).strip())
    return found


def test_env_example_documents_every_setting_and_nothing_unknown():
    documented = set(env_example_variables())
    assert SETTING_NAMES - documented == set(), "add these to .env.example"
    assert documented - SETTING_NAMES - EXTRA_VARIABLES == set()
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= documented


def test_env_example_shows_the_real_defaults():
    shown = env_example_variables()
    for name, field in Settings.model_fields.items():
        if field.default is None:
            continue
        value = Settings(**{name: shown[name.upper()]}).__getattribute__(name)
        assert value == field.default, name


def test_readme_configuration_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    in_table = set(re.findall(r"^\| `([A-Z0-9_]+)`", section, re.MULTILINE))
    assert SETTING_NAMES - in_table == set(), "add these to the README table"


def test_every_variable_compose_reads_is_documented():
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert referenced - set(env_example_variables()) == set()


# ----------------------------------------------------------------------- nginx


def run_nginx_test(config: Path, prefix: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on config, with every path nginx writes inside prefix."""
    return subprocess.run(
        [
            NGINX,
            "-t",
            "-e",
            "stderr",
            "-p",
            str(prefix),
            "-c",
            str(config),
            "-g",
            f"pid {prefix}/nginx.pid; error_log stderr;",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_nginx_accepts_the_config_unchanged(tmp_path):
    config = tmp_path / "nginx.conf"
    shutil.copy(ROOT / "deploy" / "nginx.conf", config)
    finished = run_nginx_test(config, tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert "test is successful" in finished.stderr


def test_nginx_check_catches_a_broken_config(tmp_path):
    config = tmp_path / "nginx.conf"
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    config.write_text(text.replace("proxy_read_timeout", "proxy_read_timeout_typo"))
    assert run_nginx_test(config, tmp_path).returncode != 0


# ------------------------------------------------------------ gunicorn settings


def gunicorn_settings(monkeypatch, **environment) -> dict:
    """The values deploy/gunicorn.conf.py computes for the given environment."""
    for name in ("HOST", "PORT", "MONGO_URI", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


def test_gunicorn_reads_bind_workers_and_threads_from_the_environment(monkeypatch):
    settings = gunicorn_settings(
        monkeypatch,
        HOST="0.0.0.0",
        PORT="9100",
        MONGO_URI="mongodb://mongo:27017",
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="8",
    )
    assert settings["bind"] == "0.0.0.0:9100"
    assert (settings["workers"], settings["threads"]) == (3, 8)
    assert settings["worker_class"] == "gthread"


def test_gunicorn_defaults_match_the_app_and_keep_one_process_without_mongo(
    monkeypatch,
):
    settings = gunicorn_settings(monkeypatch, GUNICORN_WORKERS="4")
    assert settings["bind"] == "127.0.0.1:8050"
    assert settings["workers"] == 1
    assert settings["threads"] == 64  # each open page's socket holds a thread


def test_gunicorn_never_recycles_the_worker_of_the_in_process_engine(monkeypatch):
    """max_requests restarted the only worker every ~2,000 requests, and each
    restart rebuilt every dataset; with a MongoDB server recycling is harmless."""
    in_process = gunicorn_settings(monkeypatch)
    assert (in_process["max_requests"], in_process["max_requests_jitter"]) == (0, 0)
    served = gunicorn_settings(monkeypatch, MONGO_URI="mongodb://mongo:27017")
    assert served["max_requests"] == 2000 and served["workers"] == 2


# ------------------------------------------- nginx in front of gunicorn, for real


def fetch(port: int, path: str, method: str = "GET", headers=None, body=None):
    """(status, headers, body) of one HTTP request to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def serving_config(text: str, directory: Path, nginx_port: int, app_port: int) -> str:
    """The real config, pointed at local ports and with temp files in directory."""
    replacements = {
        "listen 80 default_server;": f"listen 127.0.0.1:{nginx_port} default_server;",
        "http://app:8050": f"http://127.0.0.1:{app_port}",
        "access_log /dev/stdout": f"access_log {directory}/access.log",
        "http {\n": "http {\n"
        + "".join(
            f"    {kind}_temp_path {directory}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        ),
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"nginx.conf changed shape: {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def stack(database_url, tmp_path_factory):
    """gunicorn running the container's command, behind nginx with the real config."""
    app_port, nginx_port = free_port(), free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "MONGO_URI", "S3_BUCKET", "SECRET_KEY")
    }
    environment.update(
        APP_ENV="test",
        HOST="127.0.0.1",
        PORT=str(app_port),
        DATABASE_URL=database_url,
        LOCAL_STORE_DIR=str(tmp_path_factory.mktemp("stack-objects")),
        TRUSTED_PROXY_COUNT="1",
        LOG_LEVEL="WARNING",
        EMBED_ALLOWED_ORIGINS=EMBEDDER,
    )
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "deploy/gunicorn.conf.py",
            "app:server",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Worker processes (not root) must be able to reach their temp directories.
    directory = Path(tempfile.mkdtemp(prefix="ib-nginx-"))
    directory.chmod(0o755)
    config = directory / "nginx.conf"
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    config.write_text(serving_config(text, directory, nginx_port, app_port))
    nginx = None
    try:
        wait_for_http(f"http://127.0.0.1:{app_port}/healthz", gunicorn)
        nginx = subprocess.Popen(
            [
                NGINX,
                "-e",
                "stderr",
                "-p",
                str(directory),
                "-c",
                str(config),
                "-g",
                f"pid {directory}/nginx.pid; error_log stderr; daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_http(f"http://127.0.0.1:{nginx_port}/nginx-health", nginx)
        yield {"app": app_port, "nginx": nginx_port, "directory": directory}
    finally:
        if nginx is not None:
            stop_process(nginx)
        stop_process(gunicorn)
        shutil.rmtree(directory, ignore_errors=True)


def logged_request_ids(stack, expected: set[str]) -> set[str]:
    """Request ids in nginx's JSON access log, once the expected ones are written
    (nginx logs a request just after it answers it)."""
    deadline = time.monotonic() + 10
    while True:
        text = (stack["directory"] / "access.log").read_text()
        found = {json.loads(line)["request_id"] for line in text.splitlines()}
        if expected <= found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
)


def security_headers(headers) -> dict[str, list[str]]:
    """Every value of each security header (a duplicate would show as two)."""
    return {name: headers.get_all(name) or [] for name in SECURITY_HEADERS}


def test_health_through_nginx_carries_the_security_headers(stack):
    status, headers, body = fetch(stack["nginx"], "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Server"] == "nginx"  # no versions, no gunicorn banner


@pytest.mark.parametrize("path", ["/healthz", "/login", "/api/datasets", "/share/x"])
def test_nginx_passes_the_apps_security_headers_unchanged(stack, path):
    """Once each, exactly as the app sent them: a share link's frame-ancestors
    (and its missing X-Frame-Options) survive the proxy."""
    _, direct, _ = fetch(stack["app"], path)
    status, proxied, _ = fetch(stack["nginx"], path)
    assert security_headers(proxied) == security_headers(direct), path
    assert all(
        len(values) == 1
        for name, values in security_headers(proxied).items()
        if name != "X-Frame-Options"
    )
    if path.startswith("/share/"):
        assert status == 404
        assert f"frame-ancestors {EMBEDDER}" in proxied["Content-Security-Policy"]
        assert proxied.get_all("X-Frame-Options") is None


def test_nginx_adds_the_strict_set_to_its_own_responses(stack):
    _, headers, _ = fetch(stack["nginx"], "/nginx-health")
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert all(len(values) == 1 for values in security_headers(headers).values())


def test_nginx_logs_share_paths_without_their_token(stack):
    fetch(
        stack["nginx"],
        "/share/ibs_secret-looking-token",
        headers={"X-Request-ID": "share-log"},
    )
    logged_request_ids(stack, {"share-log"})
    text = (stack["directory"] / "access.log").read_text()
    assert "secret-looking-token" not in text and "/share/[token]" in text


def test_request_id_flows_from_client_through_nginx_to_the_app(stack):
    _, headers, _ = fetch(stack["nginx"], "/healthz", headers={"X-Request-ID": "t-1"})
    assert headers.get_all("X-Request-ID") == ["t-1"]
    _, headers, _ = fetch(
        stack["nginx"], "/healthz", headers={"X-Request-ID": "not safe!"}
    )
    generated = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert {"t-1", generated} <= logged_request_ids(stack, {"t-1", generated})
    assert "not safe!" not in (stack["directory"] / "access.log").read_text()


def test_nginx_compresses_css_and_json(stack):
    for path in ("/assets/00-bootstrap.min.css", "/api/openapi.json"):
        status, headers, body = fetch(
            stack["nginx"], path, headers={"Accept-Encoding": "gzip"}
        )
        assert status == 200 and headers["Content-Encoding"] == "gzip", path
        assert len(gzip.decompress(body)) > len(body)


def test_oversized_uploads_are_refused_by_nginx_before_reaching_the_app(stack):
    with socket.create_connection(("127.0.0.1", stack["nginx"]), timeout=30) as sock:
        sock.sendall(
            b"POST /api/datasets/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Content-Length: {211 * 1024 * 1024}\r\n\r\n".encode()
        )
        assert sock.recv(64).startswith(b"HTTP/1.1 413")


def test_app_behind_nginx_sees_the_browser_host_for_same_origin_checks(stack):
    port = stack["nginx"]
    own = {"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"}
    status, _, body = fetch(port, "/api/auth/login", "POST", own, b"{}")
    assert status == 400, body  # reached validation: the origin matched
    other = {**own, "Origin": "http://evil.example"}
    status, _, body = fetch(port, "/api/auth/login", "POST", other, b"{}")
    assert status == 403 and json.loads(body)["error"]["code"] == "cross_origin"


def test_nginx_proxies_the_live_update_websocket(stack):
    """A WebSocket upgrade through nginx reaches the app's socket server, which
    opens the Engine.IO session and answers the page's connect packet (here:
    refused, no session) over the proxied connection."""
    port = stack["nginx"]
    connection = websocket.create_connection(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
        origin=f"http://127.0.0.1:{port}",
        timeout=10,
    )
    try:
        opened = json.loads(connection.recv()[1:])
        assert opened["upgrades"] == [] and opened["pingInterval"] == 25000
        connection.send('40{"datasets": ["' + "a" * 32 + '"]}')
        answer = connection.recv()
        assert answer.startswith("44") and "Sign in" in answer
    finally:
        connection.close()
    polling = fetch(port, "/socket.io/?EIO=4&transport=polling")
    assert polling[0] == 400  # WebSocket only: no long-polling fallback


# ---------------------------------------------------------- container health checks


def run_healthcheck(mode: str, **environment) -> int:
    """Exit status of deploy/healthcheck.py in the given mode."""
    return subprocess.run(
        [sys.executable, "deploy/healthcheck.py", mode],
        cwd=ROOT,
        env={**os.environ, **environment},
        timeout=60,
    ).returncode


def test_http_health_check_follows_the_app(stack):
    assert run_healthcheck("http", PORT=str(stack["app"])) == 0
    assert run_healthcheck("http", PORT=str(free_port())) == 1


def test_worker_health_check_looks_for_this_hosts_rq_worker(redis_server):
    import redis
    import rq

    connection = redis.Redis.from_url(redis_server.url)
    assert run_healthcheck("worker", REDIS_URL=redis_server.url) == 1
    worker = rq.Worker(["default"], connection=connection)
    worker.register_birth()
    try:
        assert run_healthcheck("worker", REDIS_URL=redis_server.url) == 0
    finally:
        worker.register_death()
    assert run_healthcheck("worker", REDIS_URL=redis_server.url) == 1
    closed = f"redis://127.0.0.1:{free_port()}/0"
    assert run_healthcheck("worker", REDIS_URL=closed) == 1
