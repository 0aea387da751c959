"""The datasets page's logic: rows, progress, upload decoding, previews, actions."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from dash import no_update

from callbacks import datasets as callbacks
from callbacks import gateway
from components import datasets_layout as layout
from components import widgets
from data.errors import NotFound
from tests.unit.dash_text import text_of


def version(number, status, rows=None, done=0, total=0, error=None, when=None):
    """One version entry as the gateway returns it."""
    return {
        "version": number,
        "status": status,
        "rowCount": rows,
        "uploadedAt": when or f"2024-02-0{number}T10:00:00+00:00",
        "error": error,
        "progress": {"rowsDone": done, "rowsTotal": total},
    }


SALES = {
    "id": "a" * 32,
    "name": "Sales 2024",
    "versions": [version(1, "cached", 7), version(2, "processing", None, 300, 1200)],
}
SENSORS = {"id": "b" * 32, "name": "Sensors", "versions": [version(1, "failed")]}


def test_rows_show_the_latest_version_unless_another_is_chosen():
    latest, other = layout.grid_rows([SALES, SENSORS], {})
    assert (latest["version"], latest["status"], latest["versions"]) == (
        2,
        "processing",
        [1, 2],
    )
    assert latest["href"] == f"/datasets/{'a' * 32}?version=2"
    chosen = layout.grid_rows([SALES], {"a" * 32: 1})[0]
    assert (chosen["version"], chosen["status"], chosen["rows_text"]) == (
        1,
        "cached",
        "7",
    )
    assert other["status"] == "failed" and other["rows_text"] == "—"


def test_unknown_chosen_version_falls_back_to_the_latest():
    assert layout.grid_rows([SALES], {"a" * 32: 99})[0]["version"] == 2


def test_progress_panel_lists_versions_in_flight_with_rows_done():
    busy = layout.in_flight([SALES, SENSORS])
    assert [(d["name"], v["version"]) for d, v in busy] == [("Sales 2024", 2)]
    panel = text_of(layout.progress_panel(busy))
    assert "300 of 1,200 rows" in panel and "Sales 2024" in panel
    assert layout.progress_panel([]) is None


def test_list_outputs_watch_only_the_datasets_in_flight():
    busy = callbacks.list_outputs([SALES], {})
    idle = callbacks.list_outputs([SENSORS], {})
    assert busy["watched"] == [SALES["id"]] and idle["watched"] == []
    socket = callbacks.watching(busy["watched"], [])
    assert socket.options["auth"] == {"datasets": [SALES["id"]]}
    assert callbacks.watching(busy["watched"], busy["watched"]) is no_update
    assert callbacks.watching([], busy["watched"]) is None
    empty = callbacks.list_outputs([], {})
    assert empty["empty_class"] == "" and empty["grid_class"] == "d-none"
    assert [o["label"] for o in busy["existing"]] == ["Sales 2024"]


def test_decode_upload_reads_base64_and_refuses_garbage():
    content = b"date,value\n2024-01-01,1\n"
    encoded = "data:text/csv;base64," + base64.b64encode(content).decode()
    assert callbacks.decode_upload(encoded) == content
    for bad in (None, "", "no-comma", "data:text/csv;base64,@@@"):
        with pytest.raises(ValueError):
            callbacks.decode_upload(bad)


PREVIEW = {
    "format": "csv",
    "columns": [
        {"name": "date", "type": "datetime", "role": "time", "unit": None},
        {"name": "revenue", "type": "number", "role": "metric", "unit": "₹"},
        {"name": "region", "type": "string", "role": "dimension", "unit": None},
        {"name": "email", "type": "string", "role": "personal", "unit": None},
    ],
    "rows": [{"date": "2024-01-01", "revenue": "24000", "region": "North"}] * 20,
    "timeColumn": "date",
    "metricColumns": ["revenue"],
    "dimensionColumns": ["region"],
}


def test_preview_preselects_the_inferred_columns_and_offers_sensible_choices():
    outputs = callbacks.preview_outputs("sales_2024.csv", b"x" * 2048, PREVIEW)
    assert outputs["time_value"] == "date"
    assert outputs["metric_value"] == ["revenue"]
    assert outputs["dimension_value"] == ["region"]
    assert [o["value"] for o in outputs["metric_options"]] == ["revenue"]
    assert "email" not in [o["value"] for o in outputs["dimension_options"]]
    assert outputs["name"] == "Sales 2024"
    assert callbacks.suggested_name("../weird__name-v2 .json") == "Weird name v2"
    assert callbacks.suggested_name("") == "Dataset"
    body_rows = outputs["preview"].children[1].children
    assert len(body_rows) == callbacks.PREVIEW_ROWS
    assert "personal" in text_of(outputs["schema"])
    assert "2.0 kB" in text_of(outputs["info"])


def test_delete_confirmation_names_the_dataset_and_its_versions():
    text = text_of(callbacks.delete_text(SALES))
    assert "“Sales 2024”" in text and "2 versions" in text


def test_row_action_for_a_dataset_the_service_does_not_find_says_it_is_gone(
    monkeypatch,
):
    """The handler's answer to NotFound; that another user's dataset *is* NotFound
    is checked end to end in tests/integration/test_datasets_isolation_dash.py."""

    def missing(*args, **kwargs):
        raise NotFound("Dataset not found.")

    monkeypatch.setattr(gateway, "dataset_meta", missing)
    monkeypatch.setattr(callbacks, "get_services", lambda: None)
    event = {"rowId": "c" * 32, "value": {"action": "delete"}}
    outputs = callbacks.handle_row_action("owner", event, {}, 4)
    assert "no longer exists" in text_of(outputs["feedback"])
    assert outputs["modal"] is callbacks.no_update


def test_row_actions_choose_versions_and_open_the_delete_dialog(monkeypatch):
    monkeypatch.setattr(gateway, "dataset_meta", lambda s, o, d, v=None: SALES)
    monkeypatch.setattr(callbacks, "get_services", lambda: None)
    pick = {"rowId": SALES["id"], "value": {"action": "version", "version": 1}}
    assert callbacks.handle_row_action("o", pick, {}, 0)["chosen"] == {SALES["id"]: 1}
    delete = {"rowId": SALES["id"], "value": {"action": "delete"}}
    outputs = callbacks.handle_row_action("o", delete, {}, 0)
    assert outputs["modal"] is True and outputs["pending"] == SALES["id"]
    assert "Sales 2024" in text_of(outputs["modal_text"])


def test_page_upload_limit_leaves_room_for_base64_inside_the_request_limit():
    limit = 200 * 1024 * 1024
    page = layout.page_upload_limit(limit)
    assert page < limit
    assert page * 4 / 3 + 64 * 1024 < limit + 1024 * 1024
    assert layout.page_upload_limit(1024) == 1024  # tiny limits stay as they are


def test_reprocess_action_calls_the_service_for_that_version(monkeypatch):
    calls = []
    monkeypatch.setattr(gateway, "dataset_meta", lambda s, o, d, v=None: SALES)
    monkeypatch.setattr(gateway, "reprocess", lambda *args: calls.append(args))
    monkeypatch.setattr(callbacks, "get_services", lambda: "services")
    event = {"rowId": SALES["id"], "value": {"action": "reprocess", "version": 1}}
    outputs = callbacks.handle_row_action("owner", event, {}, 7)
    assert calls == [("services", "owner", SALES["id"], 1)]
    assert outputs["refresh"] == 8
    assert "Reprocessing “Sales 2024” v1" in text_of(outputs["feedback"])


def test_reprocess_refused_by_the_service_is_explained(monkeypatch):
    from data.errors import Conflict

    def busy(*args):
        raise Conflict("Version 2 is being processed right now.")

    monkeypatch.setattr(gateway, "dataset_meta", lambda s, o, d, v=None: SALES)
    monkeypatch.setattr(gateway, "reprocess", busy)
    monkeypatch.setattr(callbacks, "get_services", lambda: None)
    event = {"rowId": SALES["id"], "value": {"action": "reprocess", "version": 2}}
    outputs = callbacks.handle_row_action("owner", event, {}, 7)
    assert "being processed right now" in text_of(outputs["feedback"])
    assert outputs["refresh"] is callbacks.no_update


def grid_expression(expression: str, row: dict) -> str:
    """Evaluate a column's JS expression (`params.data.x` joined with `+` and
    string literals) for a row, as text."""
    import re

    python = re.sub(
        r"params\.data\.(\w+)", lambda m: repr(str(row.get(m.group(1)))), expression
    )
    return str(eval(python, {"__builtins__": {}}))


def quick_filter_texts(row: dict) -> list[str]:
    """What AG Grid's quick filter matches for each column of a row."""
    texts = []
    for column in layout.GRID_COLUMNS:
        getter: Any = column.get("getQuickFilterText") or column.get("valueGetter")
        if getter:
            texts.append(grid_expression(getter["function"], row))
        else:
            texts.append(str(row.get(column["field"])))
    return texts


