"""The physician's report as data: sections of labelled items, an impression, a signature.

:func:`build_report` turns a ``result.json`` document, the study header (``study.json``),
the clinical context and the coding into a :class:`Report`; the renderers
(:mod:`planarmpi.report.render`) only lay it out. Wording is deterministic: the same input
and the same injected clock give the same report, word for word.

The content follows the ASNC 2006 consensus / 2017 structured-reporting elements and
EANM/EACVI 2015 (``report-and-coding.md`` of the domain notes): patient and study,
procedure, stress test, image quality, perfusion, function, comparison, impression with a
bottom line, software and signature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from planarmpi.analysis.perfusion.params import PerfusionParams
from planarmpi.model import State, Tracer
from planarmpi.model.clinical import (
    MBQ_PER_MCI,
    ClinicalContext,
    ExerciseStress,
    PharmacologicStress,
    StressType,
    blood_pressure_response,
    duke_risk,
    duke_treadmill_score,
    percent_mphr,
    rate_pressure_product,
)
from planarmpi.model.segments import views_of
from planarmpi.qc.limits import QCLimits
from planarmpi.qc.protocol import clinical_dose_ratio

__all__ = ["REPORT_SCHEMA", "Item", "Report", "ReportParams", "Section", "build_report"]

REPORT_SCHEMA = "planarmpi/report@1"


@dataclass(frozen=True, slots=True)
class ReportParams:
    """Limits used in the wording; change them to follow local practice.

    Parameters
    ----------
    lvef_lower_limit_percent : float
        Rest LVEF below this is reduced (ERNA normals 62.3 ± 6.1%, lower limit 50%:
        Eur Heart J 1985;6:647, function.md).
    rvef_lower_limit_percent : float
        Rest RVEF lower limit 40% (same source).
    serial_change_points, serial_change_abnormal_points : float
        A serial LVEF change is significant at ≥ 10 points from a normal baseline and at
        ≥ 5 points from an abnormal one (Wackers AJC 1979, function.md).
    extent_medium_percent, extent_large_percent : float
        Defect extent (% of the LV profile) from which it is medium / large (ASNC SPECT
        guideline wording: small < 10%, medium 10–20%, large > 20% of the LV).
    """

    lvef_lower_limit_percent: float = 50.0
    rvef_lower_limit_percent: float = 40.0
    serial_change_points: float = 10.0
    serial_change_abnormal_points: float = 5.0
    extent_medium_percent: float = 10.0
    extent_large_percent: float = 20.0


@dataclass(frozen=True, slots=True)
class Item:
    """A labelled value."""

    label: str
    value: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready mapping."""
        return {"label": self.label, "value": self.value}


@dataclass(frozen=True, slots=True)
class Section:
    """One titled part of the report."""

    key: str
    title: str
    items: tuple[Item, ...] = ()
    paragraphs: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # first row is the header

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"key": self.key, "title": self.title,
                "items": [i.to_dict() for i in self.items],
                "paragraphs": list(self.paragraphs), "table": [list(r) for r in self.table]}


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure file next to result.json and its caption."""

    file: str
    caption: str


@dataclass(frozen=True, slots=True)
class Report:
    """The report: header, sections, bottom line, impression and signature block."""

    title: str
    status: str  # draft | final
    generated_at: dt.datetime
    software: str
    patient_line: str
    sections: tuple[Section, ...]
    bottom_line: str  # normal | abnormal | equivocal | non-diagnostic
    impression: tuple[str, ...]
    figures: tuple[Figure, ...] = ()
    interpreting_physician: str = ""
    signed_at: dt.datetime | None = None
    defects: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def section(self, key: str) -> Section | None:
        """The section called ``key``, if present."""
        return next((s for s in self.sections if s.key == key), None)

    def to_dict(self, *, with_name: bool = False) -> dict[str, Any]:
        """The ``report`` section of result.json.

        Without ``with_name`` the patient's name is left out (result.json carries no names;
        ``study.json`` and the rendered reports do).
        """
        sections = [s.to_dict() for s in self.sections]
        if not with_name:
            for s in sections:
                s["items"] = [i for i in s["items"] if i["label"] != "Patient"]
        return {
            "schema": REPORT_SCHEMA,
            "title": self.title,
            "status": self.status,
            "generated_at": self.generated_at.isoformat(),
            "software": self.software,
            "bottom_line": self.bottom_line,
            "impression": list(self.impression),
            "sections": sections,
            "figures": [{"file": f.file, "caption": f.caption} for f in self.figures],
            "defects": [dict(d) for d in self.defects],
            "interpreting_physician": self.interpreting_physician,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
        }


# ---------------------------------------------------------------- formatting helpers

def _pct(value: float | None, digits: int = 0) -> str:
    return "not measured" if value is None else f"{value:.{digits}f}%"


#: A defect's kind when only one state was imaged (no rest images to compare).
_ONE_STATE = "not assessable for reversibility (one state)"


def _state_name(state: str) -> str:
    return {"stress-exercise": "exercise stress", "stress-pharmacologic":
            "pharmacologic stress", "stress": "stress"}.get(state, state)


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _severity(max_score: int) -> str:
    return {1: "mild", 2: "moderate"}.get(max_score, "severe")


def _beside_limit(value: float, limit: float) -> str:
    """``value`` with two decimals, or as many more (up to six) as it takes not to read as
    its limit: a ratio of 1.1204 against 1.12 is abnormal, and "1.12 > 1.12" says nothing."""
    for decimals in range(2, 7):
        if round(value, decimals) != round(limit, decimals):
            return f"{value:.{decimals}f}"
    return f"{value:.6f}"


def _extent(extent_percent: float, p: ReportParams) -> str:
    if extent_percent > p.extent_large_percent:
        return "large"
    if extent_percent >= p.extent_medium_percent:
        return "medium"
    return "small"


# ---------------------------------------------------------------- sections

def _person(name: str) -> str:
    """A DICOM PN (Family^Given^Middle^Prefix^Suffix) as people write it."""
    if "^" not in name:
        return name
    family, given, middle, prefix, suffix = (name.split("=")[0].split("^") + [""] * 5)[:5]
    first = " ".join(p for p in (prefix, given, middle) if p)
    return ", ".join(p for p in (family, " ".join(p for p in (first, suffix) if p)) if p)


def _patient_section(result: dict[str, Any], header: dict[str, Any],
                     clinical: ClinicalContext | None) -> Section:
    pat = result.get("patient") or {}
    items = [
        Item("Patient", _person(header.get("patient_name") or "") or "(name not recorded)"),
        Item("Patient ID", pat.get("patient_id") or "—"),
        Item("Sex", {"M": "male", "F": "female"}.get(pat.get("sex", ""), "not recorded")),
        Item("Age", f"{pat['age_years']:.0f} years" if pat.get("age_years") is not None
             else "not recorded"),
    ]
    height = (clinical.height_cm if clinical and clinical.height_cm is not None
              else (pat.get("height_m") or 0) * 100 or None)
    weight = (clinical.weight_kg if clinical and clinical.weight_kg is not None
              else pat.get("weight_kg"))
    items.append(Item("Height / weight",
                      f"{height:.0f} cm / {weight:.0f} kg" if height and weight
                      else "not recorded"))
    items.append(Item("Study date", header.get("study_date") or "not recorded"))
    combined = result.get("combined_studies") or []
    if len(combined) > 1:
        # A two-day protocol's studies analysed as one episode (--combine-studies).
        items.append(Item("Studies combined", "; ".join(
            f"{', '.join(_state_name(st) for st in c.get('states') or []) or 'no images'} "
            f"{c.get('study_date') or 'date not recorded'}" for c in combined)
            + " (stored as separate studies, analysed as one episode)"))
    if header.get("accession_number"):
        items.append(Item("Accession", header["accession_number"]))
    referring = (clinical.referring_physician if clinical else "") or header.get(
        "referring_physician", "")
    items.append(Item("Referring physician", referring or "not recorded"))
    if clinical is not None:
        items.append(Item("Indication", f"{clinical.indication.text} "
                                        f"(ICD-10 {clinical.indication.icd10})"))
        items.append(Item("History", "; ".join(clinical.history) or "none recorded"))
        items.append(Item("Medications", "; ".join(clinical.medications) or "none recorded"))
    else:
        items.append(Item("Indication", "not provided (no clinical file)"))
    return Section("patient", "Patient and study", tuple(items))


def _one_day_protocol(result: dict[str, Any], clinical: ClinicalContext | None
                      ) -> dict[str, Any] | None:
    """The one-day protocol's figures: the analysis' (result.json ``one_day_protocol``),
    or — when the DICOM gave no ratio (no doses with injection times, no acquisition
    times) and the study holds Tc-99m perfusion images at stress and at rest — the clinical
    file's injections (:func:`planarmpi.qc.protocol.clinical_dose_ratio`)."""
    one_day = result.get("one_day_protocol")
    if one_day and one_day.get("ratio") is not None:
        return dict(one_day)
    if clinical is None or not clinical.injections:
        return one_day
    sides = set()
    for s in result.get("series", []):
        try:
            tracer, state = Tracer(s.get("tracer")), State(s.get("state"))
        except ValueError:
            continue
        if tracer.is_technetium and tracer.is_perfusion_agent:
            sides.add("stress" if state.is_stress else "rest" if state is State.REST else "")
    if not {"stress", "rest"} <= sides:
        return one_day
    return clinical_dose_ratio(clinical.injections) or one_day


