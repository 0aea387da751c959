"""CSV export: formula injection is neutralised, data survives a round trip."""

from __future__ import annotations

import csv
import io

import pytest

from components.export import anomalies_csv, export_filename, safe_cell
from tests.unit.view_factory import sample_view


@pytest.mark.parametrize(
    "payload",
    ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"],
)
def test_formula_triggers_get_a_leading_quote(payload):
    assert safe_cell(payload) == "'" + payload


def test_plain_text_and_numbers_are_unchanged():
    assert safe_cell("North") == "North"
    assert safe_cell(-12.5) == -12.5
    assert safe_cell(3) == 3
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"


def test_anomalies_csv_has_a_header_and_one_safe_row_per_anomaly():
    view = sample_view()
    view["anomalies"][0]["explanation"] = "=cmd|' /C calc'!A0"
    view["anomalies"][1]["methods"] = ["-iqr", "zscore"]
    rows = list(csv.reader(io.StringIO(anomalies_csv(view["anomalies"]))))
    assert rows[0][:3] == ["date", "value", "expected"]
    assert len(rows) == 1 + len(view["anomalies"])
    assert rows[1][-1] == "'=cmd|' /C calc'!A0"
    assert rows[2][8] == "'-iqr; zscore"
    for row, anomaly in zip(rows[1:], view["anomalies"], strict=True):
        assert row[0] == anomaly["t"]
        assert float(row[1]) == anomaly["value"]
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row)


def test_export_filename_keeps_only_safe_characters():
    assert (
        export_filename("Sales 2024", "revenue") == "Sales_2024-revenue-anomalies.csv"
    )
    name = export_filename('../../etc/passwd"\r\n', None)
    assert "/" not in name and '"' not in name and "\n" not in name
    assert name.endswith(".csv")
