"""A site's QC limits from a settings file (``planarmpi analyze --qc-settings``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from planarmpi.errors import InvalidInputError
from planarmpi.qc.limits import QCLimits
from planarmpi.qc.settings import qc_limits_from_mapping, qc_limits_to_mapping, read_qc_settings


def test_a_settings_file_changes_only_the_limits_it_names(tmp_path: Path) -> None:
    path = tmp_path / "qc.yaml"
    path.write_text("# our camera\nmin_view_counts_tc99m: 800000\n"
                    "max_rejected_beat_fraction: 0.1\n")
    limits = read_qc_settings(path)
    assert limits.min_view_counts_tc99m == 800000.0
    assert isinstance(limits.min_view_counts_tc99m, float)
    assert limits.max_rejected_beat_fraction == 0.1
    defaults = QCLimits()
    for f in dataclasses.fields(QCLimits):
        if f.name not in ("min_view_counts_tc99m", "max_rejected_beat_fraction"):
            assert getattr(limits, f.name) == getattr(defaults, f.name), f.name


def test_json_works_and_the_mapping_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "qc.json"
    path.write_text(json.dumps({"min_one_day_dose_ratio": 2.5}))
    limits = read_qc_settings(path)
    assert limits.min_one_day_dose_ratio == 2.5
    mapping = qc_limits_to_mapping(limits)
    assert set(mapping) == {f.name for f in dataclasses.fields(QCLimits)}
    assert qc_limits_from_mapping(mapping) == limits


@pytest.mark.parametrize(("text", "message"), [
    ("min_view_count: 5\n", "min_view_count: unknown QC limit (known: max_first_pass_frame_ms"),
    ("min_lv_max_counts_per_pixel: yes\n",
     "min_lv_max_counts_per_pixel: expected a number, got True"),
    ("min_lv_max_counts_per_pixel: '100'\n", "expected a number, got '100'"),
    ("max_gated_frame_ms_for_ef: 0\n", "QC limit max_gated_frame_ms_for_ef must be > 0, got 0"),
    ("max_gated_frame_ms_for_ef: -50\n", "must be > 0, got -50"),
    ("- 1\n- 2\n", "expected a mapping of QC limits"),
    ("a: [\n", "not valid YAML/JSON"),
])
def test_a_bad_file_names_itself_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "site-qc.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as info:
        read_qc_settings(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"nowhere\.yaml: cannot be read"):
        read_qc_settings(tmp_path / "nowhere.yaml")
