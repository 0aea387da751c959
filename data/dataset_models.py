"""Typed shapes of a dataset version as the API and the pages see it.

`DatasetVersionView` is what `data.datasets.get_dataset` (and the upload, which
answers with the stored version) returns; `DatasetSummary` is one entry of the
dataset list. The OpenAPI document's schemas are generated from these models
(api/openapi.py: model_schema), and tests/integration/test_api_responses.py checks
the API's real answers against the served document. Extra keys are allowed: a
client must ignore what it does not know.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

Status = Literal["uploaded", "processing", "processed", "cached", "failed"]
# An instant as the API writes it (ISO 8601 with offset).
Moment = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class Column(_Shape):
    """One column of a version: its name, field key, type, role and unit."""

    name: str
    key: str
    type: Literal["datetime", "number", "string", "boolean"]
    role: Literal["time", "metric", "dimension", "identifier", "personal"]
    unit: str | None = None


class Progress(_Shape):
    """Rows done of a version being processed (100 % once readable)."""

    rowsDone: int
    rowsTotal: int | None
    percent: float | None
    stalled: bool


class VersionProgress(Progress):
    """A version's status and progress, for polling."""

    id: str
    version: int
    status: Status
    error: str | None


class RowError(_Shape):
    """One row the reader skipped, and why."""

    row: int
    column: str | None = None
    message: str


class VersionSummary(_Shape):
    """One version in a dataset's list of versions."""

    version: int
    status: Status
    rowCount: int
    uploadedAt: Moment
    originalName: str | None = None


class DatasetVersionView(_Shape):
    """One version of a dataset with its columns, status, errors and progress."""

    id: str
    name: str
    version: int
    latestVersion: int
    revision: int
    status: Status
    error: str | None
    format: Literal["csv", "json", "jsonl"]
    originalName: str | None
    sizeBytes: int
    checksum: str
    uploadedAt: Moment
    updatedAt: Moment
    columns: list[Column]
    timeColumn: str
    metricColumns: list[str]
    dimensionColumns: list[str]
    rowCount: int
    skippedRows: int
    rowErrors: list[RowError]
    statusHistory: list[dict[str, Any]]
    progress: Progress
    versions: list[VersionSummary]


class DatasetSummary(_Shape):
    """One dataset in the owner's list: its latest version and all versions."""

    id: str
    name: str
    latestVersion: int
    status: Status
    rowCount: int
    uploadedAt: Moment
    updatedAt: Moment
    versions: list[VersionSummary]


# Disclosure control (data/disclosure.py): agents see no cell computed from fewer
# than `minEntities` distinct entities. 1 would hide nothing, so 2 is the least;
# the default is the usual statistical-office threshold.
DEFAULT_MIN_ENTITIES = 10
MIN_ENTITIES_LOW, MIN_ENTITIES_HIGH = 2, 1000


class DisclosureSetting(_Shape):
    """A dataset's disclosure setting: k, and what an entity is (the dataset's
    first identifier column, or rows when it has none)."""

    datasetId: str
    minEntities: int
    entity: str
