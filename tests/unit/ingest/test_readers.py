"""Streaming readers: transcoding, guards, CSV chunks and incremental JSON."""

from __future__ import annotations

import io
import json
import random

import pytest

from data.errors import TooLarge, Unprocessable
from data.ingest.readers import (
    ERROR_COLUMN,
    EXTRA_COLUMN,
    ReadPlan,
    SourceStream,
    describe_parser_error,
    json_chunks,
    json_records,
    read_chunks,
)


class Trickle(io.RawIOBase):
    """A raw stream that hands out bytes in random small pieces."""

    def __init__(self, data: bytes, seed: int) -> None:
        self.data, self.position = data, 0
        self.random = random.Random(seed)

    def read(self, size: int = -1) -> bytes:
        step = self.random.randint(1, 7)
        piece = self.data[self.position : self.position + step]
        self.position += len(piece)
        return piece


def stream(data: bytes, encoding: str = "utf-8", max_line: int | None = None):
    return SourceStream(io.BytesIO(data), encoding, max_line)


def test_transcodes_to_utf8_and_drops_the_bom():
    text = "date,city\n2024-01-01,Zürich\n"
    for encoding in ("utf-16", "utf-8-sig", "cp1252"):
        assert stream(text.encode(encoding), encoding).read() == text.encode()


def test_counts_bytes_read_for_progress():
    source = stream(b"a,b\n" * 1000)
    source.read(10)
    assert 10 <= source.bytes_read <= 4000


def test_invalid_bytes_name_their_offset():
    with pytest.raises(Unprocessable, match="not valid utf-8 text near byte 6"):
        stream(b"a,b\n1,\xff\n").read()


def test_nul_bytes_anywhere_are_refused():
    data = b"a,b\n" * 100_000 + b"1,\x002\n"
    with pytest.raises(Unprocessable, match="NUL bytes"):
        stream(data).read()


def test_a_long_line_across_blocks_is_too_large_with_its_line_number():
    data = b"a,b\n1,2\n" + b"x" * 3000 + b"\n3,4\n"
    source = SourceStream(Trickle(data, 1), "utf-8", 1000)
    with pytest.raises(TooLarge, match="Line 3 is longer than the 0 KB"):
        source.read()
    assert stream(b"a,b\n" + b"y" * 999 + b"\n", max_line=1000).read()


def plan(kind="csv", names=("date", "v", "tag"), numeric=("c1",), chunk_rows=2):
    keys = [f"c{i}" for i in range(len(names))]
    return ReadPlan(
        kind=kind,
        delimiter="," if kind == "csv" else None,
        names=list(names),
        keys=keys,
        keep=keys,
        numeric_keys=list(numeric),
        chunk_rows=chunk_rows,
        max_value_bytes=1 << 20,
    )


def test_csv_chunks_keep_row_numbers_across_chunks():
    data = b"date,v,tag\n2024-01-01,1,a\n\n2024-01-02,x,=b\n2024-01-03,NaN,\n"
    frames = list(read_chunks(stream(data), plan()))
    assert [len(frame) for frame in frames] == [2, 1]
    assert list(frames[1].index) == [2]
    assert frames[0]["c2"].tolist() == ["a", "=b"]
    assert frames[1]["c2"].tolist() == [""]


def test_csv_rows_with_extra_fields_are_marked_not_cut():
    data = b"date,v,tag\n2024-01-01,1,a\n2024-01-02,1,234,b\n2024-01-03,3\n"
    (frame,) = list(read_chunks(stream(data), plan(chunk_rows=10)))
    assert frame[EXTRA_COLUMN].fillna("").tolist() == ["", "b", ""]
    assert frame["c2"].tolist() == ["a", "234", ""]


def test_pandas_tokenizer_messages_are_rephrased():
    message = "Error tokenizing data. C error: Expected 3 fields in line 7, saw 5"
    assert describe_parser_error(message).startswith(
        "Line 7 has 5 fields but the header has 3"
    )


@pytest.mark.parametrize("seed", range(5))
def test_json_array_decodes_across_arbitrary_block_boundaries(seed):
    records = [
        {"t": f"2024-01-{d:02d}", "v": d * 1.5, "s": "é,]}" * d} for d in range(1, 29)
    ]
    data = json.dumps(records).encode()
    source = SourceStream(Trickle(data, seed), "utf-8")
    assert list(json_records(source, "json", 1 << 20)) == records


def test_numbers_cut_at_a_buffer_end_are_read_whole():
    data = b"[" + b",".join(b"1234567890123" for _ in range(50_000)) + b"]"
    values = list(json_records(stream(data), "json", 1 << 20))
    assert set(values) == {1234567890123} and len(values) == 50_000


def test_wrapped_data_and_json_lines():
    wrapped = b'{"meta": {"x": [1, {"data": 0}]}, "data": [{"a": 1}, {"a": 2}], "n": 2}'
    assert list(json_records(stream(wrapped), "json", 1 << 20)) == [{"a": 1}, {"a": 2}]
    lines = b'{"a": 1}\n\n{"a": 2}\n{broken\n'
    records = list(json_records(stream(lines), "jsonl", 1 << 20))
    assert records[:2] == [{"a": 1}, {"a": 2}]
    assert "line 4 is not valid JSON" in records[2].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'[{"a": 1},, {"a": 2}]', "Invalid JSON in record 2"),
        (b'[{"a": 1}', "expected ','"),
        (b'[{"a": 1}] [2]', "Unexpected content"),
        (b'{"rows": [{"a": 1}]}', '"data" array'),
        (b"[" + b"9" * 5000 + b"]", "too many digits"),
    ],
)
def test_broken_json_fails_clearly(data, message):
    with pytest.raises(Unprocessable, match=message):
        list(json_records(stream(data), "json", 1 << 20))


def test_a_record_above_the_size_limit_is_too_large():
    data = json.dumps([{"a": "x" * 5000}]).encode()
    with pytest.raises(TooLarge, match="larger than the 1 KB record limit"):
        list(json_records(stream(data), "json", 1024))


def test_json_chunks_flag_records_that_are_not_objects():
    data = b'[{"date": "2024-01-01", "v": 1, "tag": {"x": 1}}, 5, [1]]'
    (frame,) = list(json_chunks(stream(data), plan(kind="json", chunk_rows=10)))
    assert frame["c2"].tolist()[0] == '{"x": 1}'
    errors = frame[ERROR_COLUMN].tolist()
    assert errors[0] is None
    assert "got int" in errors[1] and "got a list" in errors[2]
