"""Recognise an upload by its content: format, text encoding and CSV delimiter.

The file name is never trusted. Binary formats (images, archives, compressed data,
spreadsheets) are refused by their magic bytes before anything is decoded, so a
gzip bomb named .csv is never decompressed. Text is UTF-8 (with or without BOM),
UTF-16/32 with a BOM or a recognisable NUL pattern, else Windows-1252 / Latin-1.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from dataclasses import dataclass

from data.errors import TooLarge, Unprocessable, UnsupportedMedia

MAGIC_NUMBERS: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx file is one)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.xls)"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable program"),
]
BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
DELIMITERS = [",", ";", "\t", "|"]
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# The line limit (Settings.max_line_kb) bounds cells; csv's own 128 KB default would
# misreport a long but allowed cell as "not CSV".
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
SUPPORTED = (
    'Upload a CSV file or JSON (an array of objects, JSON Lines or {"data": [...]}).'
)


@dataclass(frozen=True)
class FileFormat:
    """What a file is: csv/json/jsonl, its encoding and (CSV) its delimiter."""

    kind: str
    encoding: str
    delimiter: str | None = None

    @property
    def extension(self) -> str:
        """The object-store extension: source.csv or source.json."""
        return "csv" if self.kind == "csv" else "json"


def sniff(sample: bytes, complete: bool, max_line_bytes: int) -> tuple[FileFormat, str]:
    """Detect the format of a file from its first bytes; return it and the text."""
    if not sample.strip(b" \t\r\n"):
        raise Unprocessable("The file is empty.")
    refuse_binary(sample)
    encoding = detect_encoding(sample, complete)
    text = decode_sample(sample, encoding, complete)
    if "\x00" in text:
        raise UnsupportedMedia("The file contains NUL bytes, so it is not a text file.")
    _refuse_control_characters(text)
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise Unprocessable("The file is empty.")
    if body.startswith(("[", "{")):
        return FileFormat(_json_kind(body), encoding), text
    text = complete_lines(text, complete, max_line_bytes)
    refuse_long_lines(text, max_line_bytes)
    return FileFormat("csv", encoding, detect_delimiter(text)), text


def refuse_binary(sample: bytes) -> None:
    """Refuse known binary formats by their magic bytes."""
    for magic, name in MAGIC_NUMBERS:
        if sample.startswith(magic):
            raise UnsupportedMedia(f"The file is {name}, not CSV or JSON. {SUPPORTED}")


def detect_encoding(sample: bytes, complete: bool) -> str:
    """BOM first, then the UTF-16 NUL pattern, then UTF-8, then cp1252 / Latin-1."""
    for bom, encoding in BOMS:
        if sample.startswith(bom):
            return encoding
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _utf16_without_bom(sample: bytes) -> str | None:
    """ASCII text in UTF-16 has a NUL in every other byte."""
    head = sample[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode_sample(sample: bytes, encoding: str, complete: bool) -> str:
    """Decode the sample; a cut multi-byte character at its end is dropped."""
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
    except UnicodeDecodeError as error:
        raise UnsupportedMedia(
            f"The file is not valid {encoding} text (byte {error.start})."
        ) from error


def _refuse_control_characters(text: str) -> None:
    head = text[:65536]
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\r\n\f")
    if controls > max(2, len(head) // 100):
        raise UnsupportedMedia(f"The file looks binary, not CSV or JSON. {SUPPORTED}")


def _json_kind(body: str) -> str:
    """'[...]' is a JSON array; '{...}' is either {"data": [...]} or JSON Lines."""
    if body.startswith("["):
        return "json"
    first_line = body.split("\n", 1)[0].strip()
    try:
        first = json.loads(first_line)
    except (ValueError, RecursionError):
        return "json"  # an object spread over several lines: {"data": [...]}
    if isinstance(first, dict) and isinstance(first.get("data"), list):
        rest = body[len(first_line) :].strip()
        return "jsonl" if rest.startswith("{") else "json"
    return "jsonl"


def complete_lines(text: str, complete: bool, max_line_bytes: int) -> str:
    """Drop a cut-off last line; refuse it when even its start is longer than the
    line limit (the sample holds the limit plus some, so a first data line of
    50 MB is refused here, as the line it is)."""
    if complete:
        return text
    cut = text.rfind("\n")
    if len(text[cut + 1 :].encode("utf-8")) > max_line_bytes:
        number = text.count("\n", 0, cut + 1) + 1
        raise TooLarge(
            f"Line {number} is longer than the {max_line_bytes // 1024} KB line limit."
        )
    if cut < 0:
        raise TooLarge(
            f"Line 1 is longer than the {max_line_bytes // 1024} KB line limit."
        )
    return text[: cut + 1]


def refuse_long_lines(text: str, max_line_bytes: int) -> None:
    """413 for the first whole line of the sample over the limit (UTF-8 bytes),
    as processing would refuse it, rather than a confusing error about its
    content.

    A character takes 1 to 4 bytes, so only lines of more than a quarter of the
    limit in characters can be over it, and each of those holds a whole aligned
    block of an eighth of the limit without a newline: only such blocks' lines
    are measured (a few dozen probes for a 4 MB sample, instead of every line).
    """
    step = max(1, max_line_bytes // 8)
    measured_to = 0
    for block in range(0, len(text) - step + 1, step):
        if block < measured_to or text.find("\n", block, block + step) != -1:
            continue
        start = text.rfind("\n", 0, block) + 1
        end = text.find("\n", block + step)
        measured_to = len(text) if end < 0 else end
        if len(text[start:measured_to].encode()) > max_line_bytes:
            number = text.count("\n", 0, start) + 1
            raise TooLarge(
                f"Line {number} is longer than the {max_line_bytes // 1024} KB "
                "line limit."
            )


def detect_delimiter(text: str) -> str:
    """The delimiter splitting the first lines into equally many (≥ 2) fields."""
    best, best_score = None, 0
    for delimiter in DELIMITERS:
        score = _delimiter_score(text, delimiter)
        if score > best_score:
            best, best_score = delimiter, score
    if best is None:
        raise UnsupportedMedia(
            "This does not look like a CSV file: no comma, semicolon, tab or pipe "
            f"separates its columns. {SUPPORTED}"
        )
    return best


def _delimiter_score(text: str, delimiter: str) -> int:
    """Header width when at least 90% of the first 50 rows have that width."""
    try:
        rows = [row for row in itertools.islice(_rows(text, delimiter), 50) if row]
    except csv.Error:
        return 0
    if not rows or len(rows[0]) < 2:
        return 0
    width = len(rows[0])
    consistent = sum(1 for row in rows if len(row) == width)
    return width if consistent >= 0.9 * len(rows) else 0


def _rows(text: str, delimiter: str):
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def read_header(text: str, delimiter: str) -> list[str]:
    """The header row's names, stripped."""
    try:
        header: list[str] = next(_rows(text, delimiter), [])
    except csv.Error as error:
        raise UnsupportedMedia(f"The header row cannot be read: {error}.") from error
    return [name.strip().lstrip("\ufeff").strip() for name in header]
