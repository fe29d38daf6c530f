"""Combining a two-day protocol's stress and rest studies into one episode."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

import numpy as np
import pytest

from factories import HEADER, PATIENT, acquisition
from planarmpi.errors import InvalidInputError
from planarmpi.model import (
    Level,
    SeriesKind,
    Sex,
    State,
    StaticImage,
    Study,
    Tracer,
)
from planarmpi.model.study import combine_studies


def _study(uid: str, date: dt.date | None, *states: State, patient=PATIENT,
           tracer: Tracer = Tracer.TC99M_TETROFOSMIN) -> Study:
    header = replace(HEADER, study_instance_uid=uid, study_date=date)
    series = tuple(
        StaticImage(replace(acquisition(SeriesKind.STATIC, state=state, tracer=tracer,
                                        series_uid=f"{uid}.{i}", sop_uid=f"{uid}.{i}.1"),
                            study_instance_uid=uid),
                    np.ones((4, 4), dtype=np.uint16), 600.0)
        for i, state in enumerate(states, start=1))
    return Study(header, patient, series)


STRESS = "1.2.3.100"
REST = "1.2.3.200"


def test_the_stress_study_leads_and_every_series_keeps_its_study() -> None:
    rest = _study(REST, dt.date(2026, 1, 1), State.REST)
    stress = _study(STRESS, dt.date(2026, 1, 3), State.STRESS_PHARMACOLOGIC)
    episode = combine_studies([rest, stress])
    assert episode.study_instance_uid == STRESS
    assert [h.study_instance_uid for h in episode.combined_with] == [REST]
    assert [s.acquisition.study_instance_uid for s in episode.series] == [STRESS, REST]
    assert [(c["study_instance_uid"], c["study_date"], c["states"])
            for c in episode.source_studies()] == [
        (STRESS, "2026-01-03", ["stress-pharmacologic"]), (REST, "2026-01-01", ["rest"])]
    (finding,) = [f for f in episode.findings if f.code == "STUDIES_COMBINED"]
    assert finding.level is Level.INFO
    assert f"rest images from study {REST} (2026-01-01, 2 days before the stress study)" \
        in finding.message


def test_a_missing_date_is_said_not_guessed() -> None:
    episode = combine_studies([_study(STRESS, dt.date(2026, 1, 3), State.STRESS),
                               _study(REST, None, State.REST)])
    (finding,) = [f for f in episode.findings if f.code == "STUDIES_COMBINED"]
    assert finding.level is Level.WARN
    assert f"study date missing in {REST}" in finding.message


@pytest.mark.parametrize(("studies", "message"), [
    (lambda: [_study(STRESS, None, State.STRESS)], "at least two"),
    (lambda: [_study(STRESS, None, State.STRESS), _study(STRESS, None, State.REST)],
     "the same study given twice"),
    (lambda: [_study(STRESS, None, State.STRESS),
              _study(REST, None, State.REST, patient=replace(PATIENT, patient_id="OTHER"))],
     "Patient IDs"),
    (lambda: [_study(STRESS, None, State.STRESS, patient=replace(PATIENT, patient_id="")),
              _study(REST, None, State.REST, patient=replace(PATIENT, patient_id=""))],
     "Patient IDs"),
    (lambda: [_study(STRESS, None, State.STRESS),
              _study(REST, None, State.REST, patient=replace(PATIENT, sex=Sex.MALE))],
     "patient sex differs"),
    (lambda: [_study(STRESS, None, State.STRESS, State.REST), _study(REST, None, State.REST)],
     "both hold rest images"),
    (lambda: [_study(STRESS, None, State.STRESS), _study(REST, None, State.STRESS_EXERCISE)],
     "several studies hold stress images"),
    (lambda: [_study(STRESS, None, State.REDISTRIBUTION), _study(REST, None, State.REST)],
     "no study holds stress images"),
    (lambda: [_study(STRESS, None, State.STRESS), _study(REST, None, State.UNKNOWN)],
     f"study {REST}: not combined, it holds images of unknown state"),
    (lambda: [_study(STRESS, dt.date(2026, 3, 1), State.STRESS),
              _study(REST, dt.date(2026, 1, 1), State.REST)], "59 days apart"),
    (lambda: [_study(STRESS, None, State.STRESS),
              _study(REST, None, State.REST, tracer=Tracer.TC99M_RED_CELLS)],
     f"study {REST}: not combined, it holds no perfusion images"),
])
def test_studies_that_are_not_one_episode_are_refused(studies, message) -> None:
    with pytest.raises(InvalidInputError, match=message):
        combine_studies(studies())


def test_the_interval_bound_is_an_option() -> None:
    studies = [_study(STRESS, dt.date(2026, 3, 1), State.STRESS),
               _study(REST, dt.date(2026, 1, 1), State.REST)]
    assert combine_studies(studies, max_days=60).combined_with[0].study_instance_uid == REST


def test_a_combined_study_cannot_be_combined_again_nor_hold_foreign_series() -> None:
    episode = combine_studies([_study(STRESS, None, State.STRESS),
                               _study(REST, None, State.REST)])
    with pytest.raises(InvalidInputError, match="combined already"):
        combine_studies([episode, _study("1.2.3.300", None, State.REDISTRIBUTION)])
    with pytest.raises(ValueError, match=re.escape("not 1.2.3.100 or 1.2.3.200")):
        Study(episode.header, PATIENT,
              (*episode.series, *_study("1.2.3.300", None, State.REDISTRIBUTION).series),
              combined_with=episode.combined_with)
    with pytest.raises(ValueError, match="combined with itself"):
        Study(episode.header, PATIENT, episode.series, combined_with=(episode.header,))


def test_a_study_alone_describes_itself() -> None:
    study = _study(STRESS, dt.date(2026, 1, 3), State.STRESS, State.REST)
    assert study.headers == (study.header,)
    assert study.states_of(STRESS) == (State.REST, State.STRESS)
    assert [c["states"] for c in study.source_studies()] == [["rest", "stress"]]


def test_episodes_group_by_patient_and_say_why_a_group_stays_apart() -> None:
    from planarmpi.model.study import episodes

    anonymous = replace(PATIENT, patient_id="")
    other = replace(PATIENT, patient_id="B-2")
    found = list(episodes([
        _study(STRESS, dt.date(2026, 1, 3), State.STRESS),
        _study("1.2.3.500", None, State.REST, patient=other),
        _study(REST, dt.date(2026, 1, 2), State.REST),
        _study("1.2.3.600", None, State.STRESS, patient=anonymous),
        _study("1.2.3.700", None, State.REST, patient=anonymous),
    ]))
    by_uid = {study.study_instance_uid: (study, problem) for study, problem in found}
    assert set(by_uid) == {STRESS, "1.2.3.500", "1.2.3.600", "1.2.3.700"}
    combined, problem = by_uid[STRESS]
    assert (problem, [h.study_instance_uid for h in combined.combined_with]) == ("", [REST])
    assert by_uid["1.2.3.500"][1] == ""  # a patient's only study
    for uid in ("1.2.3.600", "1.2.3.700"):
        assert by_uid[uid][1].endswith("not combined, no Patient ID; each analysed alone")
        assert not by_uid[uid][0].combined_with


def test_perfusion_sides_name_the_protocol_halves_a_study_holds() -> None:
    from planarmpi.model.study import perfusion_sides

    sesta, rbc = Tracer.TC99M_SESTAMIBI, Tracer.TC99M_RED_CELLS
    assert perfusion_sides([(sesta, State.STRESS_EXERCISE)]) == {"stress"}
    assert perfusion_sides([(Tracer.TL201, State.REDISTRIBUTION)]) == {"rest"}
    assert perfusion_sides([(sesta, State.STRESS), (sesta, State.REST)]) == {"stress", "rest"}
    # A blood pool, or an image of unknown state, is no side of a perfusion protocol.
    assert perfusion_sides([(rbc, State.REST), (sesta, State.UNKNOWN)]) == frozenset()


def test_read_apart_pairs_a_patients_stress_only_and_rest_only_studies() -> None:
    from planarmpi.model.study import read_apart

    stress, rest, both = frozenset({"stress"}), frozenset({"rest"}), frozenset({"stress", "rest"})
    found = read_apart([("A", "1", stress), ("A", "2", rest), ("A", "3", both),
                        ("B", "4", stress), ("C", "5", rest), ("", "6", stress),
                        ("", "7", rest), ("D", "8", frozenset())])
    # Only A holds both halves read apart; a study with both states, a patient with one
    # half, an empty Patient ID or no perfusion images are not a pair.
    assert found == {"A": (["1"], ["2"])}
