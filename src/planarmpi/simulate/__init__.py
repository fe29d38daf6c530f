"""Digital heart phantom and gamma-camera simulator with known ground truth."""

from planarmpi.simulate.camera import Collimator, add_noise, project
from planarmpi.simulate.phantom import Anatomy, Defect, build_volumes, lv_volume_curve
from planarmpi.simulate.study import SimulationSpec, simulate_study

__all__ = [
    "Anatomy",
    "Collimator",
    "Defect",
    "SimulationSpec",
    "add_noise",
    "build_volumes",
    "lv_volume_curve",
    "project",
    "simulate_study",
]
