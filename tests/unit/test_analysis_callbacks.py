"""The analysis callbacks' logic, with the services replaced by fabricated views."""

from __future__ import annotations

from datetime import date

import pytest

from callbacks import analysis, gateway
from components import url_state
from components.url_state import AnalysisState
from data.analytics.service import refuse_buckets
from data.errors import NotFound, Unprocessable, ValidationFailed
from tests.unit.dash_text import find_by_class, text_of
from tests.unit.view_factory import sample_view

META = {
    "id": "a" * 32,
    "name": "Sales 2024",
    "versions": [
        {"version": 1, "status": "cached", "error": None, "progress": None},
        {"version": 2, "status": "processing", "error": None,
         "progress": {"rowsDone": 250, "rowsTotal": 1000}},
    ],
    "metrics": ["revenue", "orders"],
    "dimensions": ["region"],
    "units": {"revenue": "₹"},
    "timeColumn": "date",
}  # fmt: skip
FILTER_IDS = [{"type": "analysis-filter", "dimension": "region"}]


def controls_for(state: AnalysisState) -> tuple[dict, list]:
    """The control values the page shows for a state."""
    values = analysis.control_values(state, FILTER_IDS)
    controls = dict(zip(analysis.CONTROL_KEYS, values[:-1], strict=True))
    controls["version"] = str(state.version) if state.version else "latest"
    return controls, values[-1]


def test_controls_round_trip_to_the_same_state():
    state = AnalysisState(
        metric="orders", version=2, granularity="week", method="iqr", k=2.0,
        window=14, date_from=date(2024, 1, 2), filters={"region": ("East",)},
    )  # fmt: skip
    controls, filters = controls_for(state)
    assert analysis.state_from_controls(controls, FILTER_IDS, filters) == state


def test_out_of_range_or_cleared_numbers_fall_back_to_defaults():
    controls, filters = controls_for(AnalysisState(metric="revenue"))
    controls.update(k=-3, window=None, alpha="abc", threshold=None)
    state = analysis.state_from_controls(controls, FILTER_IDS, filters)
    assert (state.k, state.window, state.alpha, state.threshold) == (
        url_state.K.default,
        url_state.WINDOW.default,
        url_state.ALPHA.default,
        None,
    )


def test_date_picker_values_with_times_keep_the_date():
    controls, filters = controls_for(AnalysisState())
    controls.update({"from": "2024-01-05T00:00:00", "to": "2024-01-20"})
    state = analysis.state_from_controls(controls, FILTER_IDS, filters)
    assert (state.date_from, state.date_to) == (date(2024, 1, 5), date(2024, 1, 20))


@pytest.fixture
def services(monkeypatch):
    """Fabricated metadata and views instead of the dataset and analytics services."""
    calls = []

    def view(services, owner_id, dataset_id, params, version=None):
        calls.append((owner_id, dataset_id, params, version))
        result = sample_view()
        result["params"].update(params)
        return result

    monkeypatch.setattr(gateway, "dataset_meta", lambda s, o, d, v=None: META)
    monkeypatch.setattr(gateway, "analysis_view", view)
    return calls


def test_render_view_passes_owner_params_and_version_to_the_service(services):
    search = url_state.serialise(
        AnalysisState(metric="revenue", method="zscore", version=1)
    )
    result = analysis.render_view(None, "owner-1", "a" * 32, search)
    owner, dataset_id, params, version = services[0]
    assert (owner, dataset_id, version) == ("owner-1", "a" * 32, 1)
    assert params["method"] == "zscore" and params["metric"] == "revenue"
    assert result["status"] is None and result["content_class"] == ""
    assert result["poll_disabled"] is True
    assert result["count"] == "3 found"
    assert [row["severity"] for row in result["rows"]] == ["critical", "high", "medium"]


def test_kpis_show_human_numbers_with_the_unit(services):
    result = analysis.render_view(None, "o", "a" * 32, "?version=1")
    cards = {
        text_of(card.children[0]): text_of(card.children[1])
        for card in find_by_class(result["kpis"], "ib-kpi")
        if card.className.startswith("ib-kpi") and len(card.children) == 3
    }
    view = sample_view()
    assert cards["Anomalies"] == "3"
    assert cards["Mean"] == f"₹{view['summary']['mean']:,.0f}"
    assert cards["Maximum"] == "₹89,000"
    assert cards["Data points"] == "7"


def test_a_version_still_processing_shows_progress_and_keeps_polling(services):
    result = analysis.render_view(None, "o", "a" * 32, "?version=2")
    assert "still being processed" in text_of(result["status"])
    assert "250 of 1,000 rows" in text_of(result["status"])
    assert result["poll_disabled"] is False
    assert result["content_class"] == "d-none"
    assert services == []  # the view is not even asked for


