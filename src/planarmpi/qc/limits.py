"""Quality-control limits, each with its source; all of them configurable.

Sources are summarised in ``docs/qc.md`` and in the project's domain notes:
Wackers, *Nuclear Cardiology: The Basics*, Table 7-1 (counts per view, LV counts per
pixel); Bacharach et al., J Nucl Med 1979 (frame duration for EF and filling rates);
IAEA Nuclear Medicine Resources Manual ch. 5 (first-pass frames of 25–50 ms); Henzlova et
al., ASNC imaging guidelines, J Nucl Cardiol 2016 (one-day Tc-99m protocols, second dose
about 3× the first).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QCLimits"]


@dataclass(frozen=True, slots=True)
class QCLimits:
    """Thresholds applied by :mod:`planarmpi.qc.checks`.

    Attributes
    ----------
    min_view_counts_tc99m, min_view_counts_tl201 : float
        Total counts per static perfusion view: ≥ 1 M for Tc-99m agents, ≥ 600 k for
        Tl-201 (Wackers Table 7-1).
    min_lv_max_counts_per_pixel : float
        Maximal LV counts per pixel below 100 make a study suboptimal (Wackers).
    max_gated_frame_ms_for_ef : float
        Frame duration ≤ 50 ms for a count-based EF at rest (Bacharach 1979).
    max_first_pass_frame_ms : float
        First-pass frames of 25–50 ms (IAEA manual ch. 5; Bacharach 1979).
    max_rejected_beat_fraction : float
        planarmpi default, not a guideline value: more than 20% of beats rejected is
        reported as a warning; sites may set their own.
    max_late_frame_falloff_fraction : float
        planarmpi default, not a guideline value: last gated frame more than 15% below the
        median frame counts signals R-R variability with forward framing (Bacharach 1980
        describes the effect, not a cut-off).
    min_one_day_dose_ratio : float
        One-day Tc-99m protocol: the second injection over the first injection's activity
        still present (3: the 3:1 one-day protocols of the ASNC imaging guidelines,
        Henzlova 2016; a 3:1 ratio leaves the first injection 25% of the second images'
        counts). :mod:`planarmpi.qc.protocol` measures it from the count rates.
    """

    min_view_counts_tc99m: float = 1.0e6
    min_view_counts_tl201: float = 6.0e5
    min_lv_max_counts_per_pixel: float = 100.0
    max_gated_frame_ms_for_ef: float = 50.0
    max_first_pass_frame_ms: float = 50.0
    max_rejected_beat_fraction: float = 0.20
    max_late_frame_falloff_fraction: float = 0.15
    min_one_day_dose_ratio: float = 3.0

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if not getattr(self, name) > 0:
                raise ValueError(f"QC limit {name} must be > 0, got {getattr(self, name)}")
