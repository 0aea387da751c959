"""The warm chart exporter: it survives its thread being ended (a browser test's
server stop raises SystemExit in threads of the process), a stuck export fails
instead of hanging, its browser is not left behind, and a stuck export never
holds up the process's exit."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from components.report import images

ROOT = Path(__file__).resolve().parents[2]
SPEC = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [2, 1, 3]}], "layout": {}}


def process_group_exists(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def process_group_ends(pid: int, within_s: float = 20) -> bool:
    """True once no process of the group is left (killed ones take a moment)."""
    deadline = time.monotonic() + within_s
    while process_group_exists(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def end_thread(thread) -> None:
    """What dash.testing's KillerThread does to threads started during a test."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_long(thread.ident), ctypes.py_object(SystemExit)
    )


def test_an_export_after_the_exporter_thread_ended_opens_a_new_browser():
    assert images.png(SPEC, height=200).startswith(b"\x89PNG")
    old = images._EXPORTER
    end_thread(old.thread)
    old.loop.call_soon_threadsafe(lambda: None)  # wake the loop to raise it
    old.thread.join(timeout=10)
    assert not old.thread.is_alive()
    browser_pid = old.browser.subprocess.pid
    assert images.png(SPEC, height=200).startswith(b"\x89PNG")
    assert images._EXPORTER is not old and images._EXPORTER.alive()
    assert process_group_ends(browser_pid)  # the abandoned browser is gone


def test_a_stuck_export_fails_and_the_next_one_works(monkeypatch):
    images.warm()
    stuck = images._EXPORTER

    async def never_finishes(*args, **kwargs):
        await images.asyncio.sleep(3600)

    monkeypatch.setattr(stuck.browser, "calc_fig", never_finishes)
    monkeypatch.setattr(images, "EXPORT_TIMEOUT_S", 0.5)
    with pytest.raises(images.ExportFailed, match="took longer"):
        images.png(SPEC, height=200)
    assert process_group_ends(stuck.browser.subprocess.pid)
    monkeypatch.undo()
    assert images.png(SPEC, height=200).startswith(b"\x89PNG")


def test_a_stuck_export_does_not_hold_up_the_process_exit():
    script = textwrap.dedent(
        """
        from components.report import images
        images.png({"data": [], "layout": {}}, height=100)
        exporter = images._EXPORTER
        print(exporter.browser.subprocess.pid, flush=True)

        async def never_finishes(*args, **kwargs):
            await images.asyncio.sleep(3600)

        exporter.browser.calc_fig = never_finishes
        images.EXPORT_TIMEOUT_S = 0.5
        try:
            images.png({"data": [], "layout": {}}, height=100)
        except images.ExportFailed:
            pass
        images.warm()  # a new browser, closed at exit
        print(images._EXPORTER.browser.subprocess.pid, flush=True)
        """
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard: the old exporter never let the process end
    )
    assert finished.returncode == 0, finished.stderr
    stuck_pid, warm_pid = (int(line) for line in finished.stdout.split())
    assert process_group_ends(stuck_pid)
    assert process_group_ends(warm_pid)  # closed by the exit hook


def test_an_export_whose_loop_ended_before_it_started_leaves_nothing_unawaited():
    """The loop's thread ends while an export waits its turn: the export fails at
    once, and no half-made coroutine is left to warn 'never awaited' later (a
    warning the fuzz test turned into a failure)."""
    images.warm()
    exporter = images._EXPORTER
    exporter.loop.call_soon_threadsafe(time.sleep, 1.0)  # the loop is busy
    end_thread(exporter.thread)  # raised once the busy callback returns
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(images.ExportFailed, match="stopped"):
            images.png(SPEC, height=200)
        gc.collect()
    assert [str(w.message) for w in seen if "never awaited" in str(w.message)] == []
    assert images.png(SPEC, height=200).startswith(b"\x89PNG")