@pytest.mark.parametrize(
    ("status", "shown"),
    [("cached", "Ready"), ("processed", "Ready"), ("uploaded", "Queued"),
     ("processing", "Processing"), ("failed", "Failed")],
)  # fmt: skip
def test_search_and_status_filter_match_the_word_the_badge_shows(status, shown):
    data = {**SALES, "versions": [version(1, status, 1234)]}
    (row,) = layout.grid_rows([data], {})
    assert row["status_text"] == shown
    # The grid's badge looks like the analysis page's badge for the same status.
    badge = widgets.status_badge(status)
    assert f"text-bg-{row['status_colour']} " in badge.className
    assert f"bi {row['status_icon']} " in badge.children[0].className
    texts = quick_filter_texts(row)
    assert any(shown in text for text in texts)
    if shown.lower() != status:
        assert not any(status in text.lower() for text in texts), texts
    (status_column,) = [c for c in layout.GRID_COLUMNS if c["field"] == "status"]
    assert grid_expression(status_column["filterValueGetter"]["function"], row) == shown
    # Rows and dates are searched as displayed ("1,234", not 1234).
    assert "1,234" in texts


@pytest.mark.parametrize(
    ("colour", "icon_class"),
    [("success", "bi-check-circle"), ("warning", "bi-exclamation-triangle"),
     ("danger", "bi-exclamation-octagon"), ("info", "bi-info-circle")],
)  # fmt: skip
def test_feedback_wears_the_icon_of_its_kind(colour, icon_class):
    alert = callbacks.feedback("Something happened.", colour)
    classes = alert.children[0].className.split()
    assert icon_class in classes
    if colour != "success":
        assert "bi-check-circle" not in classes


