"""Seasonal-hybrid ESD, change points and episodes on constructed series with known
answers, and the detection benchmark's small form (quality, never timing)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from bench.detection import corpus, report, runner
from bench.detection.scoring import score_events
from data.analytics import changes, decomposition, seasonal, service, view
from data.analytics.detectors import detect_seasonal_esd, gesd_critical_value
from data.analytics.episodes import episode_gap, group_flags
from data.errors import Unprocessable
from tests.showcase_data import INCIDENTS, sales_rows
from tests.unit.view_factory import SAMPLE_DATES


def hourly_cycle(weeks: int, seed: int = 0) -> np.ndarray:
    """A daily cycle (amplitude 300) with Gaussian noise (sigma 20), hourly."""
    hours = np.arange(weeks * 7 * 24)
    rng = np.random.default_rng(seed)
    return 1000 + 300 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 20, len(hours))


def test_event_scoring_follows_the_nab_rule():
    """Found windows, and outside flags grouped when closer than 1% of the span."""
    score = score_events(np.array([5, 50, 50.5, 80, 95]), [(0, 10), (20, 30)], (0, 100))
    assert (score.found, score.false_alarms) == (1, 3)
    assert score.precision == pytest.approx(1 / 4)
    assert score.recall == pytest.approx(1 / 2)
    assert score.f1 == pytest.approx(2 * 0.25 * 0.5 / 0.75)
    assert score_events(np.array([]), [], (0, 1)).f1 == 1.0
    assert score_events(np.array([0.5]), [], (0, 1)).f1 == 0.0


def test_daily_cycle_is_found_at_hourly_and_none_in_noise():
    """A daily rhythm is detected; white noise has no period."""
    periods, _ = seasonal.seasonal_component(hourly_cycle(4), 3600)
    assert [period.name for period in periods] == ["daily"]
    noise = np.random.default_rng(1).normal(0, 1, 24 * 28)
    assert seasonal.seasonal_component(noise, 3600)[0] == []


def test_candidate_periods_follow_the_step():
    """Daily needs hourly or finer steps; weekly daily or finer."""
    assert seasonal.candidate_periods(300) == [86_400, 604_800]
    assert seasonal.candidate_periods(86_400) == [604_800]
    assert seasonal.candidate_periods(7 * 86_400) == []


def test_seasonal_esd_finds_a_spike_hidden_by_the_cycle():
    """+8 sigma at the cycle's low point: inside the global range, found anyway."""
    values = hourly_cycle(4)
    trough = 24 * 10 + 18  # sin is -1 at hour 18
    values[trough] += 160
    assert values[trough] < values.max()
    analysis = decomposition.analyse(np.arange(len(values), dtype=float), values, 3600)
    flagged = seasonal.esd_outliers(analysis.decomposition.robust_z, 0.05)
    assert trough in flagged and len(flagged) <= 2  # at most one chance flag


def test_noise_gives_no_outliers_and_critical_values_match_rosner():
    """Gaussian noise: nothing flagged; lambda_1 equals the scalar formula."""
    z = np.random.default_rng(3).normal(0, 1, 2000)
    assert seasonal.esd_outliers(z, 0.05) == {}
    assert seasonal.gesd_critical_values(2000, 3, 0.05) == pytest.approx(
        [gesd_critical_value(2000, step, 0.05) for step in (1, 2, 3)]
    )


def test_a_step_is_one_level_shift_with_levels_before_and_after():
    """A +15% step on noise: one change at the step, levels near 1000 and 1150."""
    rng = np.random.default_rng(4)
    values = 1000 + rng.normal(0, 10, 600)
    values[350:] += 150
    found = changes.find_changes(values, 10.0)
    assert [change.kind for change in found] == ["level_shift"]
    assert abs(found[0].index - 350) <= 2
    assert found[0].before == pytest.approx(np.median(values[:350]), abs=5)
    assert found[0].after == pytest.approx(np.median(values[350:]), abs=5)


def test_a_flat_line_with_a_step_has_exactly_one_change():
    """Constant 1000, then constant 1150: one shift, no residual outliers."""
    values = np.r_[np.full(300, 1000.0), np.full(300, 1150.0)]
    analysis = decomposition.analyse(np.arange(600, dtype=float), values, 86_400)
    assert [(c.kind, c.before, c.after) for c in analysis.changes] == [
        ("level_shift", 1000.0, 1150.0)
    ]
    assert seasonal.esd_outliers(analysis.decomposition.robust_z, 0.05) == {}


