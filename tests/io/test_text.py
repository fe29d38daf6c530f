"""Description fallbacks: what real cameras write, read as documented."""

from __future__ import annotations

import pytest

from planarmpi.io.text import cardiac_evidence, state_from_text, tracer_from_text, view_from_text
from planarmpi.model import State, Tracer, View


@pytest.mark.parametrize(("text", "view", "angle"), [
    ("STR ANT", View.ANTERIOR, None),
    ("Rest Anterior", View.ANTERIOR, None),
    ("LAO 45", View.LAO, 45.0),
    ("LAO45 STRESS", View.LAO, 45.0),
    ("REST_LAO-70", View.LAO, 70.0),
    ("L ANT OBL", View.LAO, None),
    ("BEST SEPTAL", View.LAO, None),
    ("LT LAT", View.LEFT_LATERAL, None),
    ("LLAT", View.LEFT_LATERAL, None),
    ("L LAT REST", View.LEFT_LATERAL, None),
    ("Left Lateral", View.LEFT_LATERAL, None),
    ("LAT G", View.LEFT_LATERAL, None),
    ("RAO 30", View.RAO, 30.0),
    ("POST", View.POSTERIOR, None),
    ("POST STRESS LAO 45", View.LAO, 45.0),  # POST followed by STRESS is a time, not a view
    ("OAG 45 EFFORT", View.LAO, 45.0),  # French: oblique antérieure gauche
])
def test_view_patterns(text: str, view: View, angle: float | None) -> None:
    got, got_angle, note = view_from_text(text)
    assert (got, got_angle) == (view, angle)
    assert note == ""


@pytest.mark.parametrize(("text", "note"), [
    ("ANT POST", "names ANT and POST"),
    ("LAT", "without the side"),
    ("MYOCARDIAL PERFUSION", ""),
])
def test_unknown_views_say_why(text: str, note: str) -> None:
    view, angle, got_note = view_from_text(text)
    assert view is View.UNKNOWN
    assert angle is None
    assert note in got_note


@pytest.mark.parametrize(("text", "state"), [
    ("REST ANT", State.REST),
    ("STR ANT", State.STRESS),
    ("EXERCISE STRESS", State.STRESS_EXERCISE),
    ("EFFORT OAG", State.STRESS_EXERCISE),
    ("REGADENOSON STRESS", State.STRESS_PHARMACOLOGIC),
    ("ADENO LAO", State.STRESS_PHARMACOLOGIC),
    ("REDIST 4H", State.REDISTRIBUTION),
    ("REINJECTION", State.REINJECTION),
    ("REPOS FACE ANT", State.REST),
    ("RUHE", State.REST),
    ("REST/STRESS PROTOCOL", State.UNKNOWN),
    ("MPI", State.UNKNOWN),
])
def test_state_patterns(text: str, state: State) -> None:
    assert state_from_text(text)[0] is state


@pytest.mark.parametrize(("text", "tracer"), [
    ("Tc99m Sestamibi", Tracer.TC99M_SESTAMIBI),
    ("CARDIOLITE", Tracer.TC99M_SESTAMIBI),
    ("Myoview", Tracer.TC99M_TETROFOSMIN),
    ("Thallium-201 chloride", Tracer.TL201),
    ("TL-201", Tracer.TL201),
    ("MUGA LAO", Tracer.TC99M_RED_CELLS),
    ("UltraTag RBC", Tracer.TC99M_RED_CELLS),
    ("Tc-99m MAA", Tracer.OTHER),
    ("MDP", Tracer.OTHER),
    ("", Tracer.UNKNOWN),
])
def test_tracer_patterns(text: str, tracer: Tracer) -> None:
    assert tracer_from_text(text) is tracer


def test_cardiac_evidence() -> None:
    assert cardiac_evidence("STAT POUMON-REIN", "POUMONS").verdict == "not cardiac"
    assert cardiac_evidence("UNIF_INT_H1_H1").verdict == "not cardiac"
    assert cardiac_evidence("MYOCARDIAL PERFUSION", "STR ANT").verdict == "cardiac"
    assert cardiac_evidence("STR ANT").verdict == "undetermined"
