"""Analytics: statistics and anomalies from MongoDB pipelines, cached in Redis.

Where each number is computed:
- aggregation pipeline (data/analytics/pipeline.py), one `aggregate` call per view:
  the bucketed series, missing buckets, rolling mean/std, the detection baselines,
  every summary statistic (count, missing, sum, mean, median, std_pop, std_sample,
  min, max, q1, q3, iqr), MAD, mean absolute deviation, Tukey fences, box-plot
  whiskers and outliers, histogram edges and counts;
- Python on the bucketed series (one value per bucket, data/analytics/detectors.py):
  per-point scores and flags of each detector from the pipeline's statistics,
  the sequential generalized ESD, auto-mode voting, severities, explanations and
  insights (data/analytics/narrative.py).
"""

from data.analytics.params import (
    AGGREGATIONS,
    GRANULARITIES,
    METHODS,
    default_params,
    params_from_query,
    params_hash,
    parse_params,
)
from data.analytics.service import (
    cache_key,
    get_view,
    load_dataset,
    run_analytics,
    warm_default_view,
)

__all__ = [
    "AGGREGATIONS",
    "GRANULARITIES",
    "METHODS",
    "cache_key",
    "default_params",
    "get_view",
    "load_dataset",
    "params_from_query",
    "params_hash",
    "parse_params",
    "run_analytics",
    "warm_default_view",
]
