"""The analysis parameter spec is the only list (or table keyed by) each choice;
the models, the service and the URL state agree with it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components import url_state
from data.analytics import spec
from data.analytics.models import AnalysisParams, canonical
from data.analytics.params import default_params, parse_params
from data.errors import ValidationFailed

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "auth", "callbacks", "components", "data", "pages")
DATASET = {"metricColumns": ["revenue"], "dimensionColumns": ["region"]}
# Tables keyed by the same words for another concept (with the reason).
OTHER_CONCEPTS = {
    "data/kpi/pipeline.py": "KPI measure kinds (data/ingest/measures.py), which happen "
    "to be named like the analysis aggregations",
}


def _literal_collections(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [key for key in node.keys if key is not None]
        else:
            continue
        yield node.lineno, {i.value for i in items if isinstance(i, ast.Constant)}


def test_each_list_of_choices_is_declared_only_in_the_spec():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "data/analytics/spec.py" or relative in OTHER_CONCEPTS:
                continue
            tree = ast.parse(path.read_text())
            for line, values in _literal_collections(tree):
                for parameter in spec.of_kind("choice"):
                    if set(parameter.choices) == values:
                        offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []


@pytest.mark.parametrize("parameter", spec.of_kind("number", "integer"))
def test_service_and_link_parser_accept_exactly_the_spec_bounds(parameter):
    notices: list[str] = []
    for inside in (parameter.low, parameter.high):
        parse_params({parameter.key: str(inside)}, DATASET)
        assert url_state.parse_number(parameter, str(inside), notices) == inside
    assert notices == []
    for outside in (parameter.low - 0.0001, parameter.high + 1):
        with pytest.raises(ValidationFailed, match=parameter.key):
            parse_params({parameter.key: str(outside)}, DATASET)
        assert url_state.parse_number(parameter, str(outside), notices) is None or (
            notices
        )


def test_the_model_schema_carries_the_spec():
    schema = AnalysisParams.model_json_schema(by_alias=True)["properties"]
    assert schema["method"]["enum"] == list(spec.METHOD.choices)
    assert (schema["window"]["minimum"], schema["window"]["maximum"]) == (2, 365)
    assert schema["k"]["description"] == spec.K.help
    assert set(schema) == set(spec.keys())


def test_parsed_params_are_canonical_model_dumps():
    params = default_params(DATASET)
    assert canonical(params) == params
    assert url_state.to_params(url_state.AnalysisState(metric="revenue")).keys() == (
        params.keys()
    )
