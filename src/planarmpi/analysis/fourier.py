"""Fourier analysis of periodic cardiac curves and images.

A gated acquisition samples one averaged cardiac cycle; its time–activity curves are
periodic, so a truncated Fourier series (2–4 harmonics) is the standard smoother in
nuclear cardiology (Bacharach et al., J Nucl Med 1979; the project's domain notes,
"Volume curve").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["FourierCurve", "first_harmonic_images", "fit_fourier"]

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FourierCurve:
    """A periodic curve as a truncated Fourier series over one cycle.

    Attributes
    ----------
    coefficients : ndarray of complex, shape (harmonics + 1,)
        ``rfft`` coefficients of the samples, divided by the number of samples.
    period_ms : float
    """

    coefficients: NDArray[np.complex128]
    period_ms: float

    def __call__(self, t_ms: Array) -> Array:
        """Value at times ``t_ms`` (any shape, wrapped to the cycle)."""
        t = np.asarray(t_ms, dtype=np.float64)
        k = np.arange(self.coefficients.size)
        angle = 2 * np.pi * np.multiply.outer(t / self.period_ms, k)
        terms = self.coefficients * np.exp(1j * angle)
        weights = np.where(k == 0, 1.0, 2.0)
        return np.asarray((terms * weights).real.sum(axis=-1))

    def derivative(self, t_ms: Array) -> Array:
        """First derivative (units per ms) at ``t_ms``."""
        t = np.asarray(t_ms, dtype=np.float64)
        k = np.arange(self.coefficients.size)
        omega = 2 * np.pi * k / self.period_ms
        angle = np.multiply.outer(t, omega)
        terms = self.coefficients * 1j * omega * np.exp(1j * angle)
        return np.asarray((2.0 * terms).real.sum(axis=-1))


def fit_fourier(samples: Array, period_ms: float, harmonics: int = 3) -> FourierCurve:
    """Fit a curve sampled at equal intervals over one cycle.

    Parameters
    ----------
    samples : ndarray of shape (n,)
        Values at the mid-times of ``n`` equal slots (slot *i* centred at
        ``(i + 0.5) · period / n``).
    period_ms : float
        Length of the cycle the slots cover.
    harmonics : int
        Number of harmonics kept (≥ 1, < n / 2).

    Returns
    -------
    FourierCurve
        Evaluated in ms from the start of slot 0.
    """
    y = np.asarray(samples, dtype=np.float64)
    n = y.size
    if y.ndim != 1 or n < 4:
        raise ValueError(f"need a 1-D curve of ≥ 4 samples, got shape {y.shape}")
    if not 1 <= harmonics < n / 2:
        raise ValueError(f"harmonics must be within 1–{(n - 1) // 2} for {n} samples, "
                         f"got {harmonics}")
    coefficients = np.fft.rfft(y)[: harmonics + 1] / n
    # Samples sit at slot centres: shift the phase so that t = 0 is the start of slot 0.
    k = np.arange(harmonics + 1)
    coefficients = coefficients * np.exp(-1j * np.pi * k / n)
    return FourierCurve(coefficients, float(period_ms))


def first_harmonic_images(frames: Array) -> tuple[Array, Array]:
    """Amplitude and phase (degrees, 0–360) of the first harmonic of every pixel.

    Parameters
    ----------
    frames : ndarray of shape (n, rows, columns)
        One cycle of equal slots.

    Returns
    -------
    amplitude : ndarray of shape (rows, columns)
        Counts per slot.
    phase_deg : ndarray of shape (rows, columns)
        Where in the cycle the first harmonic peaks, as an angle (0° = at the start of the
        cycle, the R wave): ventricles, fullest at end-diastole, sit near 0°; atria and
        great vessels, fullest in systole, near 180°.
    """
    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 3 or f.shape[0] < 4:
        raise ValueError(f"frames must be (n ≥ 4, rows, columns), got shape {f.shape}")
    first = np.fft.rfft(f, axis=0)[1] / f.shape[0]
    n = f.shape[0]
    first = first * np.exp(-1j * np.pi / n)  # slot centres → cycle start
    amplitude = 2 * np.abs(first)
    phase = np.degrees(-np.angle(first)) % 360.0
    return amplitude, phase