def test_a_missing_dataset_warning_has_no_success_check(monkeypatch):
    def missing(*args, **kwargs):
        raise NotFound("Dataset not found.")

    monkeypatch.setattr(gateway, "dataset_meta", missing)
    monkeypatch.setattr(callbacks, "get_services", lambda: None)
    event = {"rowId": "c" * 32, "value": {"action": "version", "version": 1}}
    alert = callbacks.handle_row_action("owner", event, {}, 0)["feedback"]
    assert alert.color == "warning"
    assert "bi-exclamation-triangle" in alert.children[0].className


def dataset(key: str, name: str, *statuses: str) -> dict:
    versions = [{"version": n, "status": s} for n, s in enumerate(statuses, 1)]
    return {"id": key, "name": name, "versions": versions}


def test_a_live_event_says_how_each_finished_dataset_ended():
    sales = dataset("a" * 32, "Sales", "processed", "processed")
    visits = dataset("b" * 32, "Visits", "processing")
    alert = callbacks.finished_feedback(True, [sales, visits], [sales["id"]], [])
    assert text_of(alert) == "“Sales” v2 is ready."
    assert alert.color == "success"
    broken = dataset("c" * 32, "Broken", "failed")
    alert = callbacks.finished_feedback(
        True, [sales, broken], [sales["id"], broken["id"]], []
    )
    assert "“Sales” v2 is ready." in text_of(alert)
    assert "“Broken” v1 failed to process." in text_of(alert)
    assert alert.color == "danger"


def test_the_upload_message_stays_until_something_finishes():
    visits = dataset("b" * 32, "Visits", "processing")
    still = [visits["id"]]
    assert (
        callbacks.finished_feedback(True, [visits], still, still) is callbacks.no_update
    )
    # A refresh right after an action keeps the action's message.
    assert (
        callbacks.finished_feedback(False, [visits], still, []) is callbacks.no_update
    )
    # A dataset deleted while processing is not reported as finished.
    assert callbacks.finished_feedback(True, [], still, []) is callbacks.no_update
    text = text_of(callbacks.upload_feedback({"name": "Sales", "version": 2}))
    assert "Sales" in text and "v2" in text and "follow its progress" not in text


def test_the_drop_zone_speaks_to_people_not_to_developers():
    text = text_of(layout.dropzone("zone", 150 * 1024 * 1024))
    assert "up to 150 MB" in text
    assert "/api/" not in text and "POST" not in text