def test_a_failed_version_shows_its_reason(monkeypatch, services):
    version = {"version": 1, "status": "failed", "progress": None}
    version["error"] = "Row 3: 'abc' is not a date."
    failed = {**META, "versions": [version]}
    monkeypatch.setattr(gateway, "dataset_meta", lambda s, o, d, v=None: failed)
    result = analysis.render_view(None, "o", "a" * 32, "")
    assert "Row 3: 'abc' is not a date." in text_of(result["status"])
    assert result["poll_disabled"] is True


def test_no_numeric_column_is_explained(monkeypatch, services):
    monkeypatch.setattr(
        gateway,
        "dataset_meta",
        lambda s, o, d, v=None: {
            **META,
            "metrics": [],
            "versions": META["versions"][:1],
        },
    )
    result = analysis.render_view(None, "o", "a" * 32, "")
    assert "No numeric column" in text_of(result["status"])


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (Unprocessable("The series has 7 points; gesd needs at least 15."),
         "Not enough data"),
        (ValidationFailed("window must be between 2 and 365."), "cannot be used"),
        (NotFound("Dataset not found."), "Dataset not found"),
    ],
)  # fmt: skip
def test_service_errors_become_specific_messages(monkeypatch, services, error, title):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(gateway, "analysis_view", refuse)
    result = analysis.render_view(None, "o", "a" * 32, "?version=1")
    assert title in text_of(result["status"])
    if not isinstance(error, NotFound):
        assert error.message in text_of(result["status"])
    assert result["content_class"] == "d-none"


def test_unknown_dataset_is_not_found(monkeypatch):
    def missing(*args, **kwargs):
        raise NotFound("Dataset not found.")

    monkeypatch.setattr(gateway, "dataset_meta", missing)
    result = analysis.render_view(None, "o", "f" * 32, "")
    assert "Dataset not found" in text_of(result["status"])


def test_anomaly_rows_keep_raw_values_for_sorting_and_text_for_display():
    view = sample_view()
    rows = analysis.anomaly_rows(view["anomalies"], "₹", "day")
    first = rows[0]
    assert first["value"] == 89000 and first["value_text"] == "₹89,000"
    assert first["date_text"] == "2024-01-03"
    assert first["deviation_text"].startswith("+")
    assert first["methods_text"] == "modified z"
    ranks = [row["severity_rank"] for row in rows]
    assert ranks == [3, 2, 1]  # critical > high > medium


def test_table_grows_with_rows_up_to_a_cap():
    small = int(analysis.table_style(3)["height"][:-2])
    big = int(analysis.table_style(500)["height"][:-2])
    assert small < big == analysis.TABLE_MAX_PX


def test_filter_options_keep_chosen_values_that_the_view_did_not_list():
    options = analysis.filter_options(
        {"region": ["North", "South"]}, FILTER_IDS, [["West"]]
    )
    assert [o["value"] for o in options[0]] == ["North", "South", "West"]


def test_parameter_inputs_follow_the_method():
    disabled_threshold, placeholder, disabled_k, disabled_alpha, _ = (
        analysis.parameter_states("iqr")
    )
    assert disabled_threshold and not disabled_k and disabled_alpha
    assert placeholder == "not used"
    assert analysis.parameter_states("zscore")[1] == "3 (default)"
    assert analysis.parameter_states("gesd")[3] is False


def test_page_layout_is_not_found_for_anonymous_or_unknown(monkeypatch):
    monkeypatch.setattr(gateway, "user_or_none", lambda: None)
    page = analysis.page_layout("a" * 32, {})
    assert "Dataset not found" in text_of(page)


def test_a_click_on_a_marker_or_on_the_point_under_it_finds_the_anomaly():
    rows = analysis.anomaly_rows(sample_view()["anomalies"], None, "day")
    t = rows[1]["t"]
    marker = {"points": [{"x": "2024-01-15", "customdata": t}]}
    under = {"points": [{"x": "2024-01-15", "curveNumber": 5}]}
    elsewhere = {"points": [{"x": "2024-01-02", "curveNumber": 5}]}
    assert analysis.clicked_anomaly(marker, rows) == t
    assert analysis.clicked_anomaly(under, rows) == t
    assert analysis.clicked_anomaly(elsewhere, rows) is None
    assert (
        analysis.clicked_anomaly({"points": [{"customdata": "forged"}]}, rows) is None
    )
    assert analysis.clicked_anomaly(None, rows) is None


