"""Stream a stored file into pandas chunks, with bounded memory.

`SourceStream` turns the stored bytes into validated UTF-8 (transcoding UTF-16 or
Latin-1), refuses NUL bytes and lines longer than the line limit as it goes, and
counts the bytes read for progress. CSV goes through pandas' C parser in chunks of
`ingest_chunk_rows` rows; JSON arrays are decoded one record at a time (never the
whole document), JSON Lines one line at a time. Memory therefore stays at a few
chunks whatever the file size.

Row numbers are 1-based data rows: the first row after the CSV header (or the first
JSON record) is row 1; blank lines are not counted.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pandas as pd

from data.errors import TooLarge, Unprocessable, ValidationFailed
from data.ingest.values import PANDAS_NULLS

BLOCK_BYTES = 256 * 1024
ERROR_COLUMN = "__error__"
# One column more than the header: a row with too many fields fills it, so the row
# is reported as bad instead of being silently cut (an unquoted "1,234" would
# otherwise shift every later cell).
EXTRA_COLUMN = "__extra__"
_FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_WHITESPACE = re.compile(r"[ \t\r\n]*")


def _after_whitespace(text: str, position: int) -> int:
    """The first position at or after `position` that is not JSON whitespace."""
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


class SourceStream:
    """A read()-able stream of validated UTF-8 bytes from the stored file."""

    def __init__(
        self, raw: BinaryIO, encoding: str, max_line_bytes: int | None = None
    ) -> None:
        self.raw = raw
        self.source_encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)()
        self.passthrough = encoding in ("utf-8", "utf-8-sig")
        self.max_line_bytes = max_line_bytes
        self.block = min(BLOCK_BYTES, max_line_bytes or BLOCK_BYTES)
        self.bytes_read = 0
        self.lines = 0
        self.line_run = 0
        self.pending = bytearray()
        self.eof = False

    def prepend(self, data: bytes) -> None:
        """Put bytes in front of what has not been read yet."""
        self.pending[:0] = data

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes (all remaining when negative)."""
        while not self.eof and (size is None or size < 0 or len(self.pending) < size):
            self._fill()
        if size is None or size < 0:
            size = len(self.pending)
        chunk = bytes(self.pending[:size])
        del self.pending[:size]
        return chunk

    def _fill(self) -> None:
        block = self.raw.read(self.block)
        start = self.bytes_read
        self.bytes_read += len(block)
        self.eof = not block
        try:
            text = self.decoder.decode(block, final=self.eof)
        except UnicodeDecodeError as error:
            raise Unprocessable(
                f"The file is not valid {self.source_encoding} text near byte "
                f"{start + error.start}."
            ) from error
        data = block if self.passthrough else text.encode("utf-8")
        if start == 0 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        if b"\x00" in data:
            raise Unprocessable(
                f"The file contains NUL bytes (near byte {start}); "
                "it is not a text file."
            )
        self._check_lines(data)
        self.pending += data

    def _check_lines(self, data: bytes) -> None:
        """Blocks are never longer than the limit, so only a line that crosses
        block boundaries can exceed it."""
        if self.max_line_bytes is None:
            return
        first = data.find(b"\n")
        if first < 0:
            self.line_run += len(data)
        else:
            self._refuse_long_line(self.line_run + first)
            self.lines += data.count(b"\n")
            self.line_run = len(data) - data.rfind(b"\n") - 1
        self._refuse_long_line(self.line_run)

    def _refuse_long_line(self, length: int) -> None:
        if self.max_line_bytes is not None and length > self.max_line_bytes:
            raise TooLarge(
                f"Line {self.lines + 1} is longer than the "
                f"{self.max_line_bytes // 1024} KB line limit."
            )


@dataclass(frozen=True)
class ReadPlan:
    """How to read a stored file: format, columns and which of them to keep."""

    kind: str
    delimiter: str | None
    names: list[str]
    keys: list[str]
    keep: list[str]
    numeric_keys: list[str]
    chunk_rows: int
    max_value_bytes: int
    category_keys: tuple[str, ...] = ()  # CSV: read as categories (dimensions)
    date_key: str | None = None  # CSV: parsed by the C parser when a chunk allows
    date_format: str | None = None


def read_chunks(stream: SourceStream, plan: ReadPlan) -> Iterator[pd.DataFrame]:
    """DataFrames of at most chunk_rows rows, indexed by 0-based data row."""
    if plan.kind == "csv":
        return csv_chunks(stream, plan)
    return json_chunks(stream, plan)


