"""Seeded fuzzing: mutated and truncated NM files never raise past the reader, never hang."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from factories import HEADER, PATIENT, make_images
from planarmpi import analyze_study, read_studies, write_nm
from planarmpi.model import DynamicPhase, SeriesKind

VARIANTS_PER_KIND = 200  # × 3 kinds = 600 variants


def _mutants(data: bytes, rng: np.random.Generator, count: int) -> list[bytes]:
    out = []
    header_end = min(len(data), 2048)  # most damage where the structure is
    for i in range(count):
        buf = bytearray(data)
        mode = i % 5
        if mode == 0:  # truncation anywhere
            buf = buf[: int(rng.integers(0, len(buf)))]
        elif mode == 1:  # random byte flips in the header
            for pos in rng.integers(132, header_end, size=int(rng.integers(1, 12))):
                buf[pos] = int(rng.integers(0, 256))
        elif mode == 2:  # overwrite a 4-byte length field with a huge or odd value
            pos = int(rng.integers(132, header_end - 4))
            buf[pos : pos + 4] = int(rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 3, 0])).to_bytes(
                4, "little")
        elif mode == 3:  # delete a chunk
            a = int(rng.integers(132, header_end))
            del buf[a : a + int(rng.integers(1, 64))]
        else:  # insert garbage
            a = int(rng.integers(0, header_end))
            junk = rng.integers(0, 256, size=int(rng.integers(1, 32))).astype(np.uint8)
            buf[a:a] = junk.tobytes()
        out.append(bytes(buf))
    return out


@pytest.mark.timeout(240)
@pytest.mark.parametrize("kind", [SeriesKind.STATIC, SeriesKind.GATED, SeriesKind.DYNAMIC])
def test_mutants_give_problems_not_exceptions(tmp_path: Path, kind: SeriesKind) -> None:
    good = tmp_path / "good.dcm"
    phases = [DynamicPhase(50.0, 4), DynamicPhase(100.0, 2)] if kind is SeriesKind.DYNAMIC \
        else None
    write_nm(good, make_images(kind, detectors=2, frames=4, rows=8, cols=8, phases=phases),
             patient=PATIENT, header=HEADER)
    rng = np.random.default_rng({"STATIC": 1, "GATED": 2, "DYNAMIC": 3}[kind.value])
    outcomes = {"study": 0, "problem": 0}
    for i, blob in enumerate(_mutants(good.read_bytes(), rng, VARIANTS_PER_KIND)):
        path = tmp_path / f"m{i:04d}.dcm"
        path.write_bytes(blob)
        outcome = read_studies([path])  # must not raise
        for study in outcome.studies:
            analyze_study(study).to_dict()  # must not raise either
        outcomes["study"] += len(outcome.studies)
        outcomes["problem"] += len(outcome.problems)
        for problem in outcome.problems:
            assert str(path) in str(problem)
        path.unlink()
    # The mutations must actually hurt: most variants are refused, some survive.
    assert outcomes["problem"] > VARIANTS_PER_KIND // 4