def _one_day_ratio_low(result: dict[str, Any], clinical: ClinicalContext | None) -> bool:
    """The QC warning ``ONE_DAY_DOSE_RATIO``, or the clinical file's doses below the
    result's QC limit (the DICOM could not be checked)."""
    if any(f.get("code") == "ONE_DAY_DOSE_RATIO" and f.get("level") == "warn"
           for f in result.get("qc", {}).get("findings", [])):
        return True
    one_day = _one_day_protocol(result, clinical) or {}
    if one_day.get("ratio_basis") != "clinical file doses":
        return False
    limit = (result.get("qc", {}).get("limits") or {}).get(
        "min_one_day_dose_ratio", QCLimits().min_one_day_dose_ratio)
    return bool(one_day["ratio"] < limit)


def _procedure_section(result: dict[str, Any], clinical: ClinicalContext | None) -> Section:
    series = result.get("series", [])
    by_state: dict[str, list[str]] = {}
    for s in series:
        view = s.get("view", "?") + (f" {s['view_angle_deg']:g}°" if s.get("view_angle_deg")
                                     else "")
        kind = {"GATED": "gated", "DYNAMIC": "first-pass dynamic"}.get(s.get("kind"), "")
        if s.get("framed_static"):
            kind = f"static in {s.get('frames')} time frames"
        by_state.setdefault(s.get("state", "unknown"), []).append(
            f"{view}{' (' + kind + ')' if kind else ''}")
    items = [Item(f"{_state_name(state).capitalize()} imaging", ", ".join(views))
             for state, views in by_state.items()]
    studies = list(dict.fromkeys("stress" if State(k).is_stress else k for k in by_state))
    items.append(Item("Studies", f"{len(studies)} ({', '.join(studies)}): "
                                 f"{'multiple' if len(studies) > 1 else 'single'} study"))
    if clinical is not None and clinical.injections:
        for inj in clinical.injections:
            when = f" at {inj.time:%H:%M}" if inj.time else ""
            site = f", {inj.site}" if inj.site else ""
            items.append(Item(f"Injection ({_state_name(inj.state.value)})",
                              f"{inj.tracer.value} {inj.dose_mbq:.0f} MBq "
                              f"({inj.dose_mci:.1f} mCi){when}{site}"))
    else:
        seen = set()
        # Injections on different days (a two-day protocol) are given with their dates.
        days = {s["injection_datetime"][:10] for s in series if s.get("injection_datetime")}
        clock = "%Y-%m-%d %H:%M" if len(days) > 1 else "%H:%M"
        for s in series:
            key = (s.get("tracer"), s.get("injection_datetime"), s.get("dose_mbq"))
            if s.get("dose_mbq") is None or key in seen or s.get("state") == "redistribution":
                continue
            seen.add(key)
            when = (f" at {dt.datetime.fromisoformat(s['injection_datetime']):{clock}}"
                    if s.get("injection_datetime") else "")
            items.append(Item(f"Injection ({_state_name(s.get('state', '?'))})",
                              f"{s.get('tracer')} {s['dose_mbq']:.0f} MBq "
                              f"({s['dose_mbq'] / MBQ_PER_MCI:.1f} mCi){when} "
                              "(from the DICOM header)"))
    one_day = _one_day_protocol(result, clinical) or {}
    if one_day.get("ratio") is not None:
        second = _state_name(one_day["second_state"])
        share = one_day.get("measured_share")
        items.append(Item(
            "One-day protocol",
            f"{_state_name(one_day['first_state'])} first, {second} "
            f"{one_day['hours_between']:.1f} h later; second injection "
            f"{one_day['ratio']:.1f}× the first's remaining activity "
            f"({one_day['ratio_basis']})"
            + (f": the {second} images hold {share:.0%} of their myocardial counts from the "
               "first injection" if share is not None else "")))
    cameras = sorted({s.get("manufacturer") or "?" for s in series})
    matrices = sorted({f"{s.get('rows')}×{s.get('columns')}" for s in series})
    items.append(Item("Camera", f"{', '.join(cameras)}; matrices {', '.join(matrices)}"))
    return Section("procedure", "Procedure", tuple(items))