def csv_chunks(stream: SourceStream, plan: ReadPlan) -> Iterator[pd.DataFrame]:
    """pandas' C parser in chunks; numeric columns parsed natively when clean.

    pandas sizes its rows from the first line, so a synthetic first line with one
    field more than the header is put in front, and the real header row is skipped
    (skiprows counts rows, so a header with a quoted line break is skipped whole).
    """
    special = {*plan.numeric_keys, *plan.category_keys, plan.date_key}
    text_keys = [key for key in plan.keep if key not in special]
    dtypes: dict[str, object] = dict.fromkeys([*text_keys, EXTRA_COLUMN], str)
    dtypes |= dict.fromkeys(plan.category_keys, "category")
    wanted = {*plan.keep, EXTRA_COLUMN}
    stream.prepend(
        ((plan.delimiter or ",").join("x" * (len(plan.keys) + 1)) + "\n").encode()
    )
    try:
        reader = pd.read_csv(
            stream,
            sep=plan.delimiter,
            header=0,
            skiprows=[1],
            names=[*plan.keys, EXTRA_COLUMN],
            usecols=lambda name: name in wanted,
            index_col=False,
            dtype=dtypes,
            # A chunk whose times all fit the format arrives as datetimes (no
            # Python string per cell); otherwise as text, checked cell by cell.
            parse_dates=[plan.date_key] if plan.date_key else False,
            date_format=plan.date_format if plan.date_key else None,
            keep_default_na=False,
            na_values=dict.fromkeys(plan.numeric_keys, PANDAS_NULLS),
            chunksize=plan.chunk_rows,
            encoding="utf-8",
            engine="c",
            skip_blank_lines=True,
        )
        yield from reader
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as error:
        raise Unprocessable(describe_parser_error(str(error))) from error


def describe_parser_error(message: str) -> str:
    """pandas' tokenizer message, said in the user's terms."""
    match = _FIELDS_ERROR.search(message)
    if match:
        expected, line, seen = match.groups()
        return (
            f"Line {line} has {seen} fields but the header has {expected}; "
            "check the quoting of that line."
        )
    return f"The CSV file is malformed: {message.strip()}"


def json_chunks(stream: SourceStream, plan: ReadPlan) -> Iterator[pd.DataFrame]:
    """Records from a JSON array, {"data": [...]} or JSON Lines, as DataFrames."""
    records = json_records(stream, plan.kind, plan.max_value_bytes)
    batch: list[object] = []
    start = 0
    for record in records:
        batch.append(record)
        if len(batch) == plan.chunk_rows:
            yield records_frame(batch, start, plan)
            start += len(batch)
            batch = []
    if batch:
        yield records_frame(batch, start, plan)


class BadRecord:
    """A JSON Lines line that is not valid JSON (reported as a bad row)."""

    def __init__(self, message: str) -> None:
        self.message = message


def records_frame(batch: list[object], start: int, plan: ReadPlan) -> pd.DataFrame:
    """One column per kept key, plus the reason a record is unusable (or None)."""
    wanted = [(plan.names[plan.keys.index(key)], key) for key in plan.keep]
    columns = {
        key: [_cell(r.get(name)) if isinstance(r, dict) else None for r in batch]
        for name, key in wanted
    }
    columns[ERROR_COLUMN] = [_record_error(record) for record in batch]
    index = pd.RangeIndex(start, start + len(batch))
    return pd.DataFrame(columns, index=index, dtype="object")


def batch_frame(records: list[object], plan: ReadPlan) -> pd.DataFrame:
    """An appended batch as the frame of a JSON upload's chunk (rows from 1);
    a record with a field the version does not have is a bad row naming it."""
    known = set(plan.names)
    checked = [_known_fields(record, known) for record in records]
    return records_frame(checked, 0, plan)


def _known_fields(record: object, known: set[str]) -> object:
    if not isinstance(record, dict):
        return record
    unknown = sorted(str(name) for name in record if name not in known)
    if not unknown:
        return record
    return BadRecord(
        f"{', '.join(repr(n) for n in unknown[:3])} "
        f"{'is not a column' if len(unknown) == 1 else 'are not columns'} "
        "of this version"
    )


def _cell(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)[:1000]
    return value


def _record_error(record: object) -> str | None:
    if isinstance(record, dict):
        return None
    if isinstance(record, BadRecord):
        return record.message
    kind = "a list" if isinstance(record, list) else type(record).__name__
    return f"expected an object of column values, got {kind}"


def json_records(
    stream: SourceStream, kind: str, max_value_bytes: int, decoder=None
) -> Iterator[object]:
    """Each record of the document, decoded one at a time."""
    scanner = JsonScanner(stream, max_value_bytes, decoder)
    if kind == "jsonl":
        return scanner.lines()
    if scanner.peek() == "[":
        return scanner.top_level(scanner.array())
    return scanner.top_level(scanner.wrapped())


