"""Fourier fitting, phase statistics and polygon ROIs against closed-form answers."""

from __future__ import annotations

import numpy as np
import pytest

from planarmpi.analysis.fourier import first_harmonic_images, fit_fourier
from planarmpi.analysis.phase import phase_statistics
from planarmpi.analysis.roi import mask_outline, polygon_mask


def test_fourier_fit_reproduces_a_harmonic_curve() -> None:
    period, n = 800.0, 16
    t_mid = (np.arange(n) + 0.5) * period / n
    truth = lambda t: 100 + 30 * np.cos(2 * np.pi * t / period - 0.4) + 5 * np.sin(  # noqa: E731
        4 * np.pi * t / period)
    curve = fit_fourier(truth(t_mid), period, harmonics=2)
    t = np.linspace(0, period, 97)
    np.testing.assert_allclose(curve(t), truth(t), atol=1e-9)
    slope = (truth(t + 1e-3) - truth(t - 1e-3)) / 2e-3
    np.testing.assert_allclose(curve.derivative(t), slope, atol=1e-6)


def test_fit_fourier_validates() -> None:
    with pytest.raises(ValueError, match="harmonics"):
        fit_fourier(np.ones(8), 800.0, harmonics=4)


def test_first_harmonic_phase_is_the_time_of_the_maximum() -> None:
    n = 24
    t = (np.arange(n) + 0.5) / n
    frames = np.zeros((n, 1, 2))
    frames[:, 0, 0] = 10 + np.cos(2 * np.pi * (t - 0.25))  # maximum at a quarter cycle
    frames[:, 0, 1] = 10 + 3 * np.cos(2 * np.pi * t)  # maximum at the R wave
    amplitude, phase = first_harmonic_images(frames)
    assert phase[0, 0] == pytest.approx(90.0, abs=1e-6)
    assert phase[0, 1] % 360 == pytest.approx(0.0, abs=1e-6)
    assert amplitude[0, 1] == pytest.approx(3.0)


def test_phase_statistics_of_a_known_distribution() -> None:
    rng = np.random.default_rng(0)
    phase = (350.0 + rng.normal(0, 10, (50, 50))) % 360  # straddles 0°/360°
    amp = np.ones_like(phase)
    region = np.ones_like(phase, dtype=bool)
    stats = phase_statistics(phase, amp, region)
    assert stats.mean_deg == pytest.approx(350.0, abs=1.0)
    assert stats.sd_deg == pytest.approx(10.0, rel=0.05)
    assert stats.bandwidth_deg == pytest.approx(2 * 1.96 * 10, rel=0.08)
    narrow = phase_statistics(np.full((10, 10), 40.0), amp[:10, :10], region[:10, :10])
    assert narrow.sd_deg == 0.0
    assert narrow.entropy == 0.0
    tiny = np.zeros_like(region)
    tiny[0, :3] = True
    with pytest.raises(ValueError, match="too few"):
        phase_statistics(phase, amp, tiny)
    with pytest.raises(ValueError, match="empty region"):
        phase_statistics(phase, amp, np.zeros_like(region))


def test_polygon_mask_of_a_square() -> None:
    mask = polygon_mask([[1.5, 1.5], [1.5, 5.5], [5.5, 5.5], [5.5, 1.5]], (8, 8))
    assert mask.sum() == 16
    assert mask[2:6, 2:6].all()
    assert mask_outline(mask).sum() == 12
    with pytest.raises(ValueError, match="≥ 3"):
        polygon_mask([[0, 0], [1, 1]], (4, 4))
