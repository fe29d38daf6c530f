"""Procedure coding of a nuclear cardiology encounter: CPT and HCPCS lines with rationale.

The rules are data (``coding/data/rules-YYYY.json``, one file per year); this module only
interprets them. Every line says who reports it, with which modifiers and units, under
which rule, and why — pointing to what the documentation says (states imaged, days,
injections, who did each stress component, place of service).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from planarmpi.errors import InvalidInputError
from planarmpi.model import State
from planarmpi.model.clinical import (
    Injection,
    PharmacologicAgent,
    PlaceOfService,
    StressRoles,
    StressType,
)

__all__ = [
    "CodeLine",
    "CodingResult",
    "Encounter",
    "available_years",
    "code_encounter",
    "load_rules",
]

RULES_SCHEMA = "planarmpi/coding-rules@1"


@cache
def available_years() -> tuple[int, ...]:
    """Years for which coding rules are shipped."""
    folder = resources.files("planarmpi.coding") / "data"
    years = []
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith("rules-") and name.endswith(".json"):
            years.append(int(name[6:10]))
    return tuple(sorted(years))


@cache
def load_rules(year: int) -> dict[str, Any]:
    """The rules for services in ``year``: that year's file, else the latest earlier one.

    Raises
    ------
    InvalidInputError
        When no rules exist for that year or before.
    """
    usable = [y for y in available_years() if y <= year]
    if not usable:
        raise InvalidInputError(f"no coding rules for services in {year} (rules exist for "
                                f"{', '.join(map(str, available_years()))})")
    chosen = usable[-1]
    text = (resources.files("planarmpi.coding") / "data" / f"rules-{chosen}.json").read_text(
        encoding="utf-8")
    rules: dict[str, Any] = json.loads(text)
    if rules.get("schema") != RULES_SCHEMA or rules.get("year") != chosen:
        raise InvalidInputError(f"coding rules rules-{chosen}.json: wrong schema or year")
    return rules


def _study_key(state: State) -> str:
    """States that count as separate studies: every stress variant is one 'stress'."""
    return "stress" if state.is_stress else state.value


@dataclass(frozen=True, slots=True)
class Encounter:
    """What was done, as coding needs it.

    Parameters
    ----------
    date_of_service : datetime.date
        Chooses the rules year.
    mpi_states : tuple of State
        States of planar perfusion imaging in the episode (stress, rest, redistribution,
        reinjection), across days.
    blood_pool_states, first_pass_states, spect_mpi_states : tuple of State
    first_pass_rvef : bool
        A first-pass right-ventricular EF was measured.
    stress_type : StressType
    stress_roles : StressRoles or None
    place_of_service : PlaceOfService
    injections : tuple of Injection
    agent : PharmacologicAgent or None
    agent_mg : float or None
        Amount of the stress agent given; None when unknown.
    session_dates : tuple of datetime.date
        Imaging days of the episode.
    """

    date_of_service: dt.date
    mpi_states: tuple[State, ...] = ()
    blood_pool_states: tuple[State, ...] = ()
    first_pass_states: tuple[State, ...] = ()
    spect_mpi_states: tuple[State, ...] = ()
    first_pass_rvef: bool = False
    stress_type: StressType = StressType.NONE
    stress_roles: StressRoles | None = None
    place_of_service: PlaceOfService = PlaceOfService.OFFICE
    injections: tuple[Injection, ...] = ()
    agent: PharmacologicAgent | None = None
    agent_mg: float | None = None
    session_dates: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        for name in ("mpi_states", "blood_pool_states", "first_pass_states",
                     "spect_mpi_states"):
            object.__setattr__(self, name, tuple(State(s) for s in getattr(self, name)))
        object.__setattr__(self, "stress_type", StressType(self.stress_type))
        object.__setattr__(self, "place_of_service", PlaceOfService(self.place_of_service))
        if self.agent is not None:
            object.__setattr__(self, "agent", PharmacologicAgent(self.agent))
        if self.stress_type is not StressType.NONE and self.stress_roles is None:
            raise ValueError("a stress test needs its roles to be coded")


@dataclass(frozen=True, slots=True)
class CodeLine:
    """One reported code."""

    code: str
    descriptor: str
    reported_by: str  # global | professional | facility | the named person/entity
    rule: str
    rationale: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    payment: str = "separate"  # separate | packaged

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"code": self.code, "modifiers": list(self.modifiers), "units": self.units,
                "reported_by": self.reported_by, "payment": self.payment,
                "descriptor": self.descriptor, "rule": self.rule,
                "rationale": self.rationale}


@dataclass(frozen=True, slots=True)
class CodingResult:
    """The coded encounter."""

    rules_year: int
    date_of_service: dt.date
    lines: tuple[CodeLine, ...]
    not_reported: tuple[dict[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def codes(self) -> tuple[str, ...]:
        """``code`` or ``code-MOD`` per line, in order."""
        return tuple("-".join((ln.code, *ln.modifiers)) for ln in self.lines)

    def to_dict(self) -> dict[str, Any]:
        """The ``coding`` section of result.json."""
        cpt = [ln.to_dict() for ln in self.lines if ln.code[0].isdigit()]
        hcpcs = [ln.to_dict() for ln in self.lines if not ln.code[0].isdigit()]
        summary = "; ".join(self.codes) if self.lines else "nothing to code"
        return {
            "cpt": cpt,
            "hcpcs": hcpcs,
            "rationale": f"coded with planarmpi coding rules {self.rules_year} for "
                         f"{self.date_of_service.isoformat()}: {summary}",
            "rules_year": self.rules_year,
            "date_of_service": self.date_of_service.isoformat(),
            "not_reported": [dict(n) for n in self.not_reported],
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def _distinct(states: tuple[State, ...]) -> list[str]:
    return list(dict.fromkeys(_study_key(s) for s in states))


def _units(amount: float, unit_size: float, rounding: str) -> tuple[int, str]:
    raw = amount / unit_size
    if rounding == "up":
        units = max(1, math.ceil(raw - 1e-9))
        how = "rounded up to whole units"
    else:
        units = max(1, round(raw))
        how = "rounded to the nearest whole unit"
    return units, f"{raw:g} units {how}" if abs(raw - units) > 1e-9 else f"{units} units"


def _split_lines(code: str, rules: dict[str, Any], pos: PlaceOfService, rule: str,
                 why: str) -> list[CodeLine]:
    desc = rules["codes"][code]["descriptor"]
    place = rules["place_of_service"][pos.value]
    if not (place["split"] and rules["codes"][code]["split"]):
        return [CodeLine(code, desc, "global", rule, f"{why}; {place['why']}")]
    return [CodeLine(code, desc, "professional", rule, f"{why}; {place['why']}", ("26",)),
            CodeLine(code, desc, "facility", rule, f"{why}; {place['why']}", ("TC",))]


def _procedure(kind: str, states: tuple[State, ...], rules: dict[str, Any],
               days: str) -> tuple[str, str]:
    proc = rules["procedures"][kind]
    studies = _distinct(states)
    code = proc["multiple"] if len(studies) > 1 else proc["single"]
    why = f"{proc['why']}: {len(studies)} stud{'ies' if len(studies) > 1 else 'y'} " \
          f"({', '.join(studies)}){days}"
    return code, why


def code_encounter(enc: Encounter) -> CodingResult:
    """Code an encounter with the rules of its year.

    Returns
    -------
    CodingResult
        Lines in the order procedures, stress test, supplies; what was deliberately not
        reported with why; problems that stop a line from being coded (missing dose...).
    """
    rules = load_rules(enc.date_of_service.year)
    year = rules["year"]
    notes: list[str] = []
    if year != enc.date_of_service.year:
        notes.append(f"rules of {year} applied to a service in {enc.date_of_service.year} "
                     "(no newer rules shipped)")
    problems: list[str] = []
    not_reported: list[dict[str, str]] = []
    lines: list[CodeLine] = []
    pos = enc.place_of_service
    days = ""
    if len(set(enc.session_dates)) > 1:
        days = " on " + ", ".join(d.isoformat() for d in sorted(set(enc.session_dates)))

    present = {kind: states for kind, states in (
        ("mpi-planar", enc.mpi_states), ("mpi-spect", enc.spect_mpi_states),
        ("blood-pool", enc.blood_pool_states), ("first-pass", enc.first_pass_states))
        if states}
    if any(s is State.UNKNOWN for states in present.values() for s in states):
        problems.append("the physiological state (rest/stress) of an acquisition is unknown:"
                        " the number of studies, hence single vs multiple, may be wrong")
    for rule in rules["exclusive"]:
        if rule["keep"] in present and rule["drop"] in present:
            dropped = rules["procedures"][rule["drop"]]
            not_reported.append({"what": f"{dropped['single']}/{dropped['multiple']}",
                                 "rule": rule["rule"], "why": rule["why"]})
            del present[rule["drop"]]
    for rule in rules["bundled"]:
        hosts = [k for k in rule["into"] if k in present]
        for kind in rule["function"]:
            if kind in present and hosts:
                proc = rules["procedures"][kind]
                not_reported.append({"what": f"{proc['single']}/{proc['multiple']}",
                                     "rule": rule["rule"], "why": rule["why"]})
                del present[kind]
    coded: list[str] = []
    for kind in ("mpi-spect", "mpi-planar", "blood-pool", "first-pass"):
        if kind in present:
            code, why = _procedure(kind, present[kind], rules, days)
            coded.append(code)
            lines.extend(_split_lines(code, rules, pos, rules["procedures"][kind]["rule"], why))
    for addon in rules["add_ons"]:
        if addon["when"] == "first-pass-rvef" and enc.first_pass_rvef:
            if addon["requires"] in coded:
                lines.extend(_split_lines(addon["code"], rules, pos, addon["rule"],
                                          addon["why"]))
            elif "blood-pool" in present:
                not_reported.append({"what": addon["code"], "rule": addon["rule"],
                                     "why": f"{addon['why']}; here the primary code is "
                                            f"{', '.join(coded) or 'absent'}"})

    stress_rule = rules["stress_test"]
    if enc.stress_type is not StressType.NONE and enc.stress_roles is not None:
        lines.extend(_stress_lines(enc.stress_roles, rules, enc.stress_type))

    packaged = rules["place_of_service"][pos.value]["packaged"]
    supplier = "facility" if pos.is_facility else "global"
    by_code: dict[str, list[Injection]] = {}
    for inj in enc.injections:
        entry = rules["radiopharmaceuticals"].get(inj.tracer.value)
        if entry is None:
            problems.append(f"{inj.state.value} injection: tracer {inj.tracer.value!r} has no "
                            "HCPCS code in the rules; name the agent in the clinical file")
            continue
        by_code.setdefault(entry["code"], []).append(inj)
    for code, injs in by_code.items():
        entry = next(e for e in rules["radiopharmaceuticals"].values() if e["code"] == code)
        what = ", ".join(f"{i.tracer.value} at {i.state.value} {i.dose_mbq:.0f} MBq "
                         f"({i.dose_mci:.1f} mCi)" for i in injs)
        if entry["unit"] == "study dose":
            units, how = len(injs), f"{len(injs)} study dose{'s' if len(injs) > 1 else ''}"
        else:
            total = sum(i.dose_mci for i in injs)
            units, how = _units(total, entry["unit_size"], entry["rounding"])
            how = f"{total:.2f} mCi = {how} ({rules['sources'][entry['rounding_source']]})"
        pay = "packaged" if "radiopharmaceutical" in packaged else "separate"
        lines.append(CodeLine(
            code, rules["codes"][code]["descriptor"], supplier, "RADIOPHARMACEUTICAL",
            f"{what}: {how}" + ("; packaged under OPPS" if pay == "packaged" else ""),
            units=units, payment=pay))
    if enc.agent is not None:
        entry = rules["agents"][enc.agent.value]
        code = entry["code"]
        if enc.agent_mg is None:
            problems.append(f"{enc.agent.value}: the amount given is unknown (a per-kg dose "
                            f"needs the weight): {code} units not coded")
        else:
            units, how = _units(enc.agent_mg, entry["unit_mg"], entry["rounding"])
            pay = "packaged" if "agent" in packaged else "separate"
            lines.append(CodeLine(
                code, rules["codes"][code]["descriptor"], supplier, "STRESS-AGENT",
                f"{enc.agent.value} {enc.agent_mg:g} mg in units of {entry['unit_mg']:g} mg: "
                f"{how} ({rules['sources'][entry['rounding_source']]})"
                + ("; packaged under OPPS" if pay == "packaged" else ""),
                units=units, payment=pay))
    _check(lines, stress_rule)
    return CodingResult(year, enc.date_of_service, tuple(lines), tuple(not_reported),
                        tuple(problems), tuple(notes))


def _stress_lines(roles: StressRoles, rules: dict[str, Any],
                  stress_type: StressType) -> list[CodeLine]:
    r = rules["stress_test"]
    kind = f"{stress_type.value} stress test"
    if roles.single_entity:
        code = r["global"]
        return [CodeLine(code, rules["codes"][code]["descriptor"], roles.supervision,
                         r["rule"], f"{kind}: {roles.supervision} supervised, made the tracing "
                         f"and interpreted; {r['why']}")]
    out = []
    for component in ("supervision", "tracing", "interpretation"):
        who = getattr(roles, component)
        code = r[component]
        out.append(CodeLine(code, rules["codes"][code]["descriptor"], who, r["rule"],
                            f"{kind}: {component} by {who}; the components were done by "
                            f"different providers; {r['why']}"))
    return out


def _check(lines: list[CodeLine], stress_rule: dict[str, Any]) -> None:
    """Invariants every coding must satisfy, whatever the rules file says."""
    stress_codes = {stress_rule[k] for k in ("global", "supervision", "tracing",
                                             "interpretation")}
    for ln in lines:
        if ln.code in stress_codes and ln.modifiers and not stress_rule["modifiers_allowed"]:
            raise AssertionError(f"{ln.code} must not carry modifiers")
    codes = [ln.code for ln in lines if ln.reported_by in ("global", "professional")]
    if len(codes) != len(set(codes)):
        raise AssertionError(f"a code is reported twice: {codes}")