def test_noise_has_no_change_points():
    """Pure noise: no level shift and no trend change."""
    values = np.random.default_rng(5).normal(100, 5, 1500)
    assert changes.find_changes(values, 5.0) == []


def test_flags_group_into_episodes_by_gap():
    """Consecutive or close flags (gap <= 2 buckets) form one episode."""
    assert group_flags([1, 2, 3, 9, 11, 20], 2) == [[0, 1, 2], [3, 4], [5]]
    assert group_flags([], 2) == []
    assert episode_gap(7) == 2
    assert episode_gap(10_000) == 50


def test_the_small_benchmark_meets_the_quality_bar():
    """Small corpus: auto's F1 per class and false alarms on noise-only series."""
    results = report.run(corpus.corpus(seeds=1, small=True))
    f1 = {
        kind: report.mean_f1(by_method["auto"]) for kind, by_method in results.items()
    }
    for kind in ("spikes_dips", "cycle_hidden", "level_shift", "bursts"):
        assert f1[kind] >= 0.85, (kind, f1)
    assert all(s.false_alarms <= 1 for s in results["noise_only"]["auto"])
    baseline = report.mean_f1(report.pooled(results, "baseline_zscore"))
    assert report.mean_f1(report.pooled(results, "auto")) > baseline + 0.2


def test_runner_doc_matches_the_view_sample():
    """The bench's numpy doc gives the sample's three anomalies through auto."""
    times = np.array([np.datetime64(f"{day}T00:00:00", "s") for day in SAMPLE_DATES])
    values = np.array([24000, 25500, 89000, 23800, 24500, 62000, 8000], float)
    sample = corpus.Series("sample", "sample", "day", times, values, [])
    flags = runner.product_flags(sample)["auto"]
    assert [str(times[i])[:10] for i in flags] == [
        "2024-01-03",
        "2024-01-15",
        "2024-01-27",
    ]
    assert dt.date.fromisoformat(SAMPLE_DATES[0])


def daily_sales_totals() -> corpus.Series:
    """The showcase's default view: revenue summed per day over the regions (the
    cents the CSV keeps)."""
    totals: dict[dt.date, float] = {}
    for day, _, revenue in sales_rows():
        totals[day] = totals.get(day, 0.0) + round(revenue, 2)
    times = np.array([np.datetime64(day, "s") for day in totals])
    return corpus.Series(
        "sales", "showcase", "day", times, np.array([*totals.values()])
    )


def test_the_showcase_flags_its_three_incidents_and_finds_the_weekend_rhythm():
    """A year of daily regional sales: the -75% day and both surges are flagged
    and nothing else. The two surges (up to 44 sigma) used to hide the weekend
    rhythm (their variance swamped the cycle's strength), and the rhythm left in
    the residuals raised every critical value until the drop was dropped."""
    sales = daily_sales_totals()
    drop = sales.times.tolist().index(dt.datetime(2024, 3, 14))
    assert sales.values[drop] < 0.3 * np.median(sales.values)
    flags = runner.product_flags(sales)["auto"]
    assert [str(sales.times[i])[:10] for i in flags] == sorted(INCIDENTS)
    positions = np.arange(len(sales.values), dtype=float)
    analysis = decomposition.analyse(positions, sales.values, 86_400)
    assert [period.name for period in analysis.periods] == ["weekly"]


def test_a_cycle_is_found_beside_huge_spikes_and_not_in_spiky_noise():
    """The cycle's strength leaves out the residuals' ESD outliers: a weekly rhythm
    (+18% at weekends) beside two surges of 3x and 4x the level is found (with
    them in the variances its strength was 0.16, under the 0.2 needed); white
    noise with the same surges has no cycle."""
    rng = np.random.default_rng(8)
    days = np.arange(366)
    weekly = 1000 + 180 * (days % 7 >= 5) + rng.normal(0, 35, len(days))
    noise = 1000 + rng.normal(0, 35, len(days))
    for values in (weekly, noise):
        values[[185, 333]] += [2000, 3000]
    found = seasonal.seasonal_component(weekly, 86_400)[0]
    assert [period.name for period in found] == ["weekly"]
    assert seasonal.seasonal_component(noise, 86_400)[0] == []


