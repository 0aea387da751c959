"""From upload to anomalies: the sample file through the real ingest path."""

from __future__ import annotations

from tests.api_calls import upload_sample
from tests.integration.ingest.conftest import wait_for_status


def test_uploaded_sample_is_cached_and_flags_the_three_days(make_app, new_user):
    """A user uploads the sample; ingest processes it, warms the default view (status
    cached) and the analytics API flags exactly Jan 3, 15 and 27."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)

    def progress():
        url = f"/api/datasets/{dataset_id}/progress"
        return client.get(url, headers=user["headers"]).get_json()

    assert wait_for_status(progress, wanted=("cached", "failed"))["status"] == "cached"
    response = client.get(
        f"/api/analytics/{dataset_id}?metric=revenue", headers=user["headers"]
    )
    view = response.get_json()
    assert response.status_code == 200 and view["cached"] is True
    assert [a["t"][:10] for a in view["anomalies"]] == [
        "2024-01-03",
        "2024-01-15",
        "2024-01-27",
    ]
    assert view["anomalies"][0]["explanation"].startswith("Revenue on 2024-01-03 was ")
    assert view["summary"]["median"] == 24500
    assert view["methods"]["zscore"]["flagged"] == 0