def _stress_section(clinical: ClinicalContext | None, age: float | None) -> Section:
    if clinical is None or clinical.stress_type is StressType.NONE:
        text = ("No stress test (rest study)." if clinical is not None
                else "Stress test details not provided (no clinical file).")
        return Section("stress", "Stress test", paragraphs=(text,))
    p = clinical.params
    s = clinical.stress
    assert s is not None
    items: list[Item] = []
    if isinstance(s, ExerciseStress):
        items += [
            Item("Type", f"exercise, {s.protocol} protocol"
                 + (f", {s.stages_completed} stages completed"
                    if s.stages_completed is not None else "")),
            Item("Exercise time", f"{s.duration_min:g} min"
                 + (f", {s.mets:g} METs" if s.mets is not None else "")),
        ]
    elif isinstance(s, PharmacologicStress):
        dose_unit = s.dose_unit.replace("ug", "µg")
        items.append(Item("Type", f"pharmacologic, {s.agent.value} {s.dose:g} {dose_unit}"
                          + (f" over {s.infusion_min:g} min" if s.infusion_min else "")
                          + (" with low-level exercise" if s.low_level_exercise else "")))
        items.append(Item("Side effects", s.side_effects))
        if s.reversal:
            items.append(Item("Reversal", s.reversal))
    hr = f"{s.rest_hr_bpm:.0f} → {s.peak_hr_bpm:.0f} bpm"
    if age is not None:
        mphr = percent_mphr(s.peak_hr_bpm, age)
        hr += f" ({mphr:.0f}% of age-predicted maximum {220 - age:.0f} bpm"
        if isinstance(s, ExerciseStress):
            hr += ("; adequate" if mphr >= p.adequate_mphr_percent else
                   f"; below {p.adequate_mphr_percent:g}%: submaximal, sensitivity reduced")
        hr += ")"
    items.append(Item("Heart rate", hr))
    response = blood_pressure_response(s.rest_bp, s.peak_bp, p)
    items.append(Item("Blood pressure", f"{s.rest_bp} → {s.peak_bp} ({response.value})"))
    items.append(Item("Rate–pressure product",
                      f"{rate_pressure_product(s.peak_hr_bpm, s.peak_bp.systolic_mmhg):,.0f} "
                      "bpm·mmHg"))
    items.append(Item("Symptoms", s.symptoms if not isinstance(s, ExerciseStress) or
                      s.angina.value == "none" else f"{s.symptoms}; angina {s.angina.value}"))
    if isinstance(s, ExerciseStress):
        items.append(Item("Reason for termination", s.termination_reason))
    ecg = f"ST deviation {s.st_deviation_mm:g} mm; arrhythmias: {s.arrhythmias}"
    if s.ecg_findings:
        ecg += f"; {s.ecg_findings}"
    items.append(Item("ECG", ecg))
    paragraphs: tuple[str, ...] = ()
    if isinstance(s, ExerciseStress):
        if s.is_bruce:
            score = duke_treadmill_score(s.duration_min, s.st_deviation_mm, s.angina)
            items.append(Item("Duke treadmill score",
                              f"{score:+.1f} ({duke_risk(score).value} risk)"))
        else:
            items.append(Item("Duke treadmill score",
                              f"not computed: defined for the Bruce protocol ({s.protocol})"))
    if clinical.stress_roles is not None:
        r = clinical.stress_roles
        paragraphs = (f"Supervised by {r.supervision}; tracing by {r.tracing}; "
                      f"interpreted by {r.interpretation}.",)
    return Section("stress", "Stress test", tuple(items), paragraphs)


#: Info-level findings the image-quality section names (docs/perfusion.md §2, §6).
_QUALITY_NOTES = frozenset({"BACKGROUND_FOCUS_EXCLUDED", "HOT_NEIGHBOUR_EXCLUDED",
                            "LUNG_FIELD_FOCUS"})


def _quality_section(result: dict[str, Any]) -> tuple[Section, str]:
    findings = result.get("qc", {}).get("findings", [])
    fails = [f for f in findings if f.get("level") == "fail"]
    warns = [f for f in findings if f.get("level") == "warn"]
    artefacts = [a for a in (result.get("perfusion") or {}).get("artefacts", [])
                 if a.get("affects_profile")]
    if fails:
        grade = "poor"
    elif warns or artefacts:
        grade = "suboptimal"
    else:
        grade = "adequate"
    # Information a reader checks on the images, though it does not lower the grade: hot
    # foci beside the heart or in the lung field that the analysis left out.
    notes = [f for f in findings if f.get("code") in _QUALITY_NOTES]
    paragraphs = [f"Image quality: {grade}."]
    paragraphs += [f"{f['code']}: {f['message']}" for f in fails + warns + notes]
    paragraphs += [a["message"] for a in artefacts]
    return Section("quality", "Image quality", paragraphs=tuple(paragraphs)), grade


#: The words for the analysis' per-territory reversibility classes
#: (``perfusion.reversibility.territories``).
_TERRITORY_KIND = {"ischemia": "reversible", "scar": "fixed", "mixed": "partially reversible"}


def _min_improvement(perf: dict[str, Any]) -> float:
    """The improvement (% of the normal mean) a segment needed to read reversible."""
    value = (perf.get("settings") or {}).get("reversibility_min_improvement_percent")
    # A result.json older than its ``settings`` was analysed with the default.
    return float(value) if value is not None \
        else PerfusionParams().reversibility_min_improvement_percent


