"""Reading speed: a 64×64×1000-frame dynamic file and a 128×128 three-view static study.

Run: ``.venv/bin/python bench/read_bench.py`` — prints a table (median of repeats).
Target (issue #2): ≤ 0.3 s to read the dynamic file.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

from planarmpi import read_file, read_studies, write_nm
from planarmpi.model import (
    Acquisition,
    DynamicPhase,
    DynamicSeries,
    SeriesKind,
    StaticImage,
    View,
)

HERE = Path(__file__).resolve().parent


def _setup(folder: Path) -> tuple[Path, Path]:
    import sys

    sys.path.insert(0, str(HERE.parent / "tests"))
    from factories import HEADER, PATIENT, acquisition

    rng = np.random.default_rng(0)
    dyn_acq = acquisition(SeriesKind.DYNAMIC, series_uid=generate_uid(), sop_uid=generate_uid())
    dyn = DynamicSeries.from_phases(dyn_acq, rng.poisson(20, (1000, 64, 64)),
                                    [DynamicPhase(25.0, 1000)])
    dyn_path = folder / "dynamic.dcm"
    write_nm(dyn_path, [dyn], patient=PATIENT, header=HEADER)
    static_dir = folder / "static"
    static_dir.mkdir()
    for i, view in enumerate((View.ANTERIOR, View.LAO, View.LEFT_LATERAL)):
        base = acquisition(SeriesKind.STATIC, series_uid=generate_uid(), sop_uid=generate_uid())
        acq = Acquisition(**{**{f: getattr(base, f) for f in base.__dataclass_fields__},
                             "view": view, "view_angle_deg": 45.0 if view is View.LAO else None,
                             "pixel_spacing_mm": (3.2, 3.2), "series_number": i + 1})
        img = StaticImage(acq, rng.poisson(60, (128, 128)), 300000.0)
        write_nm(static_dir / f"{view.value}.dcm", [img], patient=PATIENT, header=HEADER)
    return dyn_path, static_dir


def _time(fn: object, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dyn_path, static_dir = _setup(Path(tmp))
        rows = [
            ("dynamic 64×64×1000 (read_file)", _time(lambda: read_file(dyn_path)), 0.3),
            ("static study 3×128×128 (read_studies)", _time(lambda: read_studies(static_dir)),
             None),
        ]
    print(f"{'benchmark':42s} {'median s':>9s} {'target s':>9s}")
    for name, seconds, target in rows:
        print(f"{name:42s} {seconds:9.3f} {(f'≤ {target:.1f}') if target else '—':>9s}")


if __name__ == "__main__":
    main()
