"""A site's perfusion settings: applied, recorded, and every bad key named (issue #5)."""

from __future__ import annotations

from typing import Any

import pytest

from planarmpi.analysis.perfusion.settings import (
    perfusion_params_from_mapping,
    perfusion_params_to_mapping,
)
from planarmpi.analysis.perfusion.study import PerfusionParams
from planarmpi.errors import InvalidInputError


def test_an_empty_mapping_gives_the_built_in_settings_and_they_round_trip() -> None:
    assert perfusion_params_from_mapping({}) == PerfusionParams()
    doc = perfusion_params_to_mapping(PerfusionParams())
    assert doc["abnormal_summed_score"] == 3
    assert doc["scoring"]["sd_multiplier"] == 2.5
    assert "profile" not in doc
    assert "motion" not in doc
    assert perfusion_params_from_mapping(doc) == PerfusionParams()


def test_settings_are_applied_at_both_levels() -> None:
    p = perfusion_params_from_mapping({
        "abnormal_summed_score": 4, "paired_unconfirmed_normal": False, "tid_limit": 1,
        "scoring": {"sd_multiplier": 2.75, "score_thresholds_percent": [0, 25, 40, 55]},
        "territory": {"relative": 0.4}, "fixed_min_views": 1})
    assert p.abnormal_summed_score == 4
    assert p.paired_unconfirmed_normal is False
    assert p.tid_limit == 1.0
    assert isinstance(p.tid_limit, float)
    assert p.scoring.sd_multiplier == 2.75
    assert p.scoring.edge_sd_multiplier == 1.5          # untouched keys keep their default
    assert p.scoring.score_thresholds_percent == (0.0, 25.0, 40.0, 55.0)
    assert p.territory.relative == 0.4
    assert p.fixed_min_views == 1
    assert perfusion_params_from_mapping(perfusion_params_to_mapping(p)) == p


@pytest.mark.parametrize(("doc", "message"), [
    ({"abnormal_score": 4}, "abnormal_score: unknown setting"),
    ({"scoring": {"sd_multipler": 3}}, "scoring.sd_multipler: unknown setting"),
    ({"abnormal_summed_score": "4"}, "abnormal_summed_score: expected a whole number"),
    ({"abnormal_summed_score": 3.5}, "abnormal_summed_score: expected a whole number"),
    ({"fixed_min_views": True}, "fixed_min_views: expected a whole number"),
    ({"paired_unconfirmed_normal": 1}, "paired_unconfirmed_normal: expected true or false"),
    ({"tid_limit": None}, "tid_limit: expected a number"),
    ({"scoring": {"score_thresholds_percent": [0, 20, 35]}},
     "scoring.score_thresholds_percent: expected a list of 4 numbers"),
    ({"scoring": {"sd_multiplier": 9}}, "scoring: sd_multiplier must be within 0.5–5"),
    ({"territory": {"relative": 0}}, "territory: relative and segment_share must be"),
    ({"scoring": 2.5}, "scoring: expected a mapping of ScoringParams settings"),
    ({"fixed_min_views": 0}, "settings: fixed_min_views must be within 1–6, got 0"),
    ({"extra_territory_min_views": -1}, "extra_territory_min_views must be within 0–6"),
    ({"paired_segment_score": 5}, "paired_segment_score must be within 0–4, got 5"),
    ({"paired_min_views": 0}, "paired_min_views must be within 1–3, got 0"),
    ({"tid_limit": 0.9}, "tid_limit must be within 1–2, got 0.9"),
    ({"low_counts_per_pixel": -5}, "low_counts_per_pixel must be within 0–10000"),
    ({"reversibility_min_improvement_percent": 120},
     "reversibility_min_improvement_percent must be within 0–100"),
    ({"equivocal_summed_score": 4}, "equivocal_summed_score ≤ abnormal_summed_score, got 4 and 3"),
    ({"abnormal_summed_score": 0, "equivocal_summed_score": 0}, "1 ≤ equivocal_summed_score"),
    ({"profile": {"n_angles": 90}}, "profile: the profile settings must match the normal"),
])
def test_every_bad_setting_is_named(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        perfusion_params_from_mapping(doc, "site.yaml")
    assert str(info.value).startswith("site.yaml: ")
    assert message in str(info.value)
