"""Scheduled reports: a view delivered daily or weekly, as PDF, by e-mail.

A schedule fires at a local time of day (and weekday) in its IANA time zone, so
08:00 in Europe/Berlin stays 08:00 across daylight-saving changes. Each firing is
claimed in one PostgreSQL transaction that also moves `next_run_at` on, so
several app processes ticking together deliver once. The delivery (generate,
then mail through the SMTP settings of data.mail) runs as a named task of the job
system. `run_due(services, now)` takes the clock as an argument: the scheduler
thread passes the real time, tests a fake one.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from data import mail
from data import report_records as records
from data.errors import DomainError, NotFound, ValidationFailed
from data.ingest import lifecycle
from data.ingest.jobs import register_task
from data.reports import service as reports
from data.services import Services

log = logging.getLogger(__name__)
FREQUENCIES = ("daily", "weekly")
PERIODS = ("view", "previous_day", "previous_week")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
            "sunday")  # fmt: skip
EMAIL = re.compile(r"^[^@\s,;<>]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_RECIPIENTS = 20
TASK = "reports.deliver"
FIELDS = ("datasetId", "version", "page", "params", "frequency", "weekday", "time",
          "timezone", "period", "recipients")  # fmt: skip


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field})


def _zone(value) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(
            "timezone", "timezone must be an IANA name such as Europe/Berlin."
        ) from None
    return str(value)


def _recipients(value) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_RECIPIENTS:
        raise _fail("recipients", f"recipients must list 1 to {MAX_RECIPIENTS} "
                    "e-mail addresses.")  # fmt: skip
    for item in value:
        if not isinstance(item, str) or not EMAIL.match(item.strip()):
            raise _fail("recipients", f"{str(item)[:60]!r} is not an e-mail address.")
    return list(dict.fromkeys(item.strip().lower() for item in value))


def _weekday(frequency: str, value) -> int | None:
    if frequency == "daily":
        return None
    if value not in WEEKDAYS:
        raise _fail(
            "weekday", f"weekly schedules need a weekday: {', '.join(WEEKDAYS)}."
        )
    return WEEKDAYS.index(value) + 1


def _choice(body: Mapping, field: str, choices, default):
    value = body.get(field, default)
    if value not in choices:
        raise _fail(field, f"{field} must be one of: {', '.join(choices)}.")
    return value


def parse_schedule(body: Mapping) -> dict:
    """A schedule request's fields, checked (400 naming the field)."""
    unknown = [key for key in body if key not in FIELDS]
    if unknown:
        raise _fail(str(unknown[0]), f"Unknown field {str(unknown[0])[:40]!r}; "
                    f"valid: {', '.join(FIELDS)}.")  # fmt: skip
    view = {key: body[key] for key in reports.REQUEST_FIELDS if key in body}
    request = reports.parse_request({**view, "formats": ["pdf"]})
    frequency = _choice(body, "frequency", FREQUENCIES, None)
    default_period = "previous_day" if frequency == "daily" else "previous_week"
    time_text = body.get("time", "08:00")
    if not isinstance(time_text, str) or not TIME.match(time_text):
        raise _fail("time", "time must be HH:MM (24-hour clock), e.g. 08:00.")
    return {
        **request,
        "frequency": frequency,
        "weekday": _weekday(frequency, body.get("weekday")),
        "time_of_day": dt.time.fromisoformat(time_text),
        "timezone": _zone(body.get("timezone", "UTC")),
        "period": _choice(body, "period", PERIODS, default_period),
        "recipients": _recipients(body.get("recipients")),
    }


def next_run(schedule: Mapping, after: dt.datetime) -> dt.datetime:
    """The first firing strictly after `after` (UTC), at the local time of day."""
    zone = ZoneInfo(schedule["timezone"])
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(9):
        moment = dt.datetime.combine(day, schedule["time_of_day"], tzinfo=zone)
        # Round trip through UTC: a time skipped by a DST change moves forward.
        moment = moment.astimezone(dt.UTC)
        weekday_ok = schedule["weekday"] in (None, day.isoweekday())
        if weekday_ok and moment > after:
            return moment
        day += dt.timedelta(days=1)
    raise AssertionError("a weekly schedule fires within 8 days")


def period_params(schedule: Mapping, fired_at: dt.datetime) -> dict:
    """The view's parameters, with from/to set to the day or week before the
    firing (in the schedule's zone) unless the period is the view's own."""
    params = dict(schedule["params"])
    if schedule["period"] == "view":
        return params
    today = fired_at.astimezone(ZoneInfo(schedule["timezone"])).date()
    if schedule["period"] == "previous_day":
        start = end = today - dt.timedelta(days=1)
    else:
        end = today - dt.timedelta(days=today.isoweekday())
        start = end - dt.timedelta(days=6)
    return {**params, "from": start.isoformat(), "to": end.isoformat()}


def create_schedule(
    services: Services, owner_id: str, body: Mapping, now: dt.datetime | None = None
) -> dict:
    """Check and store a schedule; its first run is the next local time of day."""
    fields = parse_schedule(body)
    reports.check_view(services, owner_id, fields)
    now = now or dt.datetime.now(dt.UTC)
    row = records.insert_schedule(
        services, {**fields, "owner_id": owner_id, "next_run_at": next_run(fields, now)}
    )
    return schedule_view(row)


