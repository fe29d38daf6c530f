"""Property: whatever order frames are stored in, the reader rebuilds the same series."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from factories import HEADER, PATIENT, interleaving, make_images
from planarmpi import read_file, write_nm
from planarmpi.model import DynamicPhase, SeriesKind


@st.composite
def layouts(draw: st.DrawFn) -> tuple[SeriesKind, int, int, int, list[int]]:
    kind = draw(st.sampled_from([SeriesKind.STATIC, SeriesKind.GATED, SeriesKind.DYNAMIC]))
    detectors = draw(st.integers(1, 3))
    windows = draw(st.integers(1, 2))
    frames = 1 if kind is SeriesKind.STATIC else draw(st.integers(2, 8))
    n = detectors * windows * frames
    if kind is SeriesKind.DYNAMIC:
        seed = draw(st.integers(0, 2**32 - 1))
        order = interleaving([frames] * (detectors * windows), np.random.default_rng(seed))
    else:
        order = draw(st.permutations(list(range(n))))
    return kind, detectors, windows, frames, order


@settings(max_examples=60, deadline=None)
@given(layouts())
def test_any_frame_order_reads_back_identically(
    layout: tuple[SeriesKind, int, int, int, list[int]],
) -> None:
    kind, detectors, windows, frames, order = layout
    phases = [DynamicPhase(50.0, frames)] if kind is SeriesKind.DYNAMIC else None
    images = make_images(kind, detectors=detectors, windows=windows, frames=frames,
                         rows=4, cols=5, phases=phases)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.dcm"
        write_nm(path, images, patient=PATIENT, header=HEADER, frame_order=order)
        series, _ = read_file(path)
    got = {(s.acquisition.energy_window.index, s.acquisition.detector): s for s in series}
    assert len(got) == len(images)
    for image in images:
        key = (image.acquisition.energy_window.index, image.acquisition.detector)
        np.testing.assert_array_equal(np.asarray(got[key].pixels), np.asarray(image.pixels))
