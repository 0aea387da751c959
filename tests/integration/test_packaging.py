"""`pip install .` (not editable) installs everything the app needs: the wheel holds
every package, asset, migration and the demo file, and the app runs from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "auth", "callbacks", "components", "data", "pages")
DATA = ("assets", "demo", "data/migrations")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built the way the Dockerfile builds it, from a copy of
    the tracked files: a build in the checkout would leave build/ behind (whose
    stale copies a later build would pack, and other tests would scan)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in tracked("."):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), "."],
        cwd=source,
        check=True,
        capture_output=True,
    )
    return next(out.glob("insightboard-*.whl"))


def tracked(*paths: str) -> set[str]:
    """Files git tracks under these paths (what a fresh clone has)."""
    listed = subprocess.run(
        ["git", "ls-files", *paths], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    return set(listed.split())


def test_the_wheel_holds_every_module_asset_migration_and_the_demo_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {name for name in tracked(*PACKAGES) if name.endswith(".py")}
    expected = modules | tracked(*DATA) | {"app.py", "config.py"}
    assert expected - names == set()
    assert {"data/inprocess/patches.py", "data/migrations/0002_accounts.sql"} <= names
    assert not any(name.startswith("tests/") for name in names)


def test_the_app_runs_from_the_installed_wheel(wheel, tmp_path, database_url):
    """Installed into a fresh environment and started outside the source tree, the
    app applies its migrations, renders the shell and serves its assets."""
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The dependencies come from this test run's environment; a .pth adds its
    # site-packages without running its own .pth files (so not the editable
    # install of this checkout): `app` can only come from the wheel.
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )
    script = textwrap.dedent(
        f"""
        import app
        assert "site-packages" in app.__file__, app.__file__
        application = app.create_app({{
            "app_env": "test", "database_url": {database_url!r},
            "redis_url": None, "local_store_dir": "objects",
            "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        }})
        client = application.server.test_client()
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/assets/style.css").status_code == 200
        print("ok")
        """
    )
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", script], cwd=tmp_path, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