def list_schedules(services: Services, owner_id: str) -> list[dict]:
    """The owner's schedules."""
    return [schedule_view(row) for row in records.owner_schedules(services, owner_id)]


def delete_schedule(services: Services, owner_id: str, schedule_id: str) -> None:
    """Delete the owner's schedule (404 for another user's or a missing one)."""
    row = records.find_schedule(services, owner_id, schedule_id)
    if row is None or not records.delete_schedule(services, owner_id, str(row["id"])):
        raise NotFound("No such report schedule.")


def schedule_view(row: Mapping) -> dict:
    """A schedule as the API shows it."""
    weekday = row["weekday"]
    return {
        "id": str(row["id"]),
        "datasetId": row["dataset_id"],
        "version": row["version"],
        "page": row["page"],
        "params": row["params"],
        "frequency": row["frequency"],
        "weekday": WEEKDAYS[weekday - 1] if weekday else None,
        "time": row["time_of_day"].strftime("%H:%M"),
        "timezone": row["timezone"],
        "period": row["period"],
        "recipients": list(row["recipients"]),
        "nextRunAt": row["next_run_at"].isoformat(),
        "lastRunAt": row["last_run_at"].isoformat() if row["last_run_at"] else None,
        "lastReportId": str(row["last_report_id"]) if row["last_report_id"] else None,
        "lastError": row["last_error"],
    }


def run_due(services: Services, now: dt.datetime) -> int:
    """Claim every schedule due at `now` and submit its delivery; returns how many."""
    fired = 0
    while True:
        row = records.claim_due_schedule(
            services, now, lambda claimed: next_run(claimed, now)
        )
        if row is None:
            return fired
        lifecycle.runner_of(services).submit_task(TASK, str(row["id"]), now)
        fired += 1


def deliver(services: Services, schedule_id: str, fired_at: dt.datetime) -> str:
    """The task: generate the schedule's PDF now and mail it to the recipients."""
    row = records.schedule_by_id(services, schedule_id)
    if row is None:
        return "gone"
    owner_id = str(row["owner_id"])
    request = {"dataset_id": row["dataset_id"], "version": row["version"],
               "page": row["page"], "params": period_params(row, fired_at),
               "formats": ("pdf",)}  # fmt: skip
    report_id, error = None, None
    try:
        report_id = _generate(services, owner_id, request, row["id"])
        _mail(services, owner_id, report_id, row)
    except DomainError as problem:
        error = str(problem)
        log.warning("scheduled report not delivered", extra={"error": error})
    records.record_delivery(services, row["id"], report_id, error)
    return "failed" if error else "delivered"


def _generate(services: Services, owner_id: str, request: dict, schedule_id) -> str:
    reports.check_view(services, owner_id, request)
    created = records.insert_report(
        services, {**request, "owner_id": owner_id, "schedule_id": schedule_id}
    )
    report_id = str(created["id"])
    reports.generate(services, report_id)
    return report_id


def _mail(services: Services, owner_id: str, report_id: str, schedule) -> None:
    report = records.find_report(services, owner_id, report_id)
    if report is None:
        raise NotFound("The report was deleted before it could be mailed.")
    if report["status"] != "done":
        raise ValidationFailed(f"The report failed: {report['error']}")
    content = reports.report_file(services, report, "pdf")
    name = f"{report['title'] or 'report'}.pdf".replace("/", "-").replace(":", "")
    message = mail.build_message(
        services.settings,
        list(schedule["recipients"]),
        f"Insightboard: {report['title']}",
        f"{report['title']}\n\nAttached as PDF ({len(content) // 1024:,} KB), "
        f"delivered {schedule['frequency']} at {schedule['time_of_day']:%H:%M} "
        f"{schedule['timezone']}.\n",
        [mail.Attachment(name, content)],
    )
    mail.send_mail(services.settings, message)


class ScheduleTicker(threading.Thread):
    """Looks for due schedules every `interval` seconds until stopped."""

    def __init__(self, services: Services, server, interval: float,
                 clock: Callable[[], dt.datetime] | None = None) -> None:  # fmt: skip
        super().__init__(name="report-schedules", daemon=True)
        self.services, self.server, self.interval = services, server, interval
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.server.app_context():
                    run_due(self.services, self.clock())
            except Exception:  # one bad tick must not end the schedule
                log.exception("report schedule tick failed")

    def stop(self) -> None:
        """End the loop (a running tick finishes first)."""
        self.stopped.set()
        self.join(timeout=self.interval + 5)


def start_ticker(services: Services, server) -> ScheduleTicker | None:
    """Start the schedule ticker of this app (none when the interval is 0)."""
    interval = services.settings.report_schedule_interval_s
    if not interval:
        return None
    ticker = ScheduleTicker(services, server, interval)
    ticker.start()
    services.closers.append(ticker.stop)
    return ticker


register_task(TASK, deliver)
