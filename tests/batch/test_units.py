"""A unit's study that fails still names its UID; a split study is refused across runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from planarmpi.batch import BatchOptions, analyze_unit
from planarmpi.batch.runner import _check_duplicates, _remember_studies
from planarmpi.batch.units import unit_key
from planarmpi.qc.limits import QCLimits


def _fake_study(uid: str) -> SimpleNamespace:
    return SimpleNamespace(header=SimpleNamespace(study_instance_uid=uid))


def test_a_failing_study_keeps_its_uid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import planarmpi.analysis.pipeline as pipeline
    import planarmpi.io.reader as reader
    import planarmpi.report.outputs as outputs

    monkeypatch.setattr(reader, "iter_studies",
                        lambda inputs: iter([_fake_study("1.2.3"), _fake_study("1.2.4")]))
    monkeypatch.setattr(pipeline, "analyze_study", lambda study, options: study)

    def write(study, result, out, **kwargs):
        if study.header.study_instance_uid == "1.2.3":
            raise SyntaxError("not a PNG file")  # what a figure read mid-write raised
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "write_study_outputs", write)
    rows = analyze_unit("/archive/unit-a", str(tmp_path), BatchOptions())
    assert [(r["status"], r["study_instance_uid"]) for r in rows] == [
        ("error", "1.2.3"), ("error", "1.2.4")]
    assert rows[0]["error"] == ("/archive/unit-a: study 1.2.3: unexpected SyntaxError: "
                                "not a PNG file")
    assert rows[1]["error"] == "/archive/unit-a: study 1.2.4: disk full"


def test_split_study_refused_when_one_half_failed(tmp_path: Path):
    seen: dict[str, str] = {}
    first = [{"unit": "/a", "status": "ok", "study_instance_uid": "9.9"}]
    (tmp_path / f"{unit_key('/a')}.json").write_text(json.dumps({"unit": "/a",
                                                                 "rows": first}))
    assert _check_duplicates(first, seen, tmp_path)[0]["status"] == "ok"
    second = [{"unit": "/b", "status": "error", "study_instance_uid": "9.9",
               "error": "/b: study 9.9: unexpected SyntaxError: not a PNG file"}]
    assert "split between units /a and /b" in _check_duplicates(second, seen, tmp_path)[0][
        "error"]
    entry = json.loads((tmp_path / f"{unit_key('/a')}.json").read_text())
    assert entry["rows"][0]["status"] == "error"
    assert "split between units /a and /b" in entry["rows"][0]["error"]


def test_resumed_run_remembers_the_studies_of_skipped_units(tmp_path: Path):
    path = tmp_path / "entry.json"
    path.write_text(json.dumps({"unit": "/a", "rows": [
        {"unit": "/a", "status": "ok", "study_instance_uid": "9.9"},
        {"unit": "/a", "status": "error", "error": "no NM study found"}]}))
    seen: dict[str, str] = {}
    _remember_studies(path, seen)
    assert seen == {"9.9": "/a"}
    rows = _check_duplicates([{"unit": "/b", "status": "ok", "study_instance_uid": "9.9"}],
                             seen, tmp_path)
    assert rows[0]["status"] == "error"
    (tmp_path / "broken.json").write_text("{")
    _remember_studies(tmp_path / "broken.json", seen)  # unreadable: nothing remembered
    assert seen == {"9.9": "/a"}


def test_a_units_studies_are_analysed_with_the_site_settings(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path):
    import planarmpi.analysis.pipeline as pipeline
    import planarmpi.io.reader as reader
    import planarmpi.report.outputs as outputs

    settings = tmp_path / "site.yaml"
    settings.write_text("abnormal_summed_score: 5\nscoring:\n  sd_multiplier: 3\n")
    used = []
    used_qc = []
    monkeypatch.setattr(reader, "iter_studies", lambda inputs: iter([_fake_study("1.2.3")]))

    def analyze(study, options):
        used.append(options.perfusion)
        used_qc.append(options.qc)
        raise OSError("stop here")

    monkeypatch.setattr(pipeline, "analyze_study", analyze)
    monkeypatch.setattr(outputs, "write_study_outputs", lambda *a, **k: None)
    qc = tmp_path / "qc.yaml"
    qc.write_text("min_view_counts_tl201: 400000\n")
    analyze_unit("/archive/unit-a", str(tmp_path), BatchOptions(perfusion_settings=str(settings),
                                                                qc_settings=str(qc)))
    analyze_unit("/archive/unit-b", str(tmp_path), BatchOptions())
    assert used[0].abnormal_summed_score == 5
    assert used[0].scoring.sd_multiplier == 3.0
    assert used[1].abnormal_summed_score == 3  # the built-in settings without a file
    assert used_qc[0].min_view_counts_tl201 == 400000.0
    assert used_qc[1] == QCLimits()


def test_the_summary_row_lists_the_unattributed_segments(tmp_path: Path):
    """A study's row names the segments its territories leave out; a ledger row written
    before the column existed gives an empty cell, and nothing stored is lost."""
    from planarmpi.batch.runner import COLUMNS, write_summary
    from planarmpi.batch.units import summary_row

    perf = {"verdict": "abnormal", "territories": ["RCA"],
            "unattributed_segments": [{"segment": "ANT-1"}, {"segment": "LAO-1"}]}
    row = summary_row({"study_instance_uid": "1.2", "perfusion": perf})
    assert row["territories"] == "RCA"
    assert row["unattributed_segments"] == "ANT-1,LAO-1"
    assert summary_row({"perfusion": {"territories": ["LAD"]}})["unattributed_segments"] is None
    ledger = tmp_path / ".batch" / "units"
    ledger.mkdir(parents=True)
    old = {c: None for c in COLUMNS if c != "unattributed_segments"}
    (ledger / "a.json").write_text(json.dumps({"rows": [
        {**old, "unit": "a", "status": "ok", "study_instance_uid": "1.1"},
        {**dict.fromkeys(COLUMNS), "unit": "b", "status": "ok", "study_instance_uid": "1.2",
         "unattributed_segments": "ANT-1,LAO-1"}]}))
    csv_path, _ = write_summary(tmp_path)
    lines = csv_path.read_text().splitlines()
    assert "unattributed_segments" in lines[0].split(",")
    assert len(lines) == 3
    assert '"ANT-1,LAO-1"' in lines[2]


@pytest.fixture(scope="module")
def two_day_unit(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One patient's folder holding a two-day protocol's stress and rest studies."""
    import shutil

    from factories import two_day_protocol

    made = two_day_protocol(tmp_path_factory.mktemp("two-day"))
    unit = made["root"] / "patient"
    shutil.copytree(made["root"] / "stress", unit / "stress")
    shutil.copytree(made["root"] / "rest", unit / "rest")
    return {**made, "unit": str(unit)}


