"""Camera vendors, recognised from Manufacturer (0008,0070).

Vendor-specific reading rules belong here and only here, keyed by :class:`Vendor`; the
reader asks :func:`vendor_of` and never compares manufacturer strings itself. So far every
vendor we have samples of is read by the standard rules; the table documents which
manufacturer strings map to which vendor so that a quirk can be attached when one appears.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Vendor", "vendor_of"]


class Vendor(StrEnum):
    """Gamma-camera and workstation vendors seen in NM files."""

    GE = "GE"
    SIEMENS = "Siemens"
    PHILIPS = "Philips"
    MEDISO = "Mediso"
    SPECTRUM_DYNAMICS = "Spectrum Dynamics"
    DIGIRAD = "Digirad"
    HERMES = "Hermes"
    MIE = "MiE"
    PLANARMPI = "planarmpi"
    UNKNOWN = "unknown"


# Lower-case prefixes of Manufacturer values written by real systems.
_PREFIXES: tuple[tuple[str, Vendor], ...] = (
    ("ge ", Vendor.GE),
    ("ge medical", Vendor.GE),
    ("ge healthcare", Vendor.GE),
    ("siemens", Vendor.SIEMENS),
    ("philips", Vendor.PHILIPS),
    ("adac", Vendor.PHILIPS),
    ("mediso", Vendor.MEDISO),
    ("spectrum dynamics", Vendor.SPECTRUM_DYNAMICS),
    ("digirad", Vendor.DIGIRAD),
    ("hermes", Vendor.HERMES),
    ("mie", Vendor.MIE),
    ("planarmpi", Vendor.PLANARMPI),
)


def vendor_of(manufacturer: str) -> Vendor:
    """The vendor whose systems write ``manufacturer`` (Manufacturer (0008,0070))."""
    text = " ".join(manufacturer.lower().split()) + " "
    for prefix, vendor in _PREFIXES:
        if text.startswith(prefix):
            return vendor
    return Vendor.UNKNOWN
