"""Example clinical-context files (``planarmpi/clinical@1``), used by the demo and the docs.

``clinical-exercise.yaml`` (Bruce exercise, office), ``clinical-pharmacologic.yaml``
(regadenoson, hospital outpatient) and ``clinical-muga.yaml`` (cardio-oncology follow-up
with a prior LVEF).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path"]


def example_path(name: str) -> Path:
    """Path of an example file shipped with the package."""
    path = Path(str(resources.files("planarmpi.examples") / name))
    if not path.is_file():
        raise FileNotFoundError(f"no example called {name!r}")
    return path