def test_a_patients_unit_is_combined_on_request(two_day_unit: dict, tmp_path: Path):
    stress_uid, rest_uid = two_day_unit["stress_uid"], two_day_unit["rest_uid"]
    apart = analyze_unit(two_day_unit["unit"], str(tmp_path / "apart"),
                         BatchOptions(report=False))
    assert sorted(r["study_instance_uid"] for r in apart) == sorted([stress_uid, rest_uid])
    assert all(r["combined_studies"] is None for r in apart)
    (row,) = analyze_unit(two_day_unit["unit"], str(tmp_path / "combined"),
                          BatchOptions(report=False, combine_studies=True))
    assert (row["status"], row["study_instance_uid"], row["combined_studies"]) == (
        "ok", stress_uid, rest_uid)
    assert (row["perfusion_verdict"], row["territories"]) == ("abnormal", "LAD")
    doc = json.loads((Path(row["output"]) / "result.json").read_text())
    assert doc["perfusion"]["reversibility"]["overall"] == "ischemia"
    # The summary table carries the column (it was documented but dropped before).
    from planarmpi.batch.runner import write_summary

    ledger = tmp_path / "combined" / ".batch" / "units"
    ledger.mkdir(parents=True)
    (ledger / "a.json").write_text(json.dumps({"rows": [row]}))
    csv_path, parquet_path = write_summary(tmp_path / "combined")
    with open(csv_path, newline="") as fh:
        (summary,) = list(csv.DictReader(fh))
    assert summary["combined_studies"] == rest_uid
    import pyarrow.parquet as pq

    assert pq.read_table(parquet_path).column("combined_studies").to_pylist() == [rest_uid]


