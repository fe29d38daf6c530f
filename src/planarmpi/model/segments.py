"""The 15 planar myocardial segments (5 per standard view) and their usual territories.

From the project's domain notes (planar perfusion, after Wackers, *Nuclear Cardiology: The
Basics*, and JACC 1986;7:527). Territory assignment varies with coronary dominance: this is
the usual right-dominant mapping, kept as data so a site can change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planarmpi.model.enums import View

__all__ = ["SEGMENTS", "Segment", "segments_of_territory", "view_of", "views_of"]


@dataclass(frozen=True, slots=True)
class Segment:
    """One planar segment: its view, name (base → apex → base order) and territory."""

    view: View
    index: int  # 1–5 within the view
    name: str
    territory: str

    @property
    def key(self) -> str:
        """``ANT-3`` style identifier."""
        return f"{self.view.value}-{self.index}"


SEGMENTS: tuple[Segment, ...] = (
    Segment(View.ANTERIOR, 1, "basal anterolateral", "LAD"),
    Segment(View.ANTERIOR, 2, "mid anterolateral", "LAD"),
    Segment(View.ANTERIOR, 3, "apical", "LAD"),
    Segment(View.ANTERIOR, 4, "mid inferior", "RCA"),
    Segment(View.ANTERIOR, 5, "basal inferior", "RCA"),
    Segment(View.LAO, 1, "basal septal", "LAD"),
    Segment(View.LAO, 2, "mid septal", "LAD"),
    Segment(View.LAO, 3, "inferoapical", "RCA"),
    Segment(View.LAO, 4, "mid posterolateral", "LCX"),
    Segment(View.LAO, 5, "basal posterolateral", "LCX"),
    Segment(View.LEFT_LATERAL, 1, "basal anterior", "LAD"),
    Segment(View.LEFT_LATERAL, 2, "mid anterior", "LAD"),
    Segment(View.LEFT_LATERAL, 3, "apical", "LAD"),
    Segment(View.LEFT_LATERAL, 4, "mid inferior", "RCA"),
    Segment(View.LEFT_LATERAL, 5, "basal inferior (posterobasal)", "LCX"),
)


def segments_of_territory(territory: str) -> tuple[Segment, ...]:
    """The segments a territory supplies."""
    return tuple(s for s in SEGMENTS if s.territory == territory)


def view_of(segment_key: str) -> str:
    """The view (``ANT``, ``LAO``, ``LLAT``) of a segment key such as ``LAO-2``."""
    return segment_key.rsplit("-", 1)[0]


def views_of(segment_keys: Iterable[str]) -> set[str]:
    """The views of segment keys (:func:`view_of`)."""
    return {view_of(key) for key in segment_keys}