def _perfusion_section(result: dict[str, Any], p: ReportParams
                       ) -> tuple[Section | None, list[str], str, list[dict[str, Any]]]:
    """The section, the impression sentences, the perfusion verdict and the defects
    (territory, severity, kind, extent, segments) the DICOM SR codes."""
    perf = result.get("perfusion")
    if not perf:
        return None, [], "", []
    verdict = perf.get("verdict", "")
    states = perf.get("states", [])
    stress = next((s for s in states if State(s["state"]).is_stress), states[0] if states
                  else None)
    rev = perf.get("reversibility") or {}
    rev_by_segment = {r["segment"]: r for r in rev.get("segments", [])}
    segments = perf.get("segments", [])
    items: list[Item] = [Item("Method", perf.get("method", "")),
                         Item("Normal limits", (perf.get("limits") or {}).get("name", "—"))]
    if perf.get("rest_limits"):
        # A dual-isotope study: the rest state was scored against its own tracer's limits.
        items.append(Item("Normal limits (rest)", perf["rest_limits"].get("name", "—")))
    paragraphs: list[str] = []
    impression: list[str] = []
    defects: list[dict[str, Any]] = []
    # The attenuation patterns the verdict stood on (a confirmed fixed defect sets one
    # aside): a territory whose reductions all lie in one is worded as attenuation, not as
    # a defect, whenever the study is not read abnormal.
    attenuation = [a for a in perf.get("artefacts", [])
                   if "attenuation" in str(a.get("artefact", "")) and a.get("segments")
                   and not a.get("set_aside")]
    for s in states:
        items.append(Item(f"{_state_name(s['state']).capitalize()}",
                          f"summed score {s['summed_score']}, {s['reduced_segments']} of "
                          f"{s['segments_scored']} segments reduced, extent "
                          f"{s['extent_percent']:.0f}% of the LV profile ({s['verdict']})"))
    if stress is not None:
        attributed = perf.get("territory_segments")
        for territory in perf.get("territories", []):
            def counted(g: dict[str, Any]) -> bool:
                # Scored at stress, or reduced against the same patient's rest images.
                return bool(g.get("score")) or bool(
                    rev_by_segment.get(g["segment"], {}).get("stress_induced"))

            if attributed is not None:  # the territory fit's attribution
                segs = [g for g in segments if g["segment"] in attributed.get(territory, ())
                        and counted(g)]
            else:
                segs = [g for g in segments if g.get("territory") == territory and counted(g)]
            if not segs:
                if perf.get("territory_sources", {}).get(territory) == "rest":
                    # Named by the rest images' fit, with nothing reduced at stress there.
                    keys = ", ".join((attributed or {}).get(territory, ()))
                    paragraphs.append(f"{territory} territory: reduced on the rest images "
                                      f"only ({keys}), not at stress.")
                continue
            if verdict == "normal":
                # The analysis read the study normal although segments are reduced here (a
                # score below the equivocal one, an attenuation pattern with normal wall
                # motion, a reduction the rest images do not confirm): say where, not a
                # defect — no impression sentence and no coded finding; the verdict's
                # reasons below say why.
                paragraphs.append(
                    f"{territory} territory: "
                    + ", ".join(f"{g['name']} ({g['segment']}, score {g.get('score', 0)})"
                                for g in segs)
                    + " reduced, not read as a perfusion defect (see the verdict).")
                continue
            # A segment found only against the rest images is at least mildly reduced.
            max_score = max(max(int(g["score"]), 1) for g in segs)
            entries = [rev_by_segment[g["segment"]] for g in segs
                       if g["segment"] in rev_by_segment]
            # A fixed reduction the rest images show in one view only does not decide the
            # kind when the territory's other segments do (perfusion.fixed_min_views).
            counted_entries = [e for e in entries if e.get("corroborated_at_rest", True)]
            # Fixed reductions the rest images show in one view only, and segments within
            # the rest limits that were read fixed only for improving too little — no rest
            # reduction shows them (neither counts in the territory's kind).
            uncounted = [e for e in entries if e.get("corroborated_at_rest") is False]
            one_view = [e["segment"] for e in uncounted if e.get("rest_score")]
            barely = [e["segment"] for e in uncounted if not e.get("rest_score")]
            classes = [e["classification"] for e in counted_entries or entries]
            analysed = _TERRITORY_KIND.get((rev.get("territories") or {}).get(territory, ""))
            if analysed is not None:
                # The analysis' own class of the territory (perfusion.reversibility.
                # territories: the 70% share of its summed score), so the report and
                # result.json never word one territory two ways.
                kind = analysed
            elif not classes:
                kind = _ONE_STATE
            elif all(c == "ischemia" for c in classes):
                kind = "reversible"
            elif all(c == "scar" for c in classes):
                kind = "fixed"
            else:
                kind = "partially reversible"
            extent = _extent(float(stress["extent_percent"]), p)
            pattern = _attenuation_cover(segs, attenuation) if verdict != "abnormal" else None
            if pattern is not None:
                shadow_text, shadow_sentence = _attenuation_text(territory, segs, kind,
                                                                 max_score, pattern)
                paragraphs.append(shadow_text)
                impression.append(shadow_sentence)
                continue
            defects.append({"territory": territory, "severity": _severity(max_score),
                            "kind": kind, "extent": extent,
                            "segments": [g["segment"] for g in segs]})
            names = ", ".join(
                f"{g['name']} ({g['segment']}, score {g['score']})" if g.get("score") else
                f"{g['name']} ({g['segment']}, within the population's limits but "
                f"{rev_by_segment[g['segment']].get('induced_loss_percent', 0):.0f}% lower "
                "at stress than at rest)" for g in segs)
            # One state imaged: no reversibility word before "defect", said after it.
            adjective, one_state = ("", " (one state imaged: reversibility not assessable)") \
                if kind == _ONE_STATE else (f"{kind} ", "")
            paragraphs.append(
                f"{territory} territory: {_severity(max_score)} {adjective}defect of {extent} "
                f"extent{one_state} — {names}."
                + (f" The rest images show the reduction of {', '.join(one_view)} in that "
                   "view only: attenuation or a normal variant cannot be excluded there."
                   if one_view else "")
                + (f" {', '.join(barely)}: within the rest limits but less than "
                   f"{_min_improvement(perf):g}% of the normal uptake better than at stress, "
                   "so not read as reversible; no reduction on the rest images, so not "
                   "counted as fixed either." if barely else ""))
            meaning = {"reversible": "consistent with ischemia",
                       "fixed": "consistent with infarction (scar)",
                       "partially reversible": "consistent with infarction with peri-infarct "
                                               "ischemia"}.get(kind, "")
            impression.append(f"{_severity(max_score).capitalize()} {adjective}perfusion "
                              f"defect of {extent} extent in the {territory} territory"
                              + (f", {meaning}" if meaning else one_state) + ".")
        unattributed = perf.get("unattributed_segments") or []
        if unattributed:
            text, sentence = _unattributed_text(unattributed, verdict, perf.get("params", {}),
                                                named=bool(perf.get("territories")))
            paragraphs.append(text)
            if sentence:
                impression.append(sentence)
    if verdict == "normal" and not (stress or {}).get("summed_score"):
        paragraphs.append("Homogeneous tracer uptake within normal limits in all views.")
    for reason in perf.get("verdict_reasons", []):
        paragraphs.append(f"Verdict: {verdict} — {reason}.")
    tid = rev.get("tid")
    if tid and tid.get("ratio") is not None:
        ratio = _beside_limit(tid["ratio"], tid["upper_limit"])
        items.append(Item("TID (planar)", f"{ratio} (upper limit "
                                          f"{tid['upper_limit']:g}"
                                          f"{'; ABNORMAL' if tid.get('abnormal') else ''})"))
        if tid.get("abnormal"):
            impression.append(f"Transient ischemic dilation (ratio {ratio} > "
                              f"{tid['upper_limit']:g}): a marker of severe and extensive "
                              "ischemia.")
    elif tid and tid.get("problem"):
        items.append(Item("TID (planar)", str(tid["problem"])))
    for lhr in perf.get("lung_heart_ratio", []):
        label = f"Lung/heart ratio ({_state_name(lhr['state'])})"
        if lhr.get("value") is None:
            if lhr.get("excluded_focus_pixels"):
                # Not measured because of a hot focus: the reader must know it was looked for.
                items.append(Item(label, f"not measured: {lhr.get('reason', '')}"))
            continue
        value = _beside_limit(lhr["value"], lhr["upper_limit"])
        focus = ("; a hot focus in the lung field (injection site, marker?) left out of the "
                 "lung ROI" if lhr.get("excluded_focus_pixels") else "")
        items.append(Item(label, f"{value} (upper limit {lhr['upper_limit']:g}"
                                 f"{'; ABNORMAL' if lhr.get('abnormal') else ''}{focus})"))
        if lhr.get("abnormal") and State(lhr["state"]).is_stress:
            # Heart-rate dependent (domain notes: 0.44 at the maximal heart rate, 0.67 at
            # 80% of it), which the reader weighs against the stress test.
            impression.append(f"Increased lung uptake (lung/heart ratio {value}), "
                              "suggesting stress-induced LV dysfunction; the ratio rises "
                              "with submaximal stress (heart-rate dependent).")
    washout = rev.get("washout")
    if washout:
        items.append(Item("Tl-201 washout", _washout_text(washout)))
    reinjection = rev.get("reinjection")
    if reinjection:
        changed = reinjection.get("reclassified_segments") or []
        items.append(Item("Reinjection", (
            f"{len(changed)} segment(s) fixed on redistribution improved after reinjection "
            f"({', '.join(changed)}): viable myocardium; overall "
            f"{reinjection.get('overall_redistribution')} on redistribution, "
            f"{rev.get('overall')} with reinjection") if changed else
            "no defect fixed on redistribution improved after reinjection"))
        if changed and verdict == "abnormal":
            impression.append(f"Reinjection: {len(changed)} segment(s) of the defect fixed on "
                              "redistribution improved after tracer reinjection, indicating "
                              "viable (ischemic) myocardium.")
    # The state the stress images were compared with (redistribution for Tl-201).
    compared = next((x["state"] for x in states if not State(x["state"]).is_stress
                     and x["state"] != "reinjection"), "rest")
    table = [("Segment", "Territory", "Stress score",
              f"{_state_name(compared).capitalize()} score", "Class")]
    bracketed = False
    for g in segments:
        r = rev_by_segment.get(g["segment"])
        kind = r["classification"] if r else "—"
        if r and kind == "scar" and not r.get("rest_score"):
            # Within the rest limits, read fixed only for improving too little.
            kind = f"scar (improved < {_min_improvement(perf):g}%)"
        if r and r.get("redistribution_classification"):
            kind += f" (reinjection; {r['redistribution_classification']} on redistribution)"
        if verdict == "normal" and kind not in ("normal", "—"):
            # A class the verdict did not take (a stress − rest difference in one view, a
            # reduction below the equivocal score): shown, but not as a finding beside a
            # "no evidence of ischemia or infarction".
            kind, bracketed = f"({kind})", True
        table.append((f"{g['segment']} {g['name']}", g.get("territory", ""),
                      str(g.get("score", "—")),
                      str(r["rest_score"]) if r else "—", kind))
    if bracketed:
        paragraphs.append("Segment classes in parentheses are the stress–rest comparison's, "
                          "not read as a defect (see the verdict).")
    return (Section("perfusion", "Perfusion", tuple(items), tuple(paragraphs), tuple(table)),
            impression, verdict, defects)