def poisson_counts(seed: int, mean: float) -> tuple[corpus.Series, np.ndarray]:
    """Ten weeks of hourly counts (Poisson) around the corpus' daily and weekly
    rhythm, scaled so the expected count runs from 0.3 to 1.44 x `mean`."""
    rng = np.random.default_rng([77, seed])
    times = corpus._times("hour", corpus.LENGTHS["hour"])
    expected = np.maximum(mean * (1 + 2.5 * corpus.rhythm("hour", times)), 0.3)
    values = rng.poisson(expected).astype(float)
    return corpus.Series("counts", "counts", "hour", times, values, []), expected


def test_small_counts_with_a_cycle_raise_no_alarm():
    """Poisson noise grows with the level, so on the raw scale a daily cycle's
    busy hours looked like anomalies (4 alarms in these 12 series); on the
    Anscombe scale none."""
    alarms = 0
    for seed in range(6):
        for mean in (3.0, 10.0):
            series, _ = poisson_counts(seed, mean)
            alarms += len(runner.product_flags(series)["auto"])
    assert alarms == 0


def test_a_burst_of_counts_is_flagged_with_its_expected_count():
    """A +25 burst at a quiet hour of small counts: flagged, its expected value is
    on the count scale (near the Poisson mean there), and the note says which
    scale the counts were decomposed on."""
    series, expected = poisson_counts(0, 10.0)
    quiet = 24 * 30 + int(np.argmin(expected[24 * 30 : 24 * 31]))
    series.values[quiet] += 25
    params = runner.params_for(series)
    doc = runner.view_doc(series, params["window"])
    detection = view.run_detectors(view.Points(doc, params["window"]), doc, params)
    auto = detection["auto"]
    assert sorted(auto.findings) == [quiet]
    assert auto.findings[quiet].expected == pytest.approx(expected[quiet], abs=1.5)
    assert "Anscombe scale" in auto.note


def test_a_step_in_small_counts_reports_its_levels_as_counts():
    """Counts around 2 that move to around 16: one level shift whose levels are
    the medians on the count scale, not on the Anscombe scale."""
    rng = np.random.default_rng(9)
    values = np.r_[rng.poisson(2, 400), rng.poisson(16, 400)].astype(float)
    analysis = decomposition.analyse(np.arange(800, dtype=float), values, 86_400)
    assert analysis.counts
    (change,) = analysis.changes
    assert change.kind == "level_shift" and abs(change.index - 400) <= 3
    assert change.before == pytest.approx(np.median(values[:400]), abs=0.5)
    assert change.after == pytest.approx(np.median(values[400:]), abs=0.5)


def test_raw_views_go_up_to_the_bucket_cap():
    """26,000 rows (three months of 5-minute readings) pass; 50,001 are refused."""
    params = {"granularity": "raw"}
    service.refuse_raw_view({"rowCount": 26_000}, params)
    service.refuse_raw_view({"rowCount": 50_000}, params)
    with pytest.raises(Unprocessable, match="limited to 50,000 rows"):
        service.refuse_raw_view({"rowCount": 50_001}, params)


def test_a_flat_line_with_one_spike_is_one_flag_and_no_cycle():
    """Constant daily values with one spike: no cycle is fitted (it would smear
    the spike into ripples), no change point, exactly the spike."""
    values = np.full(730, 1000.0)
    values[380] = 1500.0
    analysis = decomposition.analyse(np.arange(730, dtype=float), values, 86_400)
    assert analysis.periods == [] and analysis.changes == []
    assert list(seasonal.esd_outliers(analysis.decomposition.robust_z, 0.05)) == [380]