def run_sync(trigger: str, search: str, state: AnalysisState, current: str, **change):
    """Run sync_state as Dash would, with `trigger` as the changed input."""
    from contextvars import copy_context

    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    version = change.pop("version_value", None) or (
        str(state.version) if state.version else "latest"
    )
    controls = list(analysis.control_values(state, FILTER_IDS))
    for key, value in change.items():
        controls[analysis.CONTROL_KEYS.index(key)] = value
    metrics = [{"label": m, "value": m} for m in META["metrics"]]

    def call():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": trigger, "value": None}])
        )
        return analysis.sync_state(
            search, version, controls, FILTER_IDS, current, metrics, False
        )

    return copy_context().run(call)


def test_a_control_change_writes_the_canonical_url_and_state():
    state = AnalysisState(metric="revenue")
    current = url_state.serialise(state)
    outputs = run_sync("analysis-method.value", current, state, current, method="iqr")
    assert outputs["url"] == outputs["state"]
    assert url_state.parse_search(outputs["url"])[0].method == "iqr"
    assert outputs["nav"] is analysis.no_update


def test_back_button_url_puts_the_controls_back_without_pushing_history():
    shown = AnalysisState(metric="revenue", method="iqr")
    earlier = url_state.serialise(AnalysisState(metric="orders", method="zscore"))
    outputs = run_sync(
        "analysis-url.search", earlier, shown, url_state.serialise(shown)
    )
    assert outputs["url"] is analysis.no_update  # the browser already moved
    assert outputs["state"] == earlier
    assert outputs["controls"][0] == "orders"
    assert outputs["controls"][analysis.CONTROL_KEYS.index("method")] == "zscore"


def test_the_url_echo_of_our_own_change_does_nothing():
    from dash.exceptions import PreventUpdate

    state = AnalysisState(metric="revenue")
    current = url_state.serialise(state)
    with pytest.raises(PreventUpdate):
        run_sync("analysis-url.search", current, state, current)


def test_a_version_in_the_url_reloads_the_page_through_the_router():
    shown = AnalysisState(metric="revenue")
    pinned = url_state.serialise(AnalysisState(metric="revenue", version=1))
    outputs = run_sync("analysis-url.search", pinned, shown, url_state.serialise(shown))
    assert outputs["nav"] == pinned
    assert outputs["state"] is analysis.no_update
    # Pattern-matching outputs need one entry per dropdown, even when untouched.
    assert outputs["controls"][-1] == [analysis.no_update] * len(FILTER_IDS)


def test_the_version_picker_reloads_the_page_with_the_chosen_version():
    state = AnalysisState(metric="revenue")
    current = url_state.serialise(state)
    outputs = run_sync(
        "analysis-version.value", current, state, current, version_value="1"
    )
    assert url_state.parse_search(outputs["nav"])[0].version == 1
    assert outputs["controls"][-1] == [analysis.no_update]


def test_csv_download_is_built_from_the_view_for_the_current_state(services):
    search = url_state.serialise(AnalysisState(metric="revenue", version=1))
    download = analysis.anomalies_download(None, "owner", "a" * 32, search)
    assert download["filename"] == "Sales_2024-revenue-anomalies.csv"
    lines = download["content"].splitlines()
    assert lines[0].startswith("date,value,expected")
    assert len(lines) == 1 + len(sample_view()["anomalies"])
    assert services[0][0] == "owner"


def test_a_row_limit_refusal_advises_fewer_points_not_a_finer_granularity(
    monkeypatch, services
):
    def refuse(*args, **kwargs):
        refuse_buckets("hour", 60_000)

    monkeypatch.setattr(gateway, "analysis_view", refuse)
    text = text_of(analysis.render_view(None, "o", "a" * 32, "?version=1")["status"])
    assert text.startswith("Too many points for this view")
    assert "limited to 50,000 buckets" in text and "has 60,000" in text
    assert text.count("coarser granularity") == 1
    assert text.count("shorter date range") == 1
    assert "finer" not in text and "Not enough data" not in text


def test_a_too_short_series_still_advises_a_finer_granularity(monkeypatch, services):
    def refuse(*args, **kwargs):
        raise Unprocessable(
            "The series has 7 points; gesd needs at least 15.",
            details={"minimum": 15},
        )

    monkeypatch.setattr(gateway, "analysis_view", refuse)
    text = text_of(analysis.render_view(None, "o", "a" * 32, "?version=1")["status"])
    assert text.startswith("Not enough data") and "finer granularity" in text