def _washout_text(washout: dict[str, Any]) -> str:
    """The Tl-201 washout per view as a reader scans it: the segments' range, the
    interval and the decay correction (result.json keeps every segment's value)."""
    parts, hours, note = [], set(), ""
    for view, w in washout.items():
        values = [float(v) for v in (w.get("washout_percent") or {}).values()
                  if v is not None]
        if not values:
            continue
        skipped = w.get("not_measured") or []
        parts.append(f"{view} {min(values):.0f} to {max(values):.0f}%"
                     + (f" ({', '.join(skipped)} not measured: initial uptake too low)"
                        if skipped else ""))
        if w.get("hours_between") is not None:
            hours.add(f"{float(w['hours_between']):.1f} h")
        note = note or str(w.get("note", ""))
    if not parts:
        return "not measured"
    return (f"{'; '.join(parts)} per segment (stress to redistribution, "
            f"{', '.join(sorted(hours)) or 'interval unknown'}, decay-corrected)"
            + (f"; {note}" if note else ""))


def _attenuation_cover(segs: list[dict[str, Any]], attenuation: list[dict[str, Any]]
                       ) -> dict[str, Any] | None:
    """The attenuation pattern (``perfusion.artefacts`` entry) that holds every one of a
    territory's reduced segments, or None."""
    keys = {g["segment"] for g in segs}
    return next((a for a in attenuation if keys <= set(a["segments"])), None)


def _attenuation_text(territory: str, segs: list[dict[str, Any]], kind: str, max_score: int,
                      pattern: dict[str, Any]) -> tuple[str, str]:
    """The paragraph and the impression sentence for a territory whose reductions have the
    pattern of breast or diaphragmatic attenuation in a study not read abnormal: the
    artefact is named and the defect it may hide is not ruled out — never "consistent
    with" a disease the verdict did not call (``../shared/domain/perfusion.md``, Traps)."""
    artefact = str(pattern["artefact"])
    names = ", ".join(f"{g['name']} ({g['segment']}, score {g.get('score', 0)})" for g in segs)
    motion = pattern.get("wall_motion_normal")
    check = ("wall motion there is normal on the gated images"
             if motion is True else "no gated wall motion to tell attenuation from a defect")
    disease = {"reversible": "ischemia", "fixed": "infarction (scar)",
               "partially reversible": "infarction or ischemia"}.get(kind, "a perfusion defect")
    what = "reduction" if kind.startswith("not assessable") else f"{kind} reduction"
    text = (f"{territory} territory: {names} — a {_severity(max_score)} {what} with the "
            f"pattern of {artefact} ({check}); not coded as a perfusion defect (see the "
            "verdict).")
    where = ", ".join(g["name"] for g in segs)
    sentence = (f"{_severity(max_score).capitalize()} {what} in the {territory} territory "
                f"({where}) with the pattern of {artefact}: {disease} cannot be excluded"
                + ("; gated images would show whether wall motion there is normal."
                   if motion is None else "."))
    return text, sentence