def heavy_correlated_noise(length: int, seed: int) -> np.ndarray:
    """Residuals as real series leave them: runs (AR(1), phi 0.5) of heavy-tailed
    shocks (Student t, 3 degrees of freedom), as robust z (median, MAD)."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_t(3, length)
    noise = np.empty(length)
    noise[0] = shocks[0]
    for i in range(1, length):
        noise[i] = 0.5 * noise[i - 1] + shocks[i]
    return (noise - np.median(noise)) / seasonal.robust_scale(noise)


def test_runs_of_heavy_correlated_noise_are_mostly_not_episodes():
    """The point-wise ESD flags the tails of the noise's runs (15 episodes here);
    the block test keeps far fewer, and both real spikes."""
    z = heavy_correlated_noise(4000, seed=3)
    spikes = [1000, 3000]
    z[spikes] += 25
    flagged = seasonal.esd_outliers(z, 0.05)
    gap = episode_gap(len(z))
    kept = seasonal.significant_episodes(z, flagged, 0.05)
    before = len(group_flags(sorted(flagged), gap))
    after = len(group_flags(sorted(kept), gap))
    assert set(spikes) <= set(kept)
    assert before >= 10 and after <= before // 3, (before, after)


def test_many_real_spikes_are_all_kept():
    """No fixed number of episodes: fifteen separate 12-sigma spikes stay."""
    z = np.random.default_rng(4).normal(0, 1, 6000)
    spikes = list(range(200, 6000, 400))
    z[spikes] += 12 * np.where(np.arange(len(spikes)) % 2, 1, -1)
    kept = seasonal.significant_episodes(z, seasonal.esd_outliers(z, 0.05), 0.05)
    assert set(spikes) <= set(kept)
    assert len(group_flags(sorted(kept), episode_gap(len(z)))) == len(spikes)


def test_short_series_keep_the_point_test():
    """Fewer than MIN_BLOCKS blocks: the point-wise flags stand."""
    z = np.random.default_rng(5).normal(0, 1, 25)
    z[7] = 9.0
    flagged = seasonal.esd_outliers(z, 0.05)
    assert seasonal.significant_episodes(z, flagged, 0.05) == flagged


FIVE_MINUTE_DAY = 288


def bursts_on_days(days: list[int], total: int, seed: int) -> np.ndarray:
    """Robust z of 5-minute noise over `total` days with a 12-sigma burst (three
    points) at a random time on each of `days`."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1, FIVE_MINUTE_DAY * total)
    for day in days:
        at = day * FIVE_MINUTE_DAY + int(rng.integers(0, FIVE_MINUTE_DAY - 3))
        z[at : at + 3] += 12
    return z


def episodes_kept(z: np.ndarray, cycle: int) -> tuple[int, list[int]]:
    """(episodes, flagged positions) the block test keeps of the point flags."""
    flagged = seasonal.esd_outliers(z, 0.01)
    kept = sorted(seasonal.significant_episodes(z, flagged, 0.05, cycle))
    return len(group_flags(kept, episode_gap(len(z)))), kept


def test_blocks_are_one_cycle_when_the_series_holds_enough_cycles():
    """Four weeks of 5-minute data: one day per block; two days: the gap's blocks;
    a cycle shorter than the gap's block does not shrink it."""
    assert seasonal.block_size(28 * 288, 288) == 288
    assert seasonal.block_size(28 * 288, 0) == 28 * 288 // 200 + 1
    assert seasonal.block_size(9 * 288, 288) == 9 * 288 // 200 + 1
    assert seasonal.block_size(20_000, 24) == 101


def test_bursts_on_most_days_are_the_rhythm_not_episodes():
    """A 12-sigma burst at a random hour on 16 of 28 days: each is exceptional
    among blocks a few hours long (16 episodes kept), none among the days' maxima,
    where most days hold one."""
    days = list(np.random.default_rng(8).choice(28, 16, replace=False))
    z = bursts_on_days(days, 28, seed=7)
    assert episodes_kept(z, cycle=0)[0] == 16
    assert episodes_kept(z, cycle=FIVE_MINUTE_DAY) == (0, [])


def test_a_day_of_bursts_keeps_only_its_exceptional_spike():
    """Bursts on every day but Thursdays; on day 20 a 40-sigma spike besides its
    burst: the day is exceptional, and only the spike's episode is kept."""
    z = bursts_on_days([d for d in range(28) if d % 7 != 3], 28, seed=1)
    spike = 20 * FIVE_MINUTE_DAY + 100
    z[spike] += 40
    assert episodes_kept(z, cycle=FIVE_MINUTE_DAY) == (1, [spike])


