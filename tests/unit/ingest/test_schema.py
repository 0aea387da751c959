"""Schema inference (types and roles) and validation of the user's choice."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from config import load_settings
from data.errors import TooLarge, Unprocessable, ValidationFailed
from data.ingest.analysis import analyse
from data.ingest.schema import Choice, column_names, header_tokens, infer_column

SETTINGS = load_settings({"app_env": "test"})


def csv_of(header: list[str], rows: Sequence[Sequence[object]]) -> bytes:
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def analysed(data: bytes, **choice):
    return analyse(data, True, Choice(**choice), SETTINGS)


def orders(n: int = 40) -> bytes:
    header = ["order_id", "date", "customer_email", "Customer Name", "region"]
    header += ["revenue", "phone", "returned", "price"]
    rows = [
        [
            f"o{i}",
            f"2024-01-{i % 28 + 1:02d}",
            f"person{i}@example.com",
            f"Ann Smith{chr(97 + i % 26)}",
            ["north", "south", "east"][i % 3],
            f'"${1000 + i:,}.50"',
            f"+1 555 010 {i:04d}",
            ["yes", "no"][i % 2],
            f"{i % 5}.5",
        ]
        for i in range(n)
    ]
    return csv_of(header, rows)


def test_roles_and_types_are_inferred():
    schema = analysed(orders()).schema
    roles = {c.name: (c.type, c.role) for c in schema.columns}
    assert roles == {
        "order_id": ("string", "identifier"),
        "date": ("datetime", "time"),
        "customer_email": ("string", "personal"),
        "Customer Name": ("string", "personal"),
        "region": ("string", "dimension"),
        "revenue": ("number", "metric"),
        "phone": ("string", "personal"),
        "returned": ("boolean", "dimension"),
        "price": ("number", "metric"),
    }
    assert schema.column("revenue").unit == "$"
    assert schema.time_column == "date"
    assert schema.metric_columns == ["revenue", "price"]
    assert schema.dimension_columns == ["region", "returned"]
    assert [c.key for c in schema.columns] == [f"c{i}" for i in range(9)]


def test_personal_data_is_hidden_in_the_preview():
    preview = analysed(orders()).preview
    assert preview[0]["customer_email"] == "•••"
    assert preview[0]["phone"] == "•••"
    assert preview[0]["region"] == "north"


@pytest.mark.parametrize(
    ("name", "samples", "role"),
    [
        ("e-mail", ["x"], "personal"),
        ("contact", ["a@b.io", "c@d.org"], "personal"),
        ("name", ["Ann Lee", "Bob Stone"], "personal"),
        ("name", ["Widget", "Gadget"], "dimension"),
        ("product name", ["Widget", "Gadget"], "dimension"),
        ("userId", ["1", "2"], "identifier"),
        (
            "ref",
            [f"{i:08x}-aaaa-bbbb-cccc-dddddddddddd" for i in range(5)],
            "identifier",
        ),
        ("comment", [f"text {i}" for i in range(30)], "identifier"),
        ("store", ["1", "2", "1"], "metric"),
    ],
)
def test_single_column_roles(name, samples, role):
    assert infer_column(name, "c0", samples).role == role


def test_header_tokens():
    assert header_tokens("customerEmail_2") == ["customer", "email", "2"]
    assert header_tokens("Unit Price ($)") == ["unit", "price"]


def test_the_users_choice_wins():
    schema = analysed(
        orders(), metric_columns=("price",), dimension_columns=("order_id",)
    ).schema
    assert schema.metric_columns == ["price"]
    assert schema.dimension_columns == ["order_id"]
    assert schema.column("order_id").role == "dimension"


def test_several_metrics_in_one_comma_separated_field():
    schema = analysed(orders(), metric_columns=("revenue, price",)).schema
    assert schema.metric_columns == ["revenue", "price"]


def test_column_names_match_case_insensitively_when_unambiguous():
    schema = analysed(orders(), time_column="DATE", metric_columns=("Revenue",)).schema
    assert (schema.time_column, schema.metric_columns) == ("date", ["revenue"])


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"time_column": "when"}, "no column 'when'"),
        ({"time_column": "region"}, "'north' is not a date"),
        ({"metric_columns": ("region",)}, "'region' is not numeric"),
        ({"metric_columns": ("date",)}, "already the time column"),
        ({"metric_columns": ("customer_email",)}, "personal data"),
        ({"dimension_columns": ("phone",)}, "personal data"),
        ({"dimension_columns": ("revenue",)}, "already the time column or a metric"),
        ({"time_column": "customer_email"}, "personal data"),
    ],
)
def test_invalid_choices_say_what_is_wrong(choice, message):
    with pytest.raises(Unprocessable, match=message):
        analysed(orders(), **choice)


def test_too_many_dimensions():
    settings = load_settings({"app_env": "test", "max_dimension_columns": 1})
    choice = Choice(dimension_columns=("region", "returned"))
    with pytest.raises(ValidationFailed, match="at most 1 dimension"):
        analyse(orders(), True, choice, settings)


def test_header_problems():
    with pytest.raises(Unprocessable, match="Duplicate column name 'a'"):
        column_names(["a", "b", "a"], 10)
    with pytest.raises(TooLarge, match="11 columns; the limit is 10"):
        column_names([f"c{i}" for i in range(11)], 10)
    with pytest.raises(Unprocessable, match="longer than"):
        column_names(["x" * 300], 10)
    assert column_names(["", "b", ""], 10) == ["column_1", "b", "column_3"]


def test_no_time_or_no_metric_column():
    with pytest.raises(Unprocessable, match="No date or time column"):
        analysed(b"a,b\nx,1\ny,2\n")
    with pytest.raises(Unprocessable, match="No numeric column"):
        analysed(b"date,b\n2024-01-01,x\n2024-01-02,y\n")


def test_header_only_and_truncated_samples():
    with pytest.raises(Unprocessable, match="header row but no data rows"):
        analysed(b"date,revenue\n")
    with pytest.raises(Unprocessable, match="no records"):
        analysed(b"[]")


def test_json_records_and_their_duplicate_keys():
    data = b'[{"t": "2024-01-01", "v": 1, "tag": "a"}, {"t": "2024-01-02", "v": 2}]'
    result = analysed(data)
    assert result.names == ["t", "v", "tag"]
    assert result.schema.metric_columns == ["v"]
    with pytest.raises(Unprocessable, match="Duplicate column name 'v'"):
        analysed(b'[{"t": "2024-01-01", "v": 1, "v": 2}]')


def test_a_json_sample_cut_mid_record_keeps_the_complete_records():
    records = b",".join(
        b'{"t": "2024-01-%02d", "v": %d}' % (d, d) for d in range(1, 29)
    )
    data = b"[" + records + b"]"
    result = analyse(data[: len(data) // 2], False, Choice(), SETTINGS)
    assert 5 < result.sampled_rows < 28