def _unattributed_text(unattributed: list[dict[str, Any]], verdict: str,
                       params: dict[str, Any], named: bool = True) -> tuple[str, str | None]:
    """The paragraph on the reduced segments no named territory takes
    (``perfusion.unattributed_segments``) and, when the study is not normal and their
    summed stress score alone reaches the abnormal summed score, an impression sentence:
    a reduction that would by itself make a study abnormal is never left out of it."""
    def described(g: dict[str, Any]) -> str:
        rest = (f", rest score {g['rest_score']}, {g['classification']}"
                if "rest_score" in g else "")
        return f"{g['name']} ({g['segment']}, score {g['score']}{rest}; usually {g['territory']})"

    names = "; ".join(described(g) for g in unattributed)
    if verdict == "normal":
        return (f"Also reduced, outside the territories named: {names} — not read as a "
                "perfusion defect (see the verdict).", None)
    views = views_of(g["segment"] for g in unattributed)
    seen = f"seen in {len(views)} view{'s' if len(views) > 1 else ''}"
    text = (f"Also reduced, outside the segments attributed to the territories named "
            f"({seen}): {names}." if named else
            f"Reduced, with no coronary territory named by the territory fit ({seen}): "
            f"{names}.")
    summed = sum(int(g["score"]) for g in unattributed)
    threshold = params.get("abnormal_summed_score")
    if threshold is None or summed < int(threshold):
        return text, None
    severity = _severity(max(int(g["score"]) for g in unattributed))
    classes = {str(g.get("classification")) for g in unattributed}
    kind = {"scar": "fixed ", "ischemia": "reversible "}.get(classes.pop(), "") \
        if len(classes) == 1 else ""
    territories = sorted({g["territory"] for g in unattributed})
    segments = ", ".join(f"{g['name']} ({g['segment']})" for g in unattributed)
    where = "outside the territories' segments" if named else "in no named territory"
    return text, (f"{'Also a' if named else 'A'} {severity} {kind}reduction {where} — "
                  f"{segments}, usually the {' / '.join(territories)} territory "
                  f"(summed score {summed}); review the images.")


def _when(state: str | None) -> str:
    """How a report names the state a gated or first-pass series was acquired in."""
    if state is None:
        return ""
    try:
        return "post-stress" if State(state).is_stress else _state_name(state)
    except ValueError:
        return state


def _function_section(result: dict[str, Any], p: ReportParams
                      ) -> tuple[Section, list[str], float | None]:
    efs = result.get("ejection_fractions", [])
    items: list[Item] = []
    impression: list[str] = []
    lvef_main: float | None = None
    # Measurements of one method in several states (a gated view after stress and at
    # rest) are named by their state; the resting LVEF is the study's.
    state_of = {x.get("series_instance_uid"): x.get("state") for x in result.get("series", [])}
    per_method: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for ef in efs:
        per_method.setdefault((ef["chamber"], ef["method"]), []).append(ef)

    def when(e: dict[str, Any]) -> str:
        return _when(state_of.get(e.get("series_instance_uid")))

    def label(ef: dict[str, Any]) -> str:
        method = ef["method"].replace("-", " ")
        several = len(per_method[(ef["chamber"], ef["method"])]) > 1
        return f"{method}, {when(ef)}" if several and when(ef) else method

    method_rank = {"gated-blood-pool": 0, "first-pass": 1, "gated-perfusion": 2}
    for ef in sorted(efs, key=lambda e: (e["chamber"], method_rank.get(e["method"], 9))):
        ci = ef.get("ci95_percent")
        ci_text = f" (95% CI {ci[0]:.0f}–{ci[1]:.0f}%)" if ci else ""
        limit = (p.lvef_lower_limit_percent if ef["chamber"] == "LV"
                 else p.rvef_lower_limit_percent)
        status = "normal" if ef["value_percent"] >= limit else "reduced"
        items.append(Item(f"{ef['chamber']}EF ({label(ef)})",
                          f"{ef['value_percent']:.0f}%{ci_text}; {status} "
                          f"(lower limit {limit:g}%)"))
        if ef["chamber"] == "LV" and lvef_main is None:
            # The resting measurement first: it is the study's LVEF.
            group = sorted(per_method[("LV", ef["method"])],
                           key=lambda e: when(e) == "post-stress")
            lvef_main = float(group[0]["value_percent"])
            status = "normal" if lvef_main >= limit else "reduced"
            values = " and ".join(
                f"{g['value_percent']:.0f}%"
                + ("" if len(group) == 1 else
                   " at rest" if when(g) == "rest" else f" {when(g) or '?'}")
                for g in group)
            impression.append(f"{status.capitalize()} left ventricular systolic function, "
                              f"LVEF {values} ({ef['method'].replace('-', ' ')}).")
        elif ef["chamber"] == "RV":
            impression.append(f"RVEF {ef['value_percent']:.0f}% ({status}).")
    if not efs:
        why = [f["message"] for f in result.get("qc", {}).get("findings", [])
               if f.get("code") in ("EF_METHOD_NOT_AVAILABLE", "EF_NOT_MEASURED",
                                    "FIRST_PASS_NOT_MEASURED")]
        items.append(Item("Ejection fraction", "not measured"
                          + (f" ({why[0]})" if why else "")))
    findings = result.get("qc", {}).get("findings", [])
    volumes = [f for f in result.get("function", [])
               if f.get("method") == "gated-perfusion" and f.get("edv_ml") is not None]
    for f in result.get("function", []):
        if f.get("method") == "gated-perfusion" and f.get("edv_ml") is not None:
            state = when(f)
            items.append(Item("LV volumes (gated perfusion"
                              + (f", {state})" if len(volumes) > 1 and state else ")"),
                              f"end-diastolic {f['edv_ml']:.0f} ml, end-systolic "
                              f"{f['esv_ml']:.0f} ml (single-plane area–length; in the LAO "
                              "view absolute volumes are under-estimated, the EF is not)"))
        if f.get("peak_filling_rate_edv_per_s") is not None:
            items.append(Item("Peak filling rate",
                              f"{f['peak_filling_rate_edv_per_s']:.2f} EDV/s, time to peak "
                              f"filling {f.get('time_to_peak_filling_ms', 0):.0f} ms "
                              "(normal 2.2 ± 0.6 EDV/s, 198 ± 22 ms)"))
        if f.get("pulmonary_transit_s") is not None:
            items.append(Item("Pulmonary transit time", f"{f['pulmonary_transit_s']:.1f} s"))
        if f.get("method") == "first-pass" and "qp_qs" in f:
            # Qp:Qs (Maltz–Treves), or why the lung curve did not allow it.
            if f["qp_qs"] is not None:
                shunt = next((x for x in findings if x.get("code") == "LEFT_TO_RIGHT_SHUNT"
                              and x.get("series_instance_uid") == f.get("series_instance_uid")),
                             None)
                items.append(Item("Qp:Qs", f"{f['qp_qs']:.2f}"
                                  + ("; left-to-right shunt suggested" if shunt else
                                     "; no left-to-right shunt")))
                if shunt:
                    impression.append(f"Qp:Qs {f['qp_qs']:.2f}: left-to-right shunt "
                                      "suggested (first pass).")
            else:
                reason = next((str(x["message"]).split("Qp:Qs not measured: ", 1)[-1]
                               for x in findings if x.get("code") == "QP_QS_NOT_MEASURED"
                               and x.get("series_instance_uid")
                               == f.get("series_instance_uid")), "")
                items.append(Item("Qp:Qs", "not measured"
                                  + (f" ({reason})" if reason else "")))
    phase = result.get("phase")
    if phase:
        items.append(Item("LV phase (synchrony)",
                          f"SD {phase['sd_deg']:.1f}°, bandwidth {phase['bandwidth_deg']:.0f}°"))
    abnormal_wm = []
    table: list[tuple[str, ...]] = []
    if result.get("wall_motion"):
        geometric = any(w.get("method") == "gated-perfusion" for w in result["wall_motion"])
        table.append(("Segment", "Territory",
                      "Shortening / thickening" if geometric else "Regional EF", "Grade"))
        for w in result["wall_motion"]:
            limit = w.get("normal_limit_percent")  # absent from older result.json
            value = (f"{_pct(w.get('regional_shortening_percent'))}"
                     + (f" (normal ≥ {_pct(limit)})" if limit is not None else "")
                     + f" / {_pct(w.get('thickening_percent'))}"
                     if w.get("method") == "gated-perfusion"
                     else _pct(w.get("regional_ef_percent")))
            table.append((f"{w['segment']} {w['name']}", w.get("territory", ""), value,
                          w["grade"]))
            if w["grade"] != "normal":
                abnormal_wm.append(f"{w['grade']} {w['name']}")
        gated_states = {when(e) for e in efs
                        if e["method"] in ("gated-perfusion", "gated-blood-pool")}
        graded = when(result["wall_motion"][0])
        items.append(Item("Regional wall motion"
                          + (f" ({graded})" if len(gated_states) > 1 and graded else ""),
                          "normal in all segments" if not abnormal_wm
                          else "; ".join(abnormal_wm)))
        graded_by = _wall_motion_normals(result)
        if graded_by:
            items.append(Item("Wall-motion normals", graded_by))
        names = {w["segment"]: w["name"] for w in result["wall_motion"]}
        by_territory = [f"{t['grade']} {t['territory']} territory ("
                        + ", ".join(names.get(k, k) for k in t["segments"]) + ")"
                        for t in result.get("wall_motion_territories") or ()
                        if t["grade"] != "normal"]
        if by_territory:
            items.append(Item("Wall motion by territory", "; ".join(by_territory)))
            impression.append("Regional wall motion abnormality: "
                              f"{'; '.join(by_territory)}.")
        elif abnormal_wm:
            impression.append(f"Regional wall motion abnormality: {'; '.join(abnormal_wm)}.")
    return (Section("function", "Ventricular function", tuple(items), (), tuple(table)),
            impression, lvef_main)


