"""Scheduled reports: a fake clock drives a schedule, which delivers its PDF to a
local SMTP server (aiosmtpd on a free port); time-zone aware firing times."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import subprocess
import uuid

import pytest
from aiosmtpd.controller import Controller

from data import postgres
from data.reports import schedules
from tests.api_calls import upload_sample
from tests.conftest import POSTGRES_SERVER
from tests.services import free_port

UTC = dt.UTC


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A local SMTP server on a free port; yields (port, inbox)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def own_database():
    """A database of this test alone: run_due sees every schedule stored in it."""
    url = f"{POSTGRES_SERVER}/ib_test_sched_{uuid.uuid4().hex[:10]}"
    postgres.ensure_database(url)
    yield url
    postgres.drop_database(url)


@pytest.fixture
def scheduled_app(make_app, new_user, smtp_server, own_database):
    port, inbox = smtp_server
    app = make_app(
        database_url=own_database,
        ingest_mode="inline",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="reports@insightboard.test",
        report_schedule_interval_s=0,
    )
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user, name="January Sales")
    return app, client, user, dataset_id, inbox


def schedule(client, user, **body):
    return client.post("/api/reports/schedules", json=body, headers=user["headers"])


def test_a_daily_schedule_delivers_the_pdf_when_the_fake_clock_reaches_it(
    scheduled_app, tmp_path
):
    app, client, user, dataset_id, inbox = scheduled_app
    services = app.server.extensions["insightboard"]
    created = schedule(
        client, user, datasetId=dataset_id, frequency="daily", time="08:00",
        timezone="Europe/Berlin", period="view",
        recipients=["Boss@Example.com", "team@example.com"],
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    first = dt.datetime.fromisoformat(created.get_json()["nextRunAt"])
    assert first.astimezone(schedules.ZoneInfo("Europe/Berlin")).hour == 8
    with app.server.app_context():
        assert schedules.run_due(services, first - dt.timedelta(minutes=1)) == 0
        assert inbox.messages == []
        assert schedules.run_due(services, first + dt.timedelta(seconds=5)) == 1
        # The same instant again: already claimed, nothing is delivered twice.
        assert schedules.run_due(services, first + dt.timedelta(seconds=6)) == 0
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert sorted(recipients) == ["boss@example.com", "team@example.com"]
    assert message["From"] == "reports@insightboard.test"
    assert "January Sales" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = tmp_path / "mailed.pdf"
    pdf.write_bytes(attachment.get_content())
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "January Sales" in text and "2024-01-15" in text
    listed = client.get("/api/reports/schedules", headers=user["headers"]).get_json()
    (row,) = listed["schedules"]
    assert row["lastError"] is None and row["lastReportId"]
    assert dt.datetime.fromisoformat(row["nextRunAt"]) - first == dt.timedelta(days=1)
    report = client.get(f"/api/reports/{row['lastReportId']}", headers=user["headers"])
    assert report.get_json()["scheduleId"] == row["id"]


def test_a_failed_delivery_is_recorded_not_raised(make_app, new_user, own_database):
    app = make_app(
        database_url=own_database, ingest_mode="inline", report_schedule_interval_s=0
    )
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    created = schedule(client, user, datasetId=dataset_id, frequency="weekly",
                       weekday="monday", period="view",
                       recipients=["a@example.com"]).get_json()  # fmt: skip
    due = dt.datetime.fromisoformat(created["nextRunAt"]) + dt.timedelta(seconds=1)
    with app.server.app_context():
        services = app.server.extensions["insightboard"]
        assert schedules.run_due(services, due) == 1
    (row,) = client.get("/api/reports/schedules", headers=user["headers"]).get_json()[
        "schedules"
    ]
    assert "SMTP_HOST" in row["lastError"]


def test_schedules_are_owner_scoped_and_deleted_with_the_dataset(
    scheduled_app, new_user
):
    _app, client, user, dataset_id, _inbox = scheduled_app
    stranger = new_user(client)
    body = {"datasetId": dataset_id, "frequency": "daily", "recipients": ["a@b.co"]}
    created = schedule(client, user, **body).get_json()
    assert schedule(client, stranger, **body).status_code == 404
    mine = f"/api/reports/schedules/{created['id']}"
    assert client.delete(mine, headers=stranger["headers"]).status_code == 404
    listed = client.get("/api/reports/schedules", headers=stranger["headers"])
    assert listed.get_json() == {"schedules": []}
    client.delete(f"/api/datasets/{dataset_id}", headers=user["headers"])
    left = client.get("/api/reports/schedules", headers=user["headers"]).get_json()
    assert left == {"schedules": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"frequency": "hourly"}, "frequency"),
        ({"frequency": "weekly"}, "weekday"),
        ({"frequency": "daily", "time": "25:00"}, "time"),
        ({"frequency": "daily", "timezone": "Mars/Base"}, "timezone"),
        ({"frequency": "daily", "recipients": ["not-an-address"]}, "recipients"),
        ({"frequency": "daily", "recipients": []}, "recipients"),
        ({"frequency": "daily", "period": "forever"}, "period"),
    ],
)
def test_bad_schedules_name_the_field(scheduled_app, body, field):
    _app, client, user, dataset_id, _inbox = scheduled_app
    request = {"datasetId": dataset_id, "recipients": ["a@example.com"], **body}
    response = schedule(client, user, **request)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field


BERLIN_MONDAY_8 = {"timezone": "Europe/Berlin", "weekday": 1,
                   "time_of_day": dt.time(8, 0)}  # fmt: skip


def test_weekly_firing_keeps_local_time_across_daylight_saving():
    summer = schedules.next_run(BERLIN_MONDAY_8, dt.datetime(2026, 10, 21, tzinfo=UTC))
    winter = schedules.next_run(BERLIN_MONDAY_8, summer)
    assert summer == dt.datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # CET after Oct 25
    assert winter == dt.datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    before = schedules.next_run(BERLIN_MONDAY_8, dt.datetime(2026, 10, 12, tzinfo=UTC))
    assert before == dt.datetime(2026, 10, 12, 6, 0, tzinfo=UTC)  # CEST


def test_previous_week_period_is_monday_to_sunday_in_the_schedule_zone():
    row = {"params": {"metric": "revenue"}, "period": "previous_week",
           "timezone": "America/New_York"}  # fmt: skip
    # Monday 2026-11-30 03:00 UTC is still Sunday evening in New York.
    params = schedules.period_params(row, dt.datetime(2026, 11, 30, 3, tzinfo=UTC))
    assert params == {"metric": "revenue", "from": "2026-11-16", "to": "2026-11-22"}
    daily = {**row, "period": "previous_day"}
    assert (
        schedules.period_params(daily, dt.datetime(2026, 11, 30, 3, tzinfo=UTC))["from"]
        == "2026-11-28"
    )


def test_the_ticker_thread_delivers_with_its_clock(scheduled_app):
    app, client, user, dataset_id, inbox = scheduled_app
    services = app.server.extensions["insightboard"]
    body = {"datasetId": dataset_id, "frequency": "daily", "period": "view",
            "recipients": ["ticker@example.com"]}  # fmt: skip
    created = schedule(client, user, **body).get_json()
    due = dt.datetime.fromisoformat(created["nextRunAt"]) + dt.timedelta(minutes=1)
    ticker = schedules.ScheduleTicker(services, app.server, 0.2, clock=lambda: due)
    ticker.start()
    try:
        for _ in range(600):  # bounded wait for the delivery, not a timing test
            if inbox.messages:
                break
            ticker.stopped.wait(0.1)
    finally:
        ticker.stop()
    assert [recipients for recipients, _ in inbox.messages] == [["ticker@example.com"]]