def test_the_view_reports_link_notices_and_what_it_found_stale(services):
    search = url_state.serialise(
        AnalysisState(metric="revenue", version=1, filters={"channel": ("web",)})
    )
    result = analysis.render_view(
        None, "o", "a" * 32, search, ["The k “abc” is not a number"]
    )
    assert result["notices"] == [
        "The k “abc” is not a number",
        "Ignored a filter on unknown column “channel”.",
    ]
    outputs = analysis.notice_outputs(result["notices"], polled=False)
    assert outputs["notices_open"] is True
    assert "unknown column “channel”" in text_of(outputs["notices"])
    assert analysis.notice_outputs(["x"], polled=True) == {
        "notices": analysis.no_update,
        "notices_open": analysis.no_update,
    }
    clean = analysis.render_view(None, "o", "a" * 32, "?metric=revenue&version=1")
    assert clean["notices"] == []
    assert analysis.notice_outputs([], polled=False)["notices_open"] is False


def test_back_to_an_invalid_or_stale_url_brings_its_notices_along():
    shown = AnalysisState(metric="revenue", method="iqr")
    earlier = "?metric=profit&method=zscore&window=999&filter.channel=web"
    outputs = run_sync(
        "analysis-url.search", earlier, shown, url_state.serialise(shown)
    )
    state = url_state.parse_search(outputs["state"])[0]
    assert (state.metric, state.method, state.window) == ("revenue", "zscore", 7)
    assert state.filters == {}
    notices = outputs["notices"]
    assert len(notices) == 3
    assert any("rolling window “999”" in notice for notice in notices)
    assert any("no metric “profit”" in notice for notice in notices)
    assert any("unknown column “channel”" in notice for notice in notices)


def test_back_to_a_url_that_only_differs_by_invalid_values_still_says_so():
    shown = AnalysisState(metric="revenue")
    outputs = run_sync(
        "analysis-url.search",
        url_state.serialise(shown) + "&threshold=abc",
        shown,
        url_state.serialise(shown),
    )
    assert outputs["state"] is analysis.no_update
    assert len(outputs["notices"]) == 1 and "“abc”" in outputs["notices"][0]


def test_a_control_change_clears_the_old_links_notices():
    state = AnalysisState(metric="revenue")
    current = url_state.serialise(state)
    outputs = run_sync("analysis-method.value", current, state, current, method="iqr")
    assert outputs["notices"] == []


def test_dates_in_insights_and_notes_are_kept_on_one_line():
    from components import widgets

    parts = widgets.keep_dates_whole(
        "Revenue on 2024-01-03 was 3.6× the median; week 2024-W05 and "
        "2024-01-15 14:00 too."
    )
    whole = [p.children for p in parts if not isinstance(p, str)]
    assert whole == ["2024-01-03", "2024-W05", "2024-01-15 14:00"]
    assert all(p.className == "text-nowrap" for p in parts if not isinstance(p, str))
    assert "".join(p if isinstance(p, str) else p.children for p in parts) == (
        "Revenue on 2024-01-03 was 3.6× the median; week 2024-W05 and "
        "2024-01-15 14:00 too."
    )
    items = widgets.insight_list(["Peak on 2024-01-03."], ["Gap after 2024-01-05."])
    spans = [
        node.children
        for node in find_by_class(items, "text-nowrap")
        if isinstance(node.children, str)
    ]
    assert spans == ["2024-01-03", "2024-01-05"]


def test_the_date_range_label_points_at_the_start_input():
    from components.analysis_layout import ids, primary_controls

    def walk(node):
        if isinstance(node, list | tuple):
            for child in node:
                yield from walk(child)
        elif node is not None and not isinstance(node, str | int | float):
            yield node
            yield from walk(getattr(node, "children", None))

    nodes = list(walk(primary_controls(META, AnalysisState())))
    (label,) = [n for n in nodes if getattr(n, "children", None) == "Date range"]
    (picker,) = [n for n in nodes if getattr(n, "id", None) == ids.DATES]
    assert label.html_for == picker.start_date_id == ids.DATES_START
    assert picker.end_date_id == ids.DATES_END


def test_the_view_carries_a_text_alternative_for_each_chart(services):
    result = analysis.render_view(None, "o", "a" * 32, "?version=1")
    assert "3 anomalies: 2024-01-03" in result["timeseries_text"]
    assert result["histogram_text"].startswith("Histogram of the daily sum of revenue")
    assert result["box_text"].startswith("Box plot of the daily sum of revenue: median")
    missing = analysis.problem_outputs(analysis.dataset_gone())
    assert missing["timeseries_text"] is analysis.no_update
