"""Injections, their doses and the count rates they give: one-day and thallium protocols."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from planarmpi.model import Radiopharmaceutical, State, Tracer
from planarmpi.simulate.study import (
    SimulationSpec,
    _with_residual,
    activity_mbq,
    injection_doses_mbq,
    injection_shares,
    injection_states,
    static_duration_ms,
)

TC = Tracer.TC99M_SESTAMIBI
T0 = dt.datetime(2026, 1, 15, 8, 0)


def _pharm(dose: float, hours: float, tracer: Tracer = TC) -> Radiopharmaceutical:
    return Radiopharmaceutical(tracer, tracer.value, dose, T0 + dt.timedelta(hours=hours))


@pytest.mark.parametrize(("tracer", "states", "expected"), [
    (TC, (State.STRESS_EXERCISE, State.REST), [370.0, 1110.0]),  # one-day, 3:1
    (TC, (State.REST, State.STRESS_PHARMACOLOGIC), [370.0, 1110.0]),
    (TC, (State.STRESS_EXERCISE,), [1110.0]),  # stress only: a full dose
    (Tracer.TL201, (State.STRESS_EXERCISE, State.REDISTRIBUTION), [148.0]),
    (Tracer.TL201, (State.STRESS_EXERCISE, State.REDISTRIBUTION, State.REINJECTION),
     [148.0, 37.0]),
    (Tracer.TC99M_RED_CELLS, (State.REST, State.STRESS_EXERCISE), [1110.0]),
])
def test_default_doses_follow_the_protocol(tracer, states, expected) -> None:
    spec = SimulationSpec(tracer=tracer, states=states)
    assert injection_doses_mbq(spec) == expected
    assert len(injection_states(tracer, states)) == len(expected)


def test_doses_are_one_per_injection() -> None:
    with pytest.raises(ValueError, match="one dose per injection"):
        SimulationSpec(tracer=Tracer.TL201,
                       states=(State.STRESS_EXERCISE, State.REDISTRIBUTION),
                       doses_mbq=(148.0, 148.0))
    with pytest.raises(ValueError, match="within 1–3000 MBq"):
        SimulationSpec(states=(State.STRESS_EXERCISE,), doses_mbq=(0.5,))


def test_activity_decays_and_adds_up() -> None:
    injections = [_pharm(370.0, 0.0), _pharm(1110.0, 3.0)]
    half = TC.half_life_h
    assert half == pytest.approx(6.0067)
    # Before the second injection only the first, one half-life later half of it.
    assert activity_mbq(injections, T0 + dt.timedelta(hours=half), half) \
        == pytest.approx(185.0 + 1110.0 * 2 ** (-(half - 3.0) / half))
    assert activity_mbq(injections, T0 + dt.timedelta(hours=1), half) \
        == pytest.approx(370.0 * 2 ** (-1 / half))
    shares = injection_shares(injections, T0 + dt.timedelta(hours=3), half)
    first = 370.0 * 2 ** (-3 / half)
    assert shares == pytest.approx([first / (first + 1110.0), 1110.0 / (first + 1110.0)])


def test_durations_follow_the_activity_present() -> None:
    spec = SimulationSpec(states=(State.STRESS_EXERCISE, State.REST))
    first, second = _pharm(370.0, 0.0), _pharm(1110.0, 3.0)
    at = T0 + dt.timedelta(minutes=40)
    # A third of a full dose: three times as long as the 300 s of a full one.
    assert static_duration_ms(spec, [first], T0, at) == pytest.approx(900000.0)
    start2 = T0 + dt.timedelta(hours=3)
    at2 = start2 + dt.timedelta(minutes=40)
    residual = 370.0 * 2 ** (-3 / 6.0067)
    assert static_duration_ms(spec, [first, second], start2, at2) \
        == pytest.approx(300000.0 * 1110.0 / (1110.0 + residual))


def test_the_residual_mixes_each_distribution_by_its_share() -> None:
    own = np.array([[0.0, 4.0], [4.0, 0.0]])
    first = np.array([[10.0, 0.0], [0.0, 10.0]])
    mixed = _with_residual(own, [0.25, 0.75], [first])
    assert mixed.sum() == pytest.approx(own.sum())  # the counts stay the view's
    assert mixed == pytest.approx(np.array([[1.0, 3.0], [3.0, 1.0]]))
    # A view the first state did not image: its share falls on the own distribution.
    assert _with_residual(own, [0.25, 0.75], [None]) == pytest.approx(own)


def test_thallium_washout_is_a_thallium_fraction() -> None:
    with pytest.raises(ValueError, match="for Tl-201 studies"):
        SimulationSpec(tl201_washout_fraction=0.4)
    with pytest.raises(ValueError, match="within 0–1"):
        SimulationSpec(tracer=Tracer.TL201, tl201_washout_fraction=1.0)
