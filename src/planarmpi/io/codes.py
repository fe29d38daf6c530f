"""Coded vocabularies the reader and writers share.

SNOMED CT codes come from pydicom's code dictionary (DICOM PS3.16 CID 26 *Nuclear
Medicine Projection*, CID 25 *Radiopharmaceuticals*, CID 18 *Isotopes in Radiopharmaceuticals*).
Older cameras still write the retired SNOMED-RT (``SRT``) equivalents; their values are
listed here once and tested against pydicom's SNOMED mapping.
"""

from __future__ import annotations

from pydicom.sr.codedict import Collection
from pydicom.sr.coding import Code

from planarmpi.model.enums import Tracer, View

__all__ = [
    "RADIONUCLIDE_CODES",
    "TRACER_CODES",
    "VIEW_CODES",
    "tracer_from_code",
    "view_code",
    "view_from_code",
]

_CID26 = Collection("CID26")
_CID25 = Collection("CID25")
_CID18 = Collection("CID18")

#: View → (SNOMED CT code, retired SNOMED-RT value).
VIEW_CODES: dict[View, tuple[Code, str]] = {
    View.ANTERIOR: (_CID26.AnteriorProjection, "G-5215"),
    View.POSTERIOR: (_CID26.PosteriorProjection, "G-5216"),
    View.LAO: (_CID26.LeftAnteriorObliqueEmissiveProjection, "G-5207"),
    View.RAO: (_CID26.RightAnteriorObliqueEmissiveProjection, "G-5206"),
    View.LPO: (_CID26.LeftPosteriorObliqueEmissiveProjection, "G-5209"),
    View.RPO: (_CID26.RightPosteriorObliqueEmissiveProjection, "G-5208"),
    View.LEFT_LATERAL: (_CID26.LeftLateralEmissiveProjection, "G-5223"),
    View.RIGHT_LATERAL: (_CID26.RightLateralEmissiveProjection, "G-5222"),
}

#: Tracer → (SNOMED CT code, retired SNOMED-RT value), Radiopharmaceutical Code Sequence.
TRACER_CODES: dict[Tracer, tuple[Code, str]] = {
    Tracer.TC99M_SESTAMIBI: (_CID25.TechnetiumTc99mSestamibi, "C-163AB"),
    Tracer.TC99M_TETROFOSMIN: (_CID25.TechnetiumTc99mTetrofosmin, "C-163AD"),
    Tracer.TC99M_RED_CELLS: (_CID25.TechnetiumTc99mTaggedRedCells, "C-B1224"),
    Tracer.TL201: (_CID25.ThallousChlorideTl201, "C-B1231"),
}

#: Radionuclide Code Sequence values → the tracer family they imply.
RADIONUCLIDE_CODES: dict[Tracer, tuple[Code, str]] = {
    Tracer.TC99M: (_CID18._99mTechnetium, "C-163A8"),
    Tracer.TL201: (_CID18._201Thallium, "C-138A9"),
}

_VIEW_BY_VALUE: dict[str, View] = {}
for _view, (_code, _srt) in VIEW_CODES.items():
    _VIEW_BY_VALUE[_code.value] = _view
    _VIEW_BY_VALUE[_srt] = _view

_VIEW_BY_MEANING: dict[str, View] = {
    "anterior": View.ANTERIOR,
    "anterior projection": View.ANTERIOR,
    "posterior": View.POSTERIOR,
    "posterior projection": View.POSTERIOR,
    "left anterior oblique": View.LAO,
    "right anterior oblique": View.RAO,
    "left posterior oblique": View.LPO,
    "right posterior oblique": View.RPO,
    "left lateral": View.LEFT_LATERAL,
    "left lateral projection": View.LEFT_LATERAL,
    "right lateral": View.RIGHT_LATERAL,
    "right lateral projection": View.RIGHT_LATERAL,
}


def _by_value(table: dict[Tracer, tuple[Code, str]]) -> dict[str, Tracer]:
    out: dict[str, Tracer] = {}
    for tracer, (code, srt) in table.items():
        out[code.value] = tracer
        out[srt] = tracer
    return out


_TRACER_BY_VALUE = _by_value(TRACER_CODES)
_NUCLIDE_BY_VALUE = _by_value(RADIONUCLIDE_CODES)


def view_code(view: View | str) -> Code:
    """The SNOMED CT code of a view, for the View Code Sequence.

    Raises
    ------
    KeyError
        For ``View.UNKNOWN``, which has no code.
    """
    return VIEW_CODES[View(view)][0]


def view_from_code(value: str, meaning: str = "") -> View:
    """View from a View Code Sequence item: by code value, else by its meaning."""
    view = _VIEW_BY_VALUE.get(value.strip())
    if view is None:
        view = _VIEW_BY_MEANING.get(" ".join(meaning.lower().split()))
    return view if view is not None else View.UNKNOWN


def tracer_from_code(value: str, *, radionuclide: bool = False) -> Tracer:
    """Tracer from a Radiopharmaceutical (or Radionuclide) Code Sequence value."""
    table = _NUCLIDE_BY_VALUE if radionuclide else _TRACER_BY_VALUE
    return table.get(value.strip(), Tracer.UNKNOWN)
