"""Format, encoding and delimiter detection from content, never from the name."""

from __future__ import annotations

import codecs
import gzip
import zipfile
from io import BytesIO

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from data.errors import TooLarge, Unprocessable, UnsupportedMedia
from data.ingest.sniff import (
    detect_delimiter,
    detect_encoding,
    read_header,
    refuse_long_lines,
    sniff,
)

LINE_LIMIT = 1024 * 1024
CSV = "date,city,revenue\n2024-01-01,Zürich,1\n2024-01-02,Genève,2\n"


def detect(data: bytes, complete: bool = True):
    return sniff(data, complete, LINE_LIMIT)


def zipped() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
        (gzip.compress(b"0" * 1_000_000), "gzip"),
        (zipped(), "ZIP archive"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"\x7fELF\x02\x01\x01", "executable"),
    ],
)
def test_binary_formats_are_refused_by_magic_bytes(data, named):
    with pytest.raises(UnsupportedMedia, match=named):
        detect(data)


def test_nul_bytes_are_refused():
    with pytest.raises(UnsupportedMedia, match="NUL"):
        detect(b"date,revenue\n2024-01-01,1\x00\n")


def test_random_binary_is_refused():
    noise = bytes((i * 7919) % 251 + 1 for i in range(4000))
    with pytest.raises(UnsupportedMedia):
        detect(noise)


@pytest.mark.parametrize(
    "data", [b"", b"  \n\r\n", codecs.BOM_UTF8, "".encode("utf-16")]
)
def test_empty_files_are_refused(data):
    with pytest.raises(Unprocessable, match="empty"):
        detect(data)


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (CSV.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CSV.encode("utf-8"), "utf-8-sig"),
        (CSV.encode("utf-16"), "utf-16"),
        (CSV.encode("utf-16-le"), "utf-16-le"),
        (CSV.encode("utf-16-be"), "utf-16-be"),
        (CSV.encode("utf-32"), "utf-32"),
        (CSV.encode("latin-1"), "cp1252"),
        ("date,v\n2024-01-01,€5\n".encode("cp1252"), "cp1252"),
    ],
)
def test_encodings(encoded, encoding):
    file_format, text = detect(encoded)
    assert file_format.encoding == encoding
    assert file_format.kind == "csv" and file_format.delimiter == ","
    assert "revenue" in text or "€5" in text


def test_bytes_undefined_in_cp1252_fall_back_to_latin_1():
    assert detect_encoding(b"a,b\n\x81\x8d,1\n", True) == "latin-1"


def test_a_utf8_character_cut_by_the_sample_end_is_not_an_error():
    data = "date,city\n2024-01-01,Zürich\n".encode()
    cut = data[: data.index("ü".encode()) + 1]
    file_format, _ = detect(cut, complete=False)
    assert file_format.encoding == "utf-8"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('a,"b;c"\n1,"x;y"\n2,"z;w"\n', ","),
        ('name,note\n"Smith, J","said ""hi"""\n', ","),
    ],
)
def test_delimiters(text, delimiter):
    assert detect_delimiter(text) == delimiter


def test_text_without_columns_is_not_csv():
    with pytest.raises(UnsupportedMedia, match="does not look like a CSV"):
        detect(b"just some words\nand more words\n")


def test_a_first_line_longer_than_the_limit_is_too_large():
    with pytest.raises(TooLarge, match="Line 1 is longer than the 1 KB"):
        sniff(b"x" * 5000, False, 1024)


def test_a_data_line_longer_than_the_limit_is_too_large_not_rowless():
    sample = b"date,revenue\n2024-01-01,1\n2024-01-02," + b"9" * 5000
    with pytest.raises(TooLarge, match="Line 3 is longer than the 1 KB line limit"):
        sniff(sample, False, 1024)


def test_a_cut_off_line_within_the_limit_is_dropped_from_the_sample():
    fmt, text = sniff(
        b"date,revenue\n2024-01-01,1\n2024-01-02," + b"9" * 500, False, 1024
    )
    assert (fmt.kind, text) == ("csv", "date,revenue\n2024-01-01,1\n")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'[{"a": 1}]', "json"),
        (b' \n [\n{"a": 1}]', "json"),
        (b'{"data": [{"a": 1}]}', "json"),
        (b'{\n  "data": [\n {"a": 1}\n ]\n}', "json"),
        (b'{"a": 1}\n{"a": 2}\n', "jsonl"),
        (b'{"a": 1}', "jsonl"),
        (b'{"data": [1]}\n{"data": [2]}\n', "jsonl"),
    ],
)
def test_json_kinds(data, kind):
    file_format, _ = detect(data)
    assert file_format.kind == kind
    assert file_format.extension == "json"


def test_read_header_strips_bom_and_spaces():
    assert read_header("\ufeff date , revenue\n1,2\n", ",") == ["date", "revenue"]


LINE_PIECES = st.sampled_from(["a", "9", ",", "é", "€", "😀", "\n"])


@given(
    text=st.lists(LINE_PIECES, max_size=400).map("".join),
    limit=st.integers(min_value=1, max_value=80),
)
@example(text="x" * 81, limit=80)
@example(text="ab\n" + "😀" * 21 + "\n", limit=80)  # 84 bytes in 21 characters
@example(text="ab\n" + "😀" * 20 + "\n", limit=80)  # exactly at the limit
def test_refuse_long_lines_names_the_first_line_over_the_limit(text, limit):
    """Oracle: every line's UTF-8 length, measured one by one."""
    over = [
        number
        for number, line in enumerate(text.split("\n"), start=1)
        if len(line.encode()) > limit
    ]
    if not over:
        refuse_long_lines(text, limit)
        return
    with pytest.raises(TooLarge) as refused:
        refuse_long_lines(text, limit)
    assert str(refused.value).startswith(f"Line {over[0]} is longer than")