def test_the_detector_judges_episodes_among_days():
    """Five-minute values with a daily cycle and a burst at a random hour on 16 of
    28 days, nothing else: the seasonal ESD flags none of the bursts."""
    minutes = np.arange(28 * FIVE_MINUTE_DAY)
    rng = np.random.default_rng(9)
    values = 100 + 20 * np.sin(2 * np.pi * minutes / FIVE_MINUTE_DAY)
    values = values + rng.normal(0, 2, len(minutes))
    for day in rng.choice(28, 16, replace=False):
        at = day * FIVE_MINUTE_DAY + int(rng.integers(0, FIVE_MINUTE_DAY - 3))
        values[at : at + 3] += 24
    analysis = decomposition.analyse(minutes.astype(float), values, 300)
    assert analysis is not None and analysis.periods
    assert detect_seasonal_esd(analysis, len(values), 0.05).findings == {}


def test_six_exceptional_days_in_a_month_are_all_kept():
    """28 daily blocks, six of them with a 10-sigma spike: all six are kept (the
    test allows up to half the blocks as outliers, not 10%: two)."""
    z = np.random.default_rng(2).normal(0, 1, FIVE_MINUTE_DAY * 28)
    spikes = [day * FIVE_MINUTE_DAY + 50 for day in (3, 7, 11, 15, 19, 23)]
    z[spikes] += 10
    kept = seasonal.significant_episodes(
        z, seasonal.esd_outliers(z, 0.01), 0.05, FIVE_MINUTE_DAY
    )
    assert sorted(kept) == spikes


def test_the_warm_up_is_not_flagged_and_the_note_says_so():
    """Hourly cycle, one spike in the first level window and one later: only the
    later one is flagged, and the note names the warm-up."""
    values = hourly_cycle(8, seed=6)
    values[[5, 600]] += 200
    analysis = decomposition.analyse(np.arange(len(values), dtype=float), values, 3600)
    assert analysis.warm_up == 27  # the level window (1,344 // 50, odd), under 5%
    detection = detect_seasonal_esd(analysis, len(values), 0.05)
    assert sorted(detection.findings) == [600]
    assert "first 27 points are a warm-up" in detection.note


def test_the_noise_scale_comes_from_differences_one_cycle_apart():
    """The fitted daily cycle absorbs part of the noise (residual MAD well under
    sigma 20); differences 24 hours apart give sigma without a fit."""
    values = hourly_cycle(8, seed=7)
    analysis = decomposition.analyse(np.arange(len(values), dtype=float), values, 3600)
    assert seasonal.robust_scale(analysis.decomposition.residual) < 16
    lagged = values[24:] - values[:-24]
    expected = seasonal.robust_scale(lagged) / np.sqrt(2)
    assert decomposition.cycle_noise(values, analysis.periods) == pytest.approx(
        expected
    )
    assert analysis.decomposition.scale == pytest.approx(20, rel=0.1)
    assert decomposition.cycle_noise(values, []) == 0.0


def test_points_are_tested_at_a_fifth_of_alpha():
    """z 4.3 on 8 weeks of hourly data is an ESD outlier at alpha 0.05 but not at
    0.01 (the point test's level): not flagged; a 7.9-sigma spike is."""
    for bump, flagged in ((92, []), (160, [700])):
        values = hourly_cycle(8, seed=7)
        values[700] += bump
        positions = np.arange(len(values), dtype=float)
        analysis = decomposition.analyse(positions, values, 3600)
        z = analysis.decomposition.robust_z
        assert list(seasonal.esd_outliers(z, 0.05)) == [700]
        detection = detect_seasonal_esd(analysis, len(values), 0.05)
        assert sorted(detection.findings) == flagged
    assert "points tested at alpha / 5" in detection.note


def test_a_weekly_rhythm_is_found_under_a_trend():
    """Four weeks of 5-minute data, flat then a steep trend, weekends 15% lower:
    both cycles are found (around a rolling median the trend hid the weekly one)
    and the trend is one trend change, not a level shift."""
    series = corpus.make_series("trend_change", "5min", 0, 288 * 28)
    positions = np.arange(len(series.values), dtype=float)
    analysis = decomposition.analyse(positions, series.values, 300)
    assert [period.name for period in analysis.periods] == ["daily", "weekly"]
    (start, end), kinds = series.windows[0], [c.kind for c in analysis.changes]
    assert kinds == ["trend_change"] and start <= analysis.changes[0].index <= end