def _wall_motion_normals(result: dict[str, Any]) -> str | None:
    """The name of the normals the reported wall motion was graded against (None in a
    result.json written before they were recorded)."""
    uid = result["wall_motion"][0].get("series_instance_uid")
    for f in result.get("function", []):
        named = f.get("wall_motion_normals")
        if named and f.get("series_instance_uid") == uid:
            return str(named.get("name") or named.get("path") or "")
    return None


def _comparison_section(clinical: ClinicalContext | None, lvef: float | None,
                        p: ReportParams, study_date: dt.date | None
                        ) -> tuple[Section, list[str], bool]:
    if clinical is None or not clinical.priors:
        return (Section("comparison", "Comparison", paragraphs=("No prior study provided for "
                                                                "comparison.",)), [], False)
    paragraphs = []
    impression = []
    significant_any = False
    for prior in sorted(clinical.priors, key=lambda x: x.date):
        text = f"{prior.date.isoformat()} {prior.description}"
        if study_date is not None and prior.date >= study_date:
            paragraphs.append(f"{text}: dated on or after this study "
                              f"({study_date.isoformat()}), so not compared.")
            continue
        if prior.perfusion:
            text += f"; perfusion {prior.perfusion}"
        if prior.lvef_percent is not None:
            text += f"; LVEF {prior.lvef_percent:.0f}%"
            if lvef is not None:
                delta = lvef - prior.lvef_percent
                baseline_abnormal = prior.lvef_percent < p.lvef_lower_limit_percent
                limit = (p.serial_change_abnormal_points if baseline_abnormal
                         else p.serial_change_points)
                significant = abs(delta) >= limit
                significant_any |= significant
                direction = "decrease" if delta < 0 else "increase"
                text += (f" → now {lvef:.0f}%: {direction} of {abs(delta):.0f} points, "
                         f"{'significant' if significant else 'not significant'} "
                         f"(threshold {limit:g} points from a "
                         f"{'reduced' if baseline_abnormal else 'normal'} baseline)")
                if significant:
                    now_low = lvef < p.lvef_lower_limit_percent
                    impression.append(
                        f"Significant {direction} of LVEF by {abs(delta):.0f} points since "
                        f"{prior.date.isoformat()} ({prior.lvef_percent:.0f}% → {lvef:.0f}%)"
                        + (f", now below {p.lvef_lower_limit_percent:g}%" if now_low and
                           delta < 0 else "") + ".")
        paragraphs.append(text + ".")
    return (Section("comparison", "Comparison", paragraphs=tuple(paragraphs)), impression,
            significant_any)


