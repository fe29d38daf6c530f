"""``planarmpi batch`` on a real Dask LocalCluster (2 workers, loopback, no dashboard).

The archive: 32 studies derived from two simulated blood-pool studies (``clone_study``: each
copy with its own patient, study, series and instance UIDs) and five broken units — a
truncated file, a text file, an empty folder and one study in two folders.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from planarmpi.batch import BatchOptions, read_ledger, run_batch
from planarmpi.cli.main import main
from planarmpi.simulate import simulate_study
from planarmpi.simulate.archive import clone_study
from planarmpi.simulate.presets import preset

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CLOCK = dt.datetime(2026, 5, 4, 12, 0)
N_STUDIES = 32


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("base")
    sources = []
    for name, seed in (("muga-normal", 21), ("muga-cardiotoxicity", 22)):
        simulate_study(preset(name), base / name, seed=seed)
        sources.append(base / name)
    root = tmp_path_factory.mktemp("archive")
    for i in range(N_STUDIES):
        clone_study(sources[i % 2], root / f"study-{i:03d}", i)
    (root / "zz-truncated").mkdir()
    one = next(sources[0].glob("*.dcm")).read_bytes()
    (root / "zz-truncated" / "image.dcm").write_bytes(one[: len(one) // 3])
    (root / "zz-text").mkdir()
    (root / "zz-text" / "notes.dcm").write_text("not an image")
    (root / "zz-empty").mkdir()
    # One study split between two folders: its series halves must not be analysed apart.
    clone_study(sources[0], root / "zz-split-a", 999)
    shutil.copytree(root / "zz-split-a", root / "zz-split-b")
    return root


def test_batch_equals_analyze_reports_broken_and_resumes(archive: Path, tmp_path: Path):
    out = tmp_path / "out"
    options = BatchOptions(clock=CLOCK)
    seen = []

    def interrupt_after_ten(done, total, studies):
        seen.append(done)
        if done == 10:
            raise KeyboardInterrupt

    first = run_batch([str(archive)], out, options=options, workers=2,
                      memory_per_worker="1GiB", on_progress=interrupt_after_ten)
    assert first.interrupted
    assert first.workers == 2
    done_first = {json.loads(p.read_text())["unit"]: p.stat().st_mtime_ns
                  for p in (out / ".batch" / "units").glob("*.json")}
    assert len(done_first) == 10

    second = run_batch([str(archive)], out, options=options, workers=2,
                       memory_per_worker="1GiB")
    assert not second.interrupted
    assert second.units_skipped == 10  # the interrupted run's units are not redone
    for p in (out / ".batch" / "units").glob("*.json"):
        unit = json.loads(p.read_text())["unit"]
        if unit in done_first:
            assert p.stat().st_mtime_ns == done_first[unit]
    rows = list(read_ledger(out))
    units = {r["unit"] for r in rows}
    assert len(units) == N_STUDIES + 5

    ok = [r for r in rows if r["status"] == "ok"]
    # On failure, say what every unit became (a worker failure shows as its error).
    outcome = sorted((Path(r["unit"]).name, r["status"], r.get("error")) for r in rows
                     if r["status"] != "ok" or Path(r["unit"]).name.startswith("zz"))
    assert len(ok) == N_STUDIES, outcome
    assert len({r["study_instance_uid"] for r in ok}) == N_STUDIES
    errors = {Path(r["unit"]).name: r["error"] for r in rows if r["status"] != "ok"}
    assert "image.dcm" in errors["zz-truncated"]
    assert "notes.dcm" in errors["zz-text"]
    assert "not a DICOM" in errors["zz-text"]
    assert "no NM study found" in errors["zz-empty"]
    assert "split between units" in errors["zz-split-a"]
    assert "split between units" in errors["zz-split-b"]

    # Every study's outputs are those of `planarmpi analyze` with the same clock.
    for row in ok[:3]:
        ref = tmp_path / "ref"
        assert main(["analyze", row["unit"], "--out", str(ref), "--generated-at",
                     CLOCK.isoformat()]) == 0
        uid = row["study_instance_uid"]
        for name in ("result.json", "report.txt", "study.json"):
            assert (out / uid / name).read_text() == (ref / uid / name).read_text(), name

    # The summary table: one row per study or failed unit, in CSV and Parquet.
    import pyarrow.parquet as pq

    with open(out / "batch-summary.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(rows)
    parquet = pq.read_table(out / "batch-summary.parquet")
    assert parquet.num_rows == len(rows)
    lvefs = [v for v, status in zip(parquet.column("lvef_percent").to_pylist(),
                                    parquet.column("status").to_pylist(), strict=True)
             if status == "ok"]
    assert len(lvefs) == N_STUDIES
    # The two source studies: true LVEF 62% and 45% (muga-normal, muga-cardiotoxicity);
    # every clone of one source gives that source's value, and its reported 95% interval
    # holds that source's true EF (the accuracy itself is the benchmark's business:
    # bench/function_accuracy.py, MAE 2.3, SD 3.0 over 100 studies).
    assert len({round(v, 6) for v in lvefs}) == 2
    for row in ok:
        result = json.loads((out / row["study_instance_uid"] / "result.json").read_text())
        (lv,) = [e for e in result["ejection_fractions"] if e["chamber"] == "LV"]
        true = 62.0 if lv["value_percent"] > 53.5 else 45.0
        assert lv["ci95_percent"][0] <= true <= lv["ci95_percent"][1], lv

    # A re-run with --force redoes everything; without it, nothing.
    third = run_batch([str(archive)], out, options=options, workers=2,
                      memory_per_worker="1GiB")
    assert third.units_done == 0
    assert third.units_skipped == N_STUDIES + 5


def test_cli_batch_list_file_and_exit_code(archive: Path, tmp_path: Path, capsys):
    listing = tmp_path / "units.txt"
    listing.write_text(f"# two studies and a broken one\n{archive / 'study-000'}\n"
                       f"{archive / 'study-001'}\n{archive / 'zz-text'}\n")
    code = main(["batch", f"@{listing}", "--out", str(tmp_path / "o"), "--workers", "2",
                 "--no-progress", "--no-report", "--generated-at", CLOCK.isoformat()])
    assert code == 1  # a unit failed
    captured = capsys.readouterr()
    assert "2 studies ok" in captured.out
    assert "notes.dcm" in captured.err
    assert main(["batch", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "settings.yaml"
    bad.write_text("abnormal_summed_score: high\n")
    assert main(["batch", str(archive / "study-000"), "--out", str(tmp_path / "o2"),
                 "--perfusion-settings", str(bad)]) == 2
    assert "abnormal_summed_score: expected a whole number" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()  # refused before any work started
    bad_normals = tmp_path / "normals.json"
    bad_normals.write_text('{"schema": "planarmpi/wall-motion-normals@1", "segments": {}}')
    assert main(["batch", str(archive / "study-000"), "--out", str(tmp_path / "o3"),
                 "--normals", str(bad_normals)]) == 2
    assert f"{bad_normals}: not a usable wall-motion normals file" in capsys.readouterr().err
    assert not (tmp_path / "o3").exists()