def test_a_unit_that_cannot_be_combined_is_analysed_apart_and_partial(two_day_unit: dict,
                                                                      tmp_path: Path):
    rows = analyze_unit(two_day_unit["unit"], str(tmp_path),
                        BatchOptions(report=False, combine_studies=True, combine_max_days=1))
    assert len(rows) == 2
    assert {r["status"] for r in rows} == {"partial"}
    assert "not combined, 2 days apart (more than 1)" in rows[0]["error"]


def test_units_pair_a_patients_stress_and_rest_studies():
    from planarmpi.batch.units import pair_units

    def row(unit, patient, date, sides):
        return {"unit": unit, "patient_id": patient, "study_instance_uid": f"uid-{unit}",
                "study_date": date, "sides": sides}

    index = [row("B", "P1", "2026-01-08", ["rest"]),
             row("A", "P1", "2026-01-10", ["stress"]),
             row("C", "P1", "2025-06-01", ["rest"]),  # months apart: another episode
             row("D", "P2", "2026-01-10", ["stress"]),  # nothing at rest
             row("E", "P3", "2026-01-10", ["rest", "stress"]),  # complete in itself
             row("F", "", "2026-01-10", ["stress"]),  # no Patient ID: never paired
             row("G", "", "2026-01-10", ["rest"]),
             row("H", "P4", None, ["stress"]), row("I", "P4", "2026-01-10", ["rest"])]
    assert pair_units(index) == [("B", "A"), ("C",), ("D",), ("E",), ("F",), ("G",),
                                 ("H",), ("I",)]
    assert pair_units(index, max_days=1) == [(u,) for u in "BACDEFGHI"]
    # A unit holding two patients' studies joins both partners.
    both = [row("X", "P5", "2026-01-10", ["stress"]), row("X", "P6", "2026-01-10", ["stress"]),
            row("Y", "P5", "2026-01-11", ["rest"]), row("Z", "P6", "2026-01-11", ["rest"])]
    assert pair_units(both) == [("X", "Y", "Z")]


