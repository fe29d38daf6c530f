"""The first pass of a bolus through the central circulation.

An indicator-dilution model: a gamma-variate bolus enters the superior vena cava and passes,
as through well-mixed compartments, the right atrium, right ventricle, three lung
compartments (dispersion of the pulmonary transit), left atrium, left ventricle and aorta,
then the systemic circulation, which returns it to the SVC after a delay (recirculation).
An optional left-to-right shunt returns part of the left-ventricular output to the right
ventricle, so that pulmonary flow Qp exceeds systemic flow Qs (Qp:Qs = Qp / Qs).

Counts in a ventricle are its concentration times its volume at that instant of the cardiac
cycle, which is what makes first-pass ejection fractions measurable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["COMPARTMENTS", "FirstPassSpec", "bolus_input", "compartment_curves"]

Array = NDArray[np.float64]

#: Compartments of the model, in order of passage.
COMPARTMENTS = ("svc", "ra", "rv", "lung1", "lung2", "lung3", "la", "lv", "aorta", "systemic")


@dataclass(frozen=True, slots=True)
class FirstPassSpec:
    """First-pass acquisition and circulation.

    Attributes
    ----------
    view : str
        ``ANT`` or ``RAO30``.
    frame_ms : float
        Frame duration (25–50 ms for EF).
    duration_s : float
        Acquisition length.
    bolus_fwhm_s : float
        Full width at half maximum of the injected bolus (compact: ≤ 1 s).
    fragmented : bool
        A second, later bolus fragment (a poor injection).
    qp_qs : float
        Pulmonary-to-systemic flow ratio (1 = no shunt).
    peak_count_rate_kcps : float
        Highest count rate in the field of view (the camera's dead time is not modelled).
    """

    view: str = "ANT"
    frame_ms: float = 40.0
    duration_s: float = 25.0
    bolus_fwhm_s: float = 0.8
    fragmented: bool = False
    qp_qs: float = 1.0
    peak_count_rate_kcps: float = 150.0
    injection_delay_s: float = 2.0

    def __post_init__(self) -> None:
        if self.view not in ("ANT", "RAO30"):
            raise ValueError(f"first-pass view must be ANT or RAO30, got {self.view}")
        if not 10 <= self.frame_ms <= 200:
            raise ValueError(f"first-pass frames must be 10–200 ms, got {self.frame_ms}")
        if not 5 <= self.duration_s <= 60:
            raise ValueError(f"first-pass duration must be 5–60 s, got {self.duration_s}")
        if not 1.0 <= self.qp_qs <= 4.0:
            raise ValueError(f"Qp:Qs must be within 1–4, got {self.qp_qs}")
        if not 0.2 <= self.bolus_fwhm_s <= 10:
            raise ValueError(f"bolus FWHM must be within 0.2–10 s, got {self.bolus_fwhm_s}")


def bolus_input(t_s: Array, spec: FirstPassSpec) -> Array:
    """Injected activity rate (arbitrary units per s): a gamma variate of the given FWHM.

    The gamma variate (t−t0)^α e^{−(t−t0)/β} with α = 3 has FWHM = 4.1312 β (the two
    roots of 3 ln(x/3) + 3 − x = ln ½).
    """
    beta = spec.bolus_fwhm_s / 4.1312
    t = np.clip(t_s - spec.injection_delay_s, 0.0, None)
    rate = t**3 * np.exp(-t / beta)
    if spec.fragmented:
        t2 = np.clip(t_s - spec.injection_delay_s - 2.5 * spec.bolus_fwhm_s, 0.0, None)
        rate = rate + 0.7 * t2**3 * np.exp(-t2 / beta)
    total = np.trapezoid(rate, t_s)
    return rate / total if total > 0 else rate


def compartment_curves(
    t_s: Array,
    spec: FirstPassSpec,
    *,
    lv_stroke_ml: float,
    heart_rate_bpm: float,
    mean_volumes_ml: dict[str, float] | None = None,
    recirculation_delay_s: float = 6.0,
) -> dict[str, Array]:
    """Activity in every compartment over time (explicit Euler, dt = t_s[1] − t_s[0]).

    Parameters
    ----------
    t_s : ndarray
        Uniform time grid in s.
    lv_stroke_ml, heart_rate_bpm : float
        LV output Qp = stroke × rate (with a shunt the LV pumps Qp, of which Qs reaches the
        aorta).
    mean_volumes_ml : dict, optional
        Mean blood volume of each compartment.

    Returns
    -------
    dict of str to ndarray
        Activity (fraction of the injected dose) in each compartment of
        :data:`COMPARTMENTS`.
    """
    volumes = {"svc": 30.0, "ra": 60.0, "rv": 110.0, "lung1": 150.0, "lung2": 150.0,
               "lung3": 150.0, "la": 60.0, "lv": 90.0, "aorta": 100.0, "systemic": 4500.0}
    volumes.update(mean_volumes_ml or {})
    dt = float(t_s[1] - t_s[0])
    qp = lv_stroke_ml * heart_rate_bpm / 60.0  # ml/s
    qs = qp / spec.qp_qs
    shunt = qp - qs
    injected = bolus_input(t_s, spec)
    delay_steps = round(recirculation_delay_s / dt)
    a = {name: np.zeros_like(t_s) for name in COMPARTMENTS}
    current = dict.fromkeys(COMPARTMENTS, 0.0)
    systemic_out = np.zeros_like(t_s)
    for i in range(t_s.size):
        c = {name: current[name] / volumes[name] for name in COMPARTMENTS}
        venous = systemic_out[i - delay_steps] if i >= delay_steps else 0.0
        flux = {
            "svc": injected[i] + venous - qs * c["svc"],
            "ra": qs * c["svc"] - qs * c["ra"],
            "rv": qs * c["ra"] + shunt * c["lv"] - qp * c["rv"],
            "lung1": qp * (c["rv"] - c["lung1"]),
            "lung2": qp * (c["lung1"] - c["lung2"]),
            "lung3": qp * (c["lung2"] - c["lung3"]),
            "la": qp * (c["lung3"] - c["la"]),
            "lv": qp * (c["la"] - c["lv"]),
            "aorta": qs * (c["lv"] - c["aorta"]),
            "systemic": qs * c["aorta"] - qs * c["systemic"],
        }
        systemic_out[i] = qs * c["systemic"]
        for name in COMPARTMENTS:
            current[name] = max(current[name] + flux[name] * dt, 0.0)
            a[name][i] = current[name]
    return a
