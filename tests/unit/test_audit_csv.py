"""The audit CSV export is safe to open in a spreadsheet (auth/audit_view.py):
a cell a spreadsheet would run as a formula starts with an apostrophe; and the
/audit page's words for events (components/audit_layout.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from auth.audit_view import CSV_COLUMNS, events_csv, safe_cell
from components.audit_layout import actor_text, filter_query, resource_text

AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def event(**fields) -> dict:
    row = {"id": 7, "occurred_at": AT, "actor_type": "user", "actor_id": None,
           "user_id": "u-1", "email": "ann@example.com", "action": "login",
           "resource": None, "outcome": "success", "ip": "10.0.0.1",
           "request_id": "r1", "details": {}}  # fmt: skip
    return {**row, **fields}


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"],
)
def test_a_formula_start_gets_a_leading_apostrophe(hostile):
    assert safe_cell(hostile) == "'" + hostile


@pytest.mark.parametrize("harmless", ["ann@example.com", "dataset:abc", "", "1.5"])
def test_other_cells_are_left_alone(harmless):
    assert safe_cell(harmless) == harmless


def test_every_column_of_the_export_is_made_safe():
    hostile = event(
        email="-x@example.com", resource="=cmd|' /C calc'!A0", ip="+1",
        request_id="@r", actor_id="\tagent", action="=1+1", outcome="-",
    )  # fmt: skip
    [header, row] = list(csv.reader(io.StringIO(events_csv([hostile]))))
    assert header == [name for name, _read in CSV_COLUMNS]
    cells = dict(zip(header, row, strict=True))
    for name in ("email", "resource", "ip", "request_id", "actor_id", "action",
                 "outcome"):  # fmt: skip
        assert cells[name].startswith("'"), name
    assert cells["at"] == "2026-12-01T09:30:00+00:00" and cells["id"] == "7"


def test_details_are_one_json_cell():
    row = event(details={"name": "=evil", "version": 2})
    [_header, cells] = list(csv.reader(io.StringIO(events_csv([row]))))
    assert cells[-1] == '{"name": "=evil", "version": 2}'


def test_the_page_names_actors_and_resources_in_words():
    names = {"a" * 32: "Sales"}
    assert resource_text(f"dataset:{'a' * 32}/share:1234abcd-9", names) == (
        "Sales · share link 1234abcd"
    )
    assert resource_text("dataset:" + "b" * 32, names) == "dataset bbbbbbbb"
    assert resource_text("/api/datasets", names) == "/api/datasets"
    assert actor_text(event(details={"via": "token"})) == "ann@example.com (API token)"
    assert actor_text(event(actor_type="share", actor_id="5678efgh-1")) == (
        "Share link 5678efgh"
    )


def test_the_end_date_of_the_filters_counts_whole():
    assert filter_query("", "login", "", "2026-12-01", "2026-12-01") == {
        "action": "login", "from": "2026-12-01", "to": "2026-12-02",
    }  # fmt: skip
