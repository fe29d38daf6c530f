"""ECG gating: beats of varying length, a rejection window, forward framing into slots.

Systole lasts the same time in every beat (35% of the nominal R-R); a longer or shorter
beat changes diastole. Forward framing fills time slots of fixed duration from each R wave,
so when beats vary the last slots collect fewer beats — the count fall-off real gated data
show. Beats outside the acceptance window are rejected, as cameras do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["BeatModel", "GatingOutcome", "beat_lengths_ms", "cycle_phase", "gate"]

SYSTOLE_FRACTION = 0.35


@dataclass(frozen=True, slots=True)
class BeatModel:
    """Heart-rhythm model.

    Attributes
    ----------
    rr_cv : float
        Coefficient of variation of the R-R interval (sinus rhythm ≈ 0.03–0.05).
    premature_fraction : float
        Fraction of beats that are premature (70% of nominal) and followed by a
        compensatory pause (130%).
    acceptance_window : float
        Beats within ±window × nominal R-R are accepted.
    """

    rr_cv: float = 0.04
    premature_fraction: float = 0.0
    acceptance_window: float = 0.2

    def __post_init__(self) -> None:
        if not 0 <= self.rr_cv <= 0.5:
            raise ValueError(f"rr_cv must be within 0–0.5, got {self.rr_cv}")
        if not 0 <= self.premature_fraction <= 0.5:
            raise ValueError(f"premature_fraction must be within 0–0.5, got "
                             f"{self.premature_fraction}")
        if not 0 < self.acceptance_window <= 1:
            raise ValueError(f"acceptance_window must be within 0–1, got "
                             f"{self.acceptance_window}")


def beat_lengths_ms(nominal_rr_ms: float, duration_ms: float, model: BeatModel,
                    rng: np.random.Generator) -> NDArray[np.float64]:
    """R-R intervals (ms) filling ``duration_ms`` of acquisition."""
    n = int(duration_ms / nominal_rr_ms * 1.5) + 4
    rr = nominal_rr_ms * (1.0 + model.rr_cv * rng.standard_normal(n))
    premature = rng.random(n) < model.premature_fraction
    premature[-1] = False
    for i in np.flatnonzero(premature):
        rr[i] = 0.7 * nominal_rr_ms
        rr[i + 1] = 1.3 * nominal_rr_ms
    rr = np.clip(rr, 0.3 * nominal_rr_ms, 3.0 * nominal_rr_ms)
    end = int(np.searchsorted(np.cumsum(rr), duration_ms)) + 1
    return rr[:end]


def cycle_phase(tau_ms: NDArray[np.float64], rr_ms: NDArray[np.float64] | float,
                nominal_rr_ms: float) -> NDArray[np.float64]:
    """Phase (0–1 of the nominal cycle) at time ``tau_ms`` after the R wave of a beat.

    Systole keeps its nominal duration; diastole stretches or shrinks with the beat.
    """
    systole = SYSTOLE_FRACTION * nominal_rr_ms
    rr = np.broadcast_to(np.asarray(rr_ms, dtype=np.float64), np.shape(tau_ms))
    diastole = np.maximum(rr - systole, 1.0)
    return np.where(
        tau_ms < systole,
        SYSTOLE_FRACTION * tau_ms / systole,
        SYSTOLE_FRACTION + (1 - SYSTOLE_FRACTION) * np.clip((tau_ms - systole) / diastole, 0, 1),
    )


@dataclass(frozen=True, slots=True)
class GatingOutcome:
    """Time spent in each phase bin by each slot, over the accepted beats.

    ``weights_ms[t, k]`` is the acquisition time (ms) that slot ``t`` spent while the heart
    was in phase bin ``k`` (bins of width 1/K over the nominal cycle).
    """

    weights_ms: NDArray[np.float64]
    accepted: int
    rejected: int
    slot_ms: float
    low_rr_ms: float
    high_rr_ms: float


def gate(rr_ms: NDArray[np.float64], nominal_rr_ms: float, n_slots: int, n_bins: int,
         window: float, *, substeps: int = 32) -> GatingOutcome:
    """Forward-frame accepted beats into ``n_slots`` slots of nominal R-R / ``n_slots``.

    Each slot's overlap with a beat is split into ``substeps`` equal parts, each assigned to
    the phase bin at its middle, so slot durations are exact.
    """
    slot_ms = nominal_rr_ms / n_slots
    low, high = nominal_rr_ms * (1 - window), nominal_rr_ms * (1 + window)
    accepted = (rr_ms >= low) & (rr_ms <= high)
    beats = rr_ms[accepted][:, None]  # (B, 1)
    start = np.arange(n_slots)[None, :] * slot_ms  # (1, S)
    end = np.minimum(start + slot_ms, beats)  # (B, S)
    length = np.clip(end - start, 0.0, None)
    frac = (np.arange(substeps) + 0.5) / substeps  # (M,)
    tau = start[..., None] + length[..., None] * frac  # (B, S, M)
    rr = np.broadcast_to(beats[..., None], tau.shape)
    bins = np.minimum((cycle_phase(tau, rr, nominal_rr_ms) * n_bins).astype(int), n_bins - 1)
    slots = np.broadcast_to(np.arange(n_slots)[None, :, None], tau.shape)
    weights = np.zeros((n_slots, n_bins))
    np.add.at(weights, (slots.ravel(), bins.ravel()),
              np.broadcast_to((length / substeps)[..., None], tau.shape).ravel())
    return GatingOutcome(weights, int(accepted.sum()), int((~accepted).sum()), slot_ms,
                         low, high)