@pytest.fixture(scope="module")
def per_study_export(two_day_unit: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The two-day protocol exported one folder per study, beside another patient's."""
    import shutil

    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    root = tmp_path_factory.mktemp("per-study")
    shutil.copytree(two_day_unit["root"] / "stress", root / "a-stress")
    shutil.copytree(two_day_unit["root"] / "rest", root / "b-rest")
    simulate_study(preset("muga-normal"), root / "c-other", seed=23)
    return {**two_day_unit, "archive": root}


def test_a_group_of_units_is_read_as_one_episode(per_study_export: dict, tmp_path: Path):
    from planarmpi.batch.units import unit_studies

    root = per_study_export["archive"]
    stress, rest = str(root / "a-stress"), str(root / "b-rest")
    (indexed,) = unit_studies(stress)
    assert (indexed["study_instance_uid"], indexed["sides"]) == (
        per_study_export["stress_uid"], ["stress"])
    assert unit_studies(str(tmp_path)) == []  # nothing there
    (row,) = analyze_unit((rest, stress), str(tmp_path),
                          BatchOptions(report=False, combine_studies=True))
    assert row["status"] == "ok"
    assert row["unit"] == stress  # the stress study's unit
    assert (row["study_instance_uid"], row["combined_studies"]) == (
        per_study_export["stress_uid"], per_study_export["rest_uid"])


def _episode_row(out: Path, root: Path, rest_uid: str) -> dict:
    """The summary's episode row of the per-study export under ``root``: one row each for
    the stress unit (with the rest study combined) and the other patient, the episode read
    as the simulated LAD ischaemia."""
    with open(out / "batch-summary.csv", newline="") as fh:
        rows = {r["unit"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {str(root / "a-stress"), str(root / "c-other")}
    episode = rows[str(root / "a-stress")]
    assert episode["combined_studies"] == rest_uid
    result = json.loads((Path(episode["output"]) / "result.json").read_text())
    assert result["perfusion"]["reversibility"]["overall"] == "ischemia"
    return episode


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_batch_pairs_a_two_day_protocol_across_units(per_study_export: dict, tmp_path: Path):
    from planarmpi.batch import run_batch

    root = per_study_export["archive"]
    out = tmp_path / "out"
    options = BatchOptions(report=False, combine_studies=True)
    first = run_batch([str(root)], out, options=options, workers=2)
    assert (first.units_done, first.studies_ok, first.units_failed) == (3, 2, 0)
    episode = _episode_row(out, root, per_study_export["rest_uid"])
    assert (episode["perfusion_verdict"], episode["territories"]) == ("abnormal", "LAD")
    # The rest unit's ledger entry points to the group; a re-run skips all three.
    entry = json.loads((out / ".batch" / "units" / f"{unit_key(str(root / 'b-rest'))}.json")
                       .read_text())
    assert (entry["rows"], entry["analysed_with"]) == (
        [], [str(root / "a-stress"), str(root / "b-rest")])
    again = run_batch([str(root)], out, options=options, workers=2)
    assert (again.units_done, again.units_skipped) == (0, 3)
    # Without the option each study is its own row (the stress study read alone).
    apart = run_batch([str(root)], tmp_path / "apart", options=BatchOptions(report=False),
                      workers=2)
    assert apart.studies_ok == 3


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_rest_study_added_later_is_paired_on_the_next_run(per_study_export: dict,
                                                             tmp_path: Path):
    """The stress study arrives first and is analysed alone; once its rest study is in the
    archive, a re-run (no --force) analyses the two as one episode; a third run skips all."""
    import shutil

    from planarmpi.batch import run_batch

    source = per_study_export["archive"]
    root = tmp_path / "archive"
    root.mkdir()
    shutil.copytree(source / "a-stress", root / "a-stress")
    shutil.copytree(source / "c-other", root / "c-other")
    out = tmp_path / "out"
    options = BatchOptions(report=False, combine_studies=True)
    first = run_batch([str(root)], out, options=options, workers=2)
    assert (first.units_done, first.studies_ok) == (2, 2)
    entry_path = out / ".batch" / "units" / f"{unit_key(str(root / 'a-stress'))}.json"
    alone = json.loads(entry_path.read_text())
    assert "analysed_with" not in alone
    assert alone["studies"][0]["sides"] == ["stress"]  # kept for pairing later
    assert alone["rows"][0]["combined_studies"] is None

    shutil.copytree(source / "b-rest", root / "b-rest")
    second = run_batch([str(root)], out, options=options, workers=2)
    assert (second.units_done, second.units_skipped, second.studies_ok) == (2, 1, 1)
    _episode_row(out, root, per_study_export["rest_uid"])
    assert json.loads(entry_path.read_text())["analysed_with"] == [
        str(root / "a-stress"), str(root / "b-rest")]

    third = run_batch([str(root)], out, options=options, workers=2)
    assert (third.units_done, third.units_skipped) == (0, 3)


def test_a_unit_is_done_only_as_the_group_it_was_analysed_in(tmp_path: Path):
    from planarmpi.batch.runner import _done_as, _ledger_studies

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"unit": "/x/a", "rows": [], "studies": [{"unit": "/x/a"}]}))
    assert _done_as(("/x/a",), [a])
    assert not _done_as(("/x/a", "/x/b"), [a, b])  # b not analysed yet
    b.write_text(json.dumps({"unit": "/x/b", "rows": []}))
    assert not _done_as(("/x/a", "/x/b"), [a, b])  # each analysed alone
    for path, unit in ((a, "/x/a"), (b, "/x/b")):
        path.write_text(json.dumps({"unit": unit, "rows": [],
                                    "analysed_with": ["/x/a", "/x/b"]}))
    assert _done_as(("/x/b", "/x/a"), [b, a])
    assert not _done_as(("/x/a",), [a])
    assert _ledger_studies(tmp_path / "a.json") is None  # rewritten without studies
    (tmp_path / "c.json").write_text(json.dumps({"unit": "/x/c", "rows": [],
                                                 "studies": [{"unit": "/x/c"}]}))
    assert _ledger_studies(tmp_path / "c.json") == [{"unit": "/x/c"}]
    (tmp_path / "d.json").write_text("{broken")
    assert _ledger_studies(tmp_path / "d.json") is None
    assert not _done_as(("/x/d",), [tmp_path / "d.json"])


def test_the_headers_give_each_simulated_files_tracer_and_state(two_day_unit: dict):
    """Pairing reads headers only: every simulated file's tracer and state as read in full."""
    from planarmpi.io.dataset import tracer_and_state
    from planarmpi.io.reader import read_dataset, read_file

    files = sorted(Path(two_day_unit["one"]).glob("*.dcm"))
    assert len(files) == 6
    for path in files:
        series, _ = read_file(path)
        assert {(s.acquisition.tracer, s.acquisition.state) for s in series} == {
            tracer_and_state(read_dataset(str(path), pixels=False), str(path))}
