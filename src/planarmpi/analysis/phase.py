"""Phase analysis of gated blood-pool studies: the timing of contraction over a ventricle.

Per pixel, the first harmonic of the count–time curve gives an amplitude (how much) and a
phase (when); pixels below ~7% of the maximal amplitude are masked (the project's domain
notes, "Phase analysis"). Reported per ventricle: mean phase, phase SD, the 95% bandwidth
(the narrowest phase interval holding 95% of the pixels) and the entropy of the phase
histogram (0 = all pixels in one bin, 1 = uniform).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["PhaseStatistics", "phase_statistics"]


@dataclass(frozen=True, slots=True)
class PhaseStatistics:
    """Phase distribution of one region, degrees (0–360 = one cycle)."""

    mean_deg: float
    sd_deg: float
    bandwidth_deg: float
    entropy: float
    pixels: int
    histogram: NDArray[np.float64]  # pixel counts per bin
    bin_deg: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (the ``phase`` field of result.json)."""
        return {"mean_deg": self.mean_deg, "sd_deg": self.sd_deg,
                "bandwidth_deg": self.bandwidth_deg, "entropy": self.entropy,
                "pixels": self.pixels, "bin_deg": self.bin_deg}


def phase_statistics(phase_deg: NDArray[np.float64], amplitude: NDArray[np.float64],
                     region: NDArray[np.bool_], *, amplitude_fraction: float = 0.07,
                     bin_deg: float = 3.0) -> PhaseStatistics:
    """Statistics of the phases of ``region``'s pixels with enough amplitude.

    The phases are unwrapped around the region's circular mean, so a distribution that
    straddles 0°/360° is not split in two; mean and SD are then ordinary moments.

    Raises
    ------
    ValueError
        When fewer than 5 pixels pass the amplitude threshold.
    """
    region = np.asarray(region, dtype=bool)
    if not region.any():
        raise ValueError("empty region for phase analysis")
    amp = np.asarray(amplitude, dtype=np.float64)
    keep = region & (amp >= amplitude_fraction * float(amp[region].max()))
    if keep.sum() < 5:
        raise ValueError(f"{int(keep.sum())} pixels above {amplitude_fraction:.0%} of the "
                         "maximal amplitude: too few for phase analysis")
    ph = np.asarray(phase_deg, dtype=np.float64)[keep]
    angles = np.radians(ph)
    centre = float(np.degrees(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())))
    unwrapped = centre + (ph - centre + 180.0) % 360.0 - 180.0
    mean = float(unwrapped.mean())
    sd = float(unwrapped.std(ddof=1))
    ordered = np.sort(unwrapped)
    k = max(int(np.ceil(0.95 * ordered.size)), 1)
    bandwidth = float((ordered[k - 1:] - ordered[: ordered.size - k + 1]).min())
    hist, _ = np.histogram(ph % 360.0, bins=round(360.0 / bin_deg), range=(0.0, 360.0))
    prob = hist[hist > 0] / hist.sum()
    entropy = float(-(prob * np.log(prob)).sum() / np.log(hist.size))
    return PhaseStatistics(mean % 360.0, sd, bandwidth, entropy, int(keep.sum()),
                           hist.astype(np.float64), bin_deg)
