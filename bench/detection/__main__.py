"""Detection quality benchmark: `python -m bench.detection [--small]`.

Runs every method and the z-score/IQR baselines on the synthetic corpus and on
the NAB development split, prints the tables and (full form) replaces the
"Detection quality" section of BENCHMARKS.md.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

from bench.detection import corpus, nab, report

SECTION = "## Detection quality"
BENCHMARKS = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"


def section(synthetic: dict, real: dict | None, seconds: float) -> str:
    """The Markdown section with both corpora's tables."""
    parts = [
        SECTION,
        "",
        "`nice -n 10 python -m bench.detection` — event-level scoring (a window is "
        "found when a flag falls inside it; flags outside windows closer than 1% of "
        "the series are one false alarm; F1 per series, then the mean). Cells: mean "
        "F1 (median false alarms per series). Baselines computed in the same run: "
        "global z-score > 3 and IQR fences at 3×. Series without windows (noise "
        "only, plain flat lines) score 1 when quiet, 0 otherwise.",
        "",
        f"Machine: {platform.machine()} {os.cpu_count()}-core VM shared with other "
        f"engineers, Python {platform.python_version()}. Date: "
        f"{dt.date.today().isoformat()}. Run time {seconds:.0f} s; load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
        "",
        "### Synthetic corpus (fixed seeds; daily, hourly, 5-minute)",
        "",
        report.table(synthetic, corpus.CLASSES),
        "",
        report.totals(synthetic),
    ]
    if real is not None:
        parts += [
            "",
            "### NAB development split (23 real series, 61 windows; raw views)",
            "",
            report.table(real, sorted(real)),
            "",
            report.totals(real),
        ]
    return "\n".join(parts) + "\n"


def write_section(text: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the section in BENCHMARKS.md."""
    current = path.read_text()
    start = current.find(SECTION)
    if start < 0:
        path.write_text(current.rstrip() + "\n\n" + text)
        return
    following = current.find("\n## ", start + len(SECTION))
    rest = current[following + 1 :] if following >= 0 else ""
    path.write_text(current[:start] + text + ("\n" + rest if rest else ""))


def main(argv: list[str]) -> None:
    """Run the benchmark; the full form also writes BENCHMARKS.md."""
    small = "--small" in argv
    began = time.perf_counter()
    synthetic = report.run(corpus.corpus(seeds=1 if small else 3, small=small))
    real = report.run(nab.load()) if nab.available() and not small else None
    text = section(synthetic, real, time.perf_counter() - began)
    print(text)
    if not small:
        write_section(text)


if __name__ == "__main__":
    main(sys.argv[1:])
