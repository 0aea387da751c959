"""Call the REST API from tests like a program would."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import SAMPLE_CSV


def post_file(client, user, data: bytes, filename="data.csv", path="upload", **form):
    """A multipart upload to /api/datasets/<path> (datasetName "Sales" unless given),
    encoded in memory (the test client would otherwise spool big bodies to a
    temporary file it never closes)."""
    upload = FileStorage(io.BytesIO(data), filename=filename)
    boundary, body = encode_multipart({"file": upload, "datasetName": "Sales", **form})
    return client.post(
        f"/api/datasets/{path}",
        headers=user["headers"],
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def upload_sample(client, user, name="Sales") -> str:
    """Upload the sample CSV (time: date, metric: revenue) as the user; returns the
    dataset id (processed by the time this returns on an inline-ingest app)."""
    response = post_file(
        client,
        user,
        SAMPLE_CSV.read_bytes(),
        filename="sales.csv",
        datasetName=name,
        timeColumn="date",
        metricColumn="revenue",
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]
