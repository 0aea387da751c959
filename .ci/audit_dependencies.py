"""pip-audit over the installed environment: fail on a known vulnerability that has a
fixed release; say plainly when the vulnerability database could not be asked.

    python .ci/audit_dependencies.py            # runs pip-audit --local itself
    python .ci/audit_dependencies.py --report pip-audit.json   # judges a report

pip-audit's PyPI service reads https://pypi.org/pypi/<name>/<version>/json. Where
that is not served (this workplace's PyPI mirror answers 404 for every per-release
document, and OSV's host does not resolve), pip-audit skips every package and still
prints "No known vulnerabilities found" with exit code 0. This script never reports
such a run as a pass: it prints that no audit was made. AUDIT_REQUIRED=1 turns that
case into a failure (for a CI that can reach the database).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = "insightboard"  # the editable project itself is not on PyPI


def run_pip_audit() -> dict:
    """pip-audit --local on this interpreter's environment, as JSON (its own summary
    is not shown: it says "No known vulnerabilities found" even when it looked
    nothing up)."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "pip-audit.json"
        subprocess.run(
            [sys.executable, "-m", "pip_audit", "--local", "--progress-spinner", "off",
             "--format", "json", "--output", str(report)],
            check=True, timeout=600, capture_output=True,
        )  # fmt: skip
        return json.loads(report.read_text())


def verdict(report: dict) -> tuple[int, list[str]]:
    """(exit code, lines to print) for a pip-audit JSON report."""
    dependencies = [d for d in report["dependencies"] if d["name"] != PROJECT]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    fixable = [
        f"{d['name']} {d['version']}: {v['id']} fixed in {', '.join(v['fix_versions'])}"
        for d in audited
        for v in d.get("vulns", [])
        if v.get("fix_versions")
    ]
    if fixable:
        return 1, ["Known vulnerabilities with a fixed release:", *fixable]
    if dependencies and not audited:
        required = os.environ.get("AUDIT_REQUIRED") == "1"
        return int(required), [
            f"pip-audit: NO AUDIT MADE: none of {len(skipped)} packages could be "
            "looked up in the vulnerability database (first reason: "
            f"{skipped[0]['skip_reason']}).",
        ]
    lines = [f"pip-audit: {len(audited)} packages audited, no fixable vulnerability."]
    lines += [f"  not audited: {d['name']}: {d['skip_reason']}" for d in skipped]
    return 0, lines


def main() -> None:
    """Audit (or judge a saved report) and exit with the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a pip-audit JSON report")
    arguments = parser.parse_args()
    report = (
        json.loads(arguments.report.read_text())
        if arguments.report
        else run_pip_audit()
    )
    code, lines = verdict(report)
    print("\n".join(lines))
    sys.exit(code)


if __name__ == "__main__":
    main()