def build_report(result: dict[str, Any], *, header: dict[str, Any] | None = None,
                 clinical: ClinicalContext | None = None, coding: dict[str, Any] | None = None,
                 clock: dt.datetime, params: ReportParams | None = None,
                 figures: tuple[Figure, ...] = (), signed_by: str = "",
                 signed_at: dt.datetime | None = None) -> Report:
    """Build the report of one analysed study.

    Parameters
    ----------
    result : dict
        A ``planarmpi/result@1`` document.
    header : dict, optional
        The study header (``study.json``): patient name, study date, accession...
    clinical : ClinicalContext, optional
    coding : dict, optional
        The ``coding`` section (:meth:`CodingResult.to_dict`).
    clock : datetime
        "Now": the generation time written into the report (injected for reproducibility).
    params : ReportParams, optional
    figures : tuple of Figure
    signed_by, signed_at : str, datetime
        A final (signed) report; without them the report is a draft.

    Returns
    -------
    Report
    """
    p = params or ReportParams()
    header = header or {}
    from planarmpi._version import __version__

    age = (result.get("patient") or {}).get("age_years")
    sections = [_patient_section(result, header, clinical),
                _procedure_section(result, clinical),
                _stress_section(clinical, age)]
    quality, grade = _quality_section(result)
    sections.append(quality)
    perfusion, perf_impression, verdict, defects = _perfusion_section(result, p)
    if perfusion is not None:
        sections.append(perfusion)
    function, func_impression, lvef = _function_section(result, p)
    sections.append(function)
    study_date = (dt.date.fromisoformat(header["study_date"]) if header.get("study_date")
                  else None)
    comparison, comp_impression, significant = _comparison_section(clinical, lvef, p,
                                                                   study_date)
    sections.append(comparison)

    impression: list[str] = []
    reduced_lvef = lvef is not None and lvef < p.lvef_lower_limit_percent
    tid = ((result.get("perfusion") or {}).get("reversibility") or {}).get("tid") or {}
    ischemia = (any(d["kind"] in ("reversible", "partially reversible") for d in defects)
                or bool(tid.get("abnormal")))
    scar = any(d["kind"] in ("fixed", "partially reversible") for d in defects)
    if grade == "poor" and verdict in ("", "normal"):
        bottom = "non-diagnostic"
        impression.append("Non-diagnostic study: image quality is poor (see Image quality); "
                          "a normal appearance cannot be relied on.")
    elif verdict == "abnormal" or reduced_lvef or significant:
        bottom = "abnormal"
        what = [w for w, flag in (("myocardial ischemia", ischemia),
                                  ("myocardial infarction (scar)", scar),
                                  ("reduced LV systolic function", reduced_lvef),
                                  ("a significant change of LVEF", significant)) if flag]
        impression.append(f"ABNORMAL study: {_join(what) or 'abnormal perfusion'}.")
    elif verdict in ("equivocal", "low counts"):
        bottom = "equivocal"
        impression.append("EQUIVOCAL study: see the perfusion findings; correlate clinically.")
    else:
        bottom = "normal"
        regional = any(w.get("grade") not in (None, "normal")
                       for w in result.get("wall_motion") or [])
        if perfusion is None and regional:
            # A ventricular-function study whose LVEF is normal but a segment is not: the
            # first statement is about the global function, the regional finding follows
            # (it is not called normal beside "regional wall motion abnormality").
            impression.append("NORMAL global left ventricular systolic function; regional "
                              "wall motion abnormality (below).")
        else:
            kind = "myocardial perfusion" if perfusion is not None else "ventricular function"
            impression.append(f"NORMAL {kind} study."
                              + (" No evidence of ischemia or infarction."
                                 if perfusion is not None else ""))
    impression += perf_impression + func_impression + comp_impression
    if clinical is not None and clinical.exercise is not None and age is not None:
        mphr = percent_mphr(clinical.exercise.peak_hr_bpm, age)
        if mphr < clinical.params.adequate_mphr_percent and bottom == "normal":
            impression.append(f"Submaximal exercise ({mphr:.0f}% of the age-predicted "
                              "maximal heart rate) lowers the sensitivity for ischemia.")
    if _one_day_ratio_low(result, clinical) and perfusion is not None:
        # The one QC finding that changes how the perfusion reading itself is to be taken.
        one_day = _one_day_protocol(result, clinical) or {}
        rest_first = one_day.get("first_state") == "rest"
        impression.append(
            "One-day protocol with a second dose too small for the first: "
            + ("stress-induced defects may be under-estimated" if rest_first
               else "reversibility may be under-estimated (ischaemia may read as fixed)")
            + (" (see Procedure: the clinical file's doses)"
               if one_day.get("ratio_basis") == "clinical file doses"
               else " (see Image quality)") + ".")
    if grade == "suboptimal":
        impression.append("Image quality suboptimal (see Image quality).")

    tail: list[Item] = [Item("Software", f"planarmpi {__version__}")]
    perf = result.get("perfusion") or {}
    if perf.get("params"):
        tail.append(Item("Perfusion parameters", ", ".join(
            f"{k} {v}" for k, v in sorted(perf["params"].items()))))
    if coding:
        codes = [("-".join([c["code"], *c.get("modifiers", [])])
                  + (f" ×{c['units']}" if c.get("units", 1) != 1 else ""))
                 for c in coding.get("cpt", []) + coding.get("hcpcs", [])]
        tail.append(Item("Procedure codes", ", ".join(codes) or "none"))
    rationales = dict.fromkeys(f"{c['code']}: {c['rationale']}"
                               for c in (coding or {}).get("cpt", []) +
                               (coding or {}).get("hcpcs", []))
    rationales.update(dict.fromkeys(f"Not reported {n['what']}: {n['why']}"
                                    for n in (coding or {}).get("not_reported", [])))
    rationales.update(dict.fromkeys(f"Coding problem: {p}"
                                    for p in (coding or {}).get("problems", [])))
    sections.append(Section("processing", "Processing and coding", tuple(tail),
                            tuple(rationales)))
    study_kind = ("Planar myocardial perfusion imaging" if perfusion is not None else
                  "Gated blood-pool ventriculography" if any(
                      e.get("method") == "gated-blood-pool"
                      for e in result.get("ejection_fractions", [])) else
                  "Nuclear cardiology study")
    pat = result.get("patient") or {}
    patient_line = (f"{_person(header.get('patient_name') or '') or '(no name)'} · ID "
                    f"{pat.get('patient_id') or '—'} · {header.get('study_date') or ''}")
    return Report(
        title=study_kind,
        status="final" if signed_by and signed_at else "draft",
        generated_at=clock,
        software=f"planarmpi {__version__}",
        patient_line=patient_line,
        sections=tuple(sections),
        bottom_line=bottom,
        impression=tuple(impression),
        figures=figures,
        interpreting_physician=signed_by or (clinical.interpreting_physician if clinical
                                             else ""),
        signed_at=signed_at if signed_by else None,
        defects=tuple(defects),
    )
