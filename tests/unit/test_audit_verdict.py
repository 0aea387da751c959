""".ci/audit_dependencies.py: which pip-audit reports fail CI, and that a run that
could look nothing up is never reported as a pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"


def judge(tmp_path, dependencies, required=False):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    environment = {"AUDIT_REQUIRED": "1"} if required else {}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--report", str(report)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **environment},
    )
    return result.returncode, result.stdout


def vulnerable(fix_versions):
    return {
        "name": "requests",
        "version": "2.25.0",
        "vulns": [{"id": "PYSEC-2023-74", "fix_versions": fix_versions}],
    }


def test_a_vulnerability_with_a_fixed_release_fails(tmp_path):
    code, output = judge(tmp_path, [vulnerable(["2.31.0"]), clean("flask")])
    assert code == 1
    assert "requests 2.25.0: PYSEC-2023-74 fixed in 2.31.0" in output


def test_a_vulnerability_without_a_fix_does_not_fail(tmp_path):
    code, output = judge(tmp_path, [vulnerable([]), clean("flask")])
    assert code == 0 and "2 packages audited" in output


def clean(name):
    return {"name": name, "version": "1.0", "vulns": []}


def skipped(name):
    return {"name": name, "skip_reason": f"Dependency not found on PyPI: {name}"}


@pytest.mark.parametrize("required", [False, True])
def test_nothing_looked_up_is_reported_as_no_audit_never_as_a_pass(tmp_path, required):
    code, output = judge(tmp_path, [skipped("flask"), skipped("dash")], required)
    assert "NO AUDIT MADE" in output and "no fixable" not in output
    assert code == (1 if required else 0)


def test_the_project_itself_and_partly_skipped_runs_are_named(tmp_path):
    code, output = judge(
        tmp_path, [skipped("insightboard"), skipped("dash"), clean("flask")]
    )
    assert code == 0
    assert "1 packages audited" in output and "not audited: dash" in output
    assert "insightboard" not in output
