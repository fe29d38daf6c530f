"""What real cameras put in free-text descriptions, and how planarmpi reads it.

Many cameras name the view, the state and sometimes the tracer only in Series
Description (0008,103E), Protocol Name (0018,1030) or Study Description (0008,1030), in
English, French or German abbreviations ("STR ANT", "LAO 45", "LT LAT", "REPOS",
"BELASTUNG"). These patterns are the documented fallback (``docs/conventions.md``); a
description that names two views or two states is ambiguous and yields nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planarmpi.model.enums import State, Tracer, View

__all__ = [
    "CardiacEvidence",
    "cardiac_evidence",
    "state_from_text",
    "tracer_from_text",
    "view_from_text",
]

_SEP = r"[\s_\-/.,;:()]*"
_NOT_STRESS = r"(?![\s_\-]*(?:STRESS|STR|EX|EXERCISE|INJ|INJECTION|DIPY|ADENO|REGA|LEXI))"

# Obliques and laterals before the bare anterior/posterior patterns: "L ANT OBL" is LAO.
_VIEW_PATTERNS: tuple[tuple[View, re.Pattern[str]], ...] = tuple(
    (view, re.compile(pattern))
    for view, pattern in (
        (View.LAO, r"\bLAO\b|\bLAO(?=\d)|\bL(?:EFT|T)?" + _SEP + r"ANT(?:ERIOR)?" + _SEP
         + r"OBL(?:IQUE)?\b|\bOAG\b|\bBEST" + _SEP + r"SEPTAL\b"),
        (View.RAO, r"\bRAO\b|\bRAO(?=\d)|\bR(?:IGHT|T)?" + _SEP + r"ANT(?:ERIOR)?" + _SEP
         + r"OBL(?:IQUE)?\b|\bOAD\b"),
        (View.LPO, r"\bLPO\b|\bLPO(?=\d)|\bL(?:EFT|T)?" + _SEP + r"POST(?:ERIOR)?" + _SEP
         + r"OBL(?:IQUE)?\b|\bOPG\b"),
        (View.RPO, r"\bRPO\b|\bRPO(?=\d)|\bR(?:IGHT|T)?" + _SEP + r"POST(?:ERIOR)?" + _SEP
         + r"OBL(?:IQUE)?\b|\bOPD\b"),
        (View.LEFT_LATERAL, r"\bLLAT\b|\bL(?:EFT|T)?" + _SEP + r"LAT(?:ERAL)?\b"
         + r"|\bLAT(?:ERAL)?" + _SEP + r"(?:G|GAUCHE|LI|LINKS|LEFT)\b|\bPROFIL" + _SEP
         + r"(?:G|GAUCHE)\b"),
        (View.RIGHT_LATERAL, r"\bRLAT\b|\bR(?:IGHT|T)?" + _SEP + r"LAT(?:ERAL)?\b"
         + r"|\bLAT(?:ERAL)?" + _SEP + r"(?:D|DROIT|RE|RECHTS|RIGHT)\b"),
        (View.ANTERIOR, r"\bANT(?:ERIOR|ERIEUR|ERIEURE)?\b|\bFACE" + _SEP + r"ANT\b"),
        (View.POSTERIOR, r"\bPOST(?:ERIOR|ERIEUR|ERIEURE)?\b" + _NOT_STRESS),
    )
)
_ANGLE = re.compile(r"\b(?:LAO|RAO|LPO|RPO|OAG|OAD)" + _SEP + r"(\d{1,2})\b")
_BARE_LATERAL = re.compile(r"\bLAT(?:ERAL)?\b")


def _clean(text: str) -> str:
    # Underscores are word characters for \b: "REST_LAO" must read as two words.
    return " ".join(text.upper().replace("_", " ").split())


def view_from_text(text: str) -> tuple[View, float | None, str]:
    """Read the view (and an oblique's angle) from a description.

    Parameters
    ----------
    text : str
        Series Description, Protocol Name or similar.

    Returns
    -------
    view : View
        ``View.UNKNOWN`` when no view or more than one view is named.
    angle_deg : float or None
        The oblique angle when written next to it ("LAO 45", "LAO45").
    note : str
        Empty, or why the text was not enough ("names ANT and POST", "bare LAT").
    """
    upper = _clean(text)
    if not upper:
        return View.UNKNOWN, None, ""
    found: list[View] = []
    remaining = upper
    for view, pattern in _VIEW_PATTERNS:
        if pattern.search(remaining):
            found.append(view)
            # "L ANT OBL" must not also count as ANT: blank what an oblique matched.
            remaining = pattern.sub(" ", remaining)
    if len(found) > 1:
        return View.UNKNOWN, None, "names " + " and ".join(v.value for v in found)
    if not found:
        if _BARE_LATERAL.search(upper):
            return View.UNKNOWN, None, "says LAT without the side"
        return View.UNKNOWN, None, ""
    angle = None
    match = _ANGLE.search(upper)
    if match and found[0] in (View.LAO, View.RAO, View.LPO, View.RPO):
        angle = float(match.group(1))
    return found[0], angle, ""


_STATE_PATTERNS: tuple[tuple[State, re.Pattern[str]], ...] = tuple(
    (state, re.compile(pattern))
    for state, pattern in (
        (State.REINJECTION, r"\bRE-?INJ(?:ECTION|ECT)?\b"),
        (State.REDISTRIBUTION, r"\bREDIST(?:RIBUTION)?\b|\bRD\b"),
        (State.STRESS_PHARMACOLOGIC,
         r"\bADENO(?:SINE|SCAN)?\b|\bREGA(?:DENOSON)?\b|\bLEXI(?:SCAN)?\b|\bDIPY"
         r"(?:RIDAMOLE)?\b|\bPERSANTIN[E]?\b|\bDOBUT(?:AMINE)?\b|\bPHARM(?:ACOLOGIC(?:AL)?)?\b"),
        (State.STRESS_EXERCISE,
         r"\bEXERCISE\b|\bEX\b|\bTREADMILL\b|\bBRUCE\b|\bBIKE\b|\bERGO(?:METRIE|METER)?\b|"
         r"\bEFFORT\b"),
        (State.STRESS, r"\bSTRESS\b|\bSTR\b|\bSTRS\b|\bBELASTUNG\b|\bSTRESSE?\b"),
        (State.REST, r"\bREST\b|\bRST\b|\bREPOS\b|\bRUHE\b|\bBASAL\b"),
    )
)


def state_from_text(text: str) -> tuple[State, str]:
    """Read the physiological state from a description.

    A stress modality ("ADENO", "EXERCISE") refines "STRESS"; rest together with a stress
    word is ambiguous ("REST/STRESS" protocol names) and yields ``State.UNKNOWN``.

    Returns
    -------
    state : State
    note : str
        Empty, or why the text was not enough.
    """
    upper = _clean(text)
    found = {state for state, pattern in _STATE_PATTERNS if pattern.search(upper)}
    if not found:
        return State.UNKNOWN, ""
    stress = {s for s in found if s.is_stress}
    others = found - stress
    if len(stress) > 1:
        stress.discard(State.STRESS)
    if len(stress) > 1:
        return State.UNKNOWN, "names both exercise and pharmacologic stress"
    candidates = others | stress
    if len(candidates) > 1:
        return State.UNKNOWN, "names " + " and ".join(sorted(s.value for s in candidates))
    return candidates.pop(), ""


_TRACER_PATTERNS: tuple[tuple[Tracer, re.Pattern[str]], ...] = tuple(
    (tracer, re.compile(pattern))
    for tracer, pattern in (
        (Tracer.TC99M_SESTAMIBI, r"SESTAMIBI|\bMIBI\b|CARDIOLITE|\bSMIBI\b"),
        (Tracer.TC99M_TETROFOSMIN, r"TETROFOSMIN|\bTETRO\b|MYOVIEW"),
        (Tracer.TC99M_RED_CELLS,
         r"\bRBC\b|RED\s*(?:BLOOD\s*)?CELL|ERYTHRO|HEMATIE|H[EÉ]MATIE|ULTRATAG|\bMUGA\b|"
         r"\bERNA\b|\bRNV\b|\bGBP\b|BLOOD\s*POOL|\bPYP\b.*RBC"),
        (Tracer.TL201, r"THALL|\bTL\s*-?\s*201\b|\b201\s*-?\s*TL\b|\bTL\b"),
        (Tracer.OTHER,
         r"\bMAA\b|\bMDP\b|\bHDP\b|\bHMDP\b|\bDPD\b|\bDTPA\b|\bDMSA\b|\bMAG\s*3\b|"
         r"PERTECHNET|\bHMPAO\b|\bECD\b|\bMIBG\b|\bDATSCAN\b|\bNANOCOLL|\bSULFUR\s*COLLOID|"
         r"\bPYP\b|PYROPHOSPHATE|\bOCTREO|\bGALLIUM\b|\bI-?131\b|\bI-?123\b"),
    )
)


def tracer_from_text(text: str) -> Tracer:
    """Tracer named in a Radiopharmaceutical (0018,0031) or description string.

    Returns ``Tracer.UNKNOWN`` when nothing, or more than one tracer, is named.
    """
    upper = _clean(text)
    found = {tracer for tracer, pattern in _TRACER_PATTERNS if pattern.search(upper)}
    if len(found) == 1:
        return found.pop()
    return Tracer.UNKNOWN


_CARDIAC_WORDS = re.compile(
    r"CARD|HEART|COEUR|HERZ|MYOC|\bMPI\b|PERFUSION\s*MYO|SESTAMIBI|\bMIBI\b|TETROFOSMIN|"
    r"MYOVIEW|CARDIOLITE|THALL|\bTL\s*-?201\b|\bMUGA\b|\bERNA\b|\bRNV\b|\bGBP\b|BLOOD\s*POOL|"
    r"FIRST\s*PASS|\bFPRNA\b|\bLVEF\b|\bFEVG\b|VENTRIC"
)
_NON_CARDIAC_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern))
    for label, pattern in (
        ("lung", r"\bLUNG|POUMON|PULMO|\bV/?Q\b|\bMAA\b"),
        ("kidney", r"RENAL|\bREIN|KIDNEY|NIERE|\bDMSA\b|\bMAG\s*3\b|\bDTPA\b|RENOGRA"),
        ("bone", r"\bBONE|\bOS\b|SQUELET|SKELET|KNOCHEN|\bMDP\b|\bHDP\b|\bDPD\b"),
        ("whole body", r"WHOLE\s*BODY|\bWB\b|CORPS\s*ENTIER|GANZK"),
        ("thyroid", r"THYRO|SCHILDDR|PARATHY"),
        ("camera quality control", r"FLOOD|\bUNIF|UNIFORM|\bQC\b|PHANTOM|JASZCZAK|\bCOR\b|"
         r"LINEARITY|SENSITIVITY|INTRINS|EXTRINS"),
        ("bowel or hepatobiliary", r"HIDA|HEPATOBIL|GASTRIC|BOWEL|\bGI\b\s*BLEED"),
        ("brain", r"BRAIN|CEREB|DATSCAN|\bHMPAO\b|\bECD\b"),
    )
)


@dataclass(frozen=True, slots=True)
class CardiacEvidence:
    """What the descriptions say about whether a study is cardiac."""

    cardiac: bool
    non_cardiac: tuple[str, ...]

    @property
    def verdict(self) -> str:
        """``cardiac``, ``not cardiac`` or ``undetermined``."""
        if self.non_cardiac and not self.cardiac:
            return "not cardiac"
        if self.cardiac and not self.non_cardiac:
            return "cardiac"
        return "undetermined"


def cardiac_evidence(*texts: str) -> CardiacEvidence:
    """Look for cardiac and non-cardiac words in descriptions and tracer names."""
    upper = _clean(" | ".join(t for t in texts if t))
    labels = tuple(label for label, pattern in _NON_CARDIAC_WORDS if pattern.search(upper))
    return CardiacEvidence(cardiac=bool(_CARDIAC_WORDS.search(upper)), non_cardiac=labels)
