"""Our code tables agree with DICOM PS3.16 as pydicom ships it."""

from __future__ import annotations

import pytest
from pydicom.sr import _snomed_dict

from planarmpi.io.codes import (
    RADIONUCLIDE_CODES,
    TRACER_CODES,
    VIEW_CODES,
    tracer_from_code,
    view_code,
    view_from_code,
)
from planarmpi.model import Tracer, View

SCT_TO_SRT = _snomed_dict.mapping["SCT"]


@pytest.mark.parametrize("table", [VIEW_CODES, TRACER_CODES, RADIONUCLIDE_CODES])
def test_retired_srt_values_match_pydicom(table: dict) -> None:
    for code, srt in table.values():
        assert SCT_TO_SRT[code.value] == srt


@pytest.mark.parametrize("view", [v for v in View if v is not View.UNKNOWN])
def test_view_codes_round_trip(view: View) -> None:
    code = view_code(view)
    assert view_from_code(code.value) is view
    assert view_from_code(VIEW_CODES[view][1]) is view
    assert view_from_code("no-such-code", code.meaning) is view


def test_unknown_view_code() -> None:
    assert view_from_code("123", "Cranio-caudal") is View.UNKNOWN
    with pytest.raises(KeyError):
        view_code(View.UNKNOWN)


def test_tracer_codes() -> None:
    assert tracer_from_code("424299003") is Tracer.TC99M_SESTAMIBI
    assert tracer_from_code("C-B1231") is Tracer.TL201
    assert tracer_from_code("72454006", radionuclide=True) is Tracer.TC99M
    assert tracer_from_code("0000") is Tracer.UNKNOWN
