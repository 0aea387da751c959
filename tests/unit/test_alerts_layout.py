"""The alerts page builders render every state of a rule list, and the form's
values become the API's rule body."""

from __future__ import annotations

from callbacks.alerts import form_body
from components.alerts_layout import alerts_page, backtest_spec, summary_text

RULE = {
    "id": "7a0fb01c-e83a-4070-b409-595560ac7203", "name": "High", "measure": "value",
    "granularity": "day", "condition": {"type": "above", "threshold": 50},
    "state": "firing", "stateSince": "2026-01-20T00:00:00Z",
    "acknowledgedAt": None, "silencedUntil": "2026-01-21T00:00:00Z",
}  # fmt: skip


def test_the_page_renders_rules_firing_and_history():
    page = alerts_page(
        [{"label": "Sensor", "value": "d" * 32}],
        [RULE, {**RULE, "id": "x", "state": "ok", "condition": {"type": "anomaly",
                                                                 "severity": "high"}}],
        [{"rule": "High", "bucket": "2026-01-20T00:00:00Z", "from": "ok",
          "to": "firing", "value": 53.0}],
    )  # fmt: skip
    text = str(page.to_plotly_json())
    assert "Acknowledge High" in text and "Mute 1 h: High" in text
    assert "muted until 2026-01-21" in text and "anomaly ≥ high" in text
    assert summary_text([RULE]) == "1 rule, 1 firing now"


def test_backtest_chart_shades_each_firing_until_its_end_or_the_last_bucket():
    spec = backtest_spec({
        "series": [{"t": f"2026-01-0{d}T00:00:00Z", "value": d} for d in range(1, 6)],
        "firings": [{"start": "2026-01-02T00:00:00Z", "end": "2026-01-03T00:00:00Z"},
                    {"start": "2026-01-05T00:00:00Z", "end": None}],
    })  # fmt: skip
    spans = [(s["x0"], s["x1"]) for s in spec["layout"]["shapes"]]
    assert spans == [("2026-01-02", "2026-01-03"), ("2026-01-05", "2026-01-05")]


def test_form_values_become_the_rule_body():
    body = form_body({
        "name": "High", "datasetId": "d" * 32, "measure": "value",
        "aggregation": "sum", "granularity": "day", "type": "above",
        "threshold": 50, "recovery": None, "minVolume": 0, "severity": "medium",
        "forBuckets": 2, "keepFiringForBuckets": "", "noData": "keep",
        "repeatIntervalMinutes": 240, "email": "a@example.com, b@example.com",
        "webhookUrl": "", "webhookSecret": "", "webhookFormat": "json",
        "muteDays": ["sat", "sun"], "muteHours": " 22-6 ", "muteTz": "Europe/Berlin",
    })  # fmt: skip
    assert body["muteTimings"] == [
        {"days": ["sat", "sun"], "hours": "22-6", "tz": "Europe/Berlin"}
    ]
    assert body["condition"] == {"type": "above", "threshold": 50, "minVolume": 0,
                                 "severity": "medium"}  # fmt: skip
    assert body["channels"] == [
        {"type": "email", "to": ["a@example.com", "b@example.com"]}
    ]
    assert "keepFiringForBuckets" not in body and body["forBuckets"] == 2