class JsonScanner:
    """Incremental JSON: decodes one value at a time from a growing text buffer."""

    def __init__(self, stream, max_value_bytes: int, decoder=None) -> None:
        self.stream = stream
        self.decoder = decoder or json.JSONDecoder()
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.max_value = max_value_bytes
        self.buffer = ""
        self.position = 0
        self.eof = False
        self.count = 0

    def _fill(self) -> bool:
        if self.eof:
            return False
        block = self.stream.read(BLOCK_BYTES)
        self.eof = not block
        if self.position > BLOCK_BYTES:
            self.buffer = self.buffer[self.position :]
            self.position = 0
        self.buffer += self.text.decode(block, final=self.eof)
        return True

    def peek(self) -> str | None:
        """The next non-whitespace character (not consumed), None at the end."""
        while True:
            self.position = _after_whitespace(self.buffer, self.position)
            if self.position < len(self.buffer):
                return self.buffer[self.position]
            if not self._fill():
                return None

    def take(self, expected: str) -> None:
        """Consume one expected character."""
        found = self.peek()
        if found != expected:
            seen = "the end of the file" if found is None else repr(found)
            raise Unprocessable(
                f"Invalid JSON after record {self.count}: expected "
                f"{expected!r}, found {seen}."
            )
        self.position += 1

    def value(self) -> object:
        """Decode the next complete value, reading more text while it is cut off."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as error:
                if self._read_more():
                    continue
                raise Unprocessable(
                    f"Invalid JSON in record {self.count + 1}: {error.msg}."
                ) from error
            except RecursionError as error:
                raise Unprocessable(
                    f"Record {self.count + 1} is nested too deeply to read."
                ) from error
            except ValueError as error:  # an integer with thousands of digits
                raise Unprocessable(
                    f"Record {self.count + 1} holds a number with too many digits."
                ) from error
            # A number cut at the end of the buffer would decode as a shorter one.
            if end == len(self.buffer) and self._read_more():
                continue
            if end - self.position > self.max_value:
                raise self._too_large()
            self.position = end
            return value

    def _read_more(self) -> bool:
        if len(self.buffer) - self.position > self.max_value:
            raise self._too_large()
        return self._fill()

    def _too_large(self) -> TooLarge:
        return TooLarge(
            f"Record {self.count + 1} is larger than the "
            f"{self.max_value // 1024} KB record limit."
        )

    def array(self) -> Iterator[object]:
        """The values of a JSON array, one at a time."""
        self.take("[")
        if self.peek() == "]":
            self.position += 1
            return
        while True:
            yield self.value()
            self.count += 1
            if self.peek() == "]":
                self.position += 1
                return
            self.take(",")

    def wrapped(self) -> Iterator[object]:
        """The records of {"data": [...]}; other keys are read and ignored."""
        self.take("{")
        found = False
        while self.peek() != "}":
            key = self.value()
            if not isinstance(key, str):
                raise Unprocessable("Invalid JSON: object keys must be strings.")
            self.take(":")
            if key == "data" and not found and self.peek() == "[":
                found = True
                yield from self.array()
            else:
                self.value()
            if self.peek() != ",":
                break
            self.position += 1
        self.take("}")
        if not found:
            raise Unprocessable(
                'A JSON object must hold its records in a "data" array.'
            )

    def top_level(self, items: Iterator[object]) -> Iterator[object]:
        """Yield the items, then insist that nothing but whitespace follows."""
        yield from items
        if self.peek() is not None:
            raise Unprocessable("Unexpected content after the end of the JSON data.")

    def lines(self) -> Iterator[object]:
        """JSON Lines: one record per non-blank line; bad lines become BadRecords."""
        for number, line in enumerate(self._text_lines(), start=1):
            if not line.strip():
                continue
            try:
                yield self.decoder.decode(line)
            except (ValueError, RecursionError) as error:
                reason = (
                    "nested too deeply"
                    if isinstance(error, RecursionError)
                    else (getattr(error, "msg", str(error)))
                )
                yield BadRecord(f"line {number} is not valid JSON ({reason})")

    def _text_lines(self) -> Iterator[str]:
        while self._fill():
            *complete, self.buffer = self.buffer.split("\n")
            yield from complete
        if self.buffer:
            yield self.buffer


def sample_rows(text: str, delimiter: str, limit: int) -> list[list[str]]:
    """The first `limit` rows of CSV text (header first), via the csv module."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) > limit:
                break
    except csv.Error as error:
        raise ValidationFailed(f"The CSV cannot be read: {error}.") from error
    return rows
