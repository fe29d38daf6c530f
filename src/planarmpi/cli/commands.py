"""The work behind each CLI command: read, call the library, print."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planarmpi.analysis.pipeline import analyze_study
from planarmpi.analysis.result import StudyResult
from planarmpi.io.paths import is_valid_uid
from planarmpi.io.reader import Problem, iter_studies
from planarmpi.io.rois import read_roi_file, rois_for_study
from planarmpi.model import Study
from planarmpi.model.study import COMBINE_MAX_DAYS, episodes, perfusion_sides, read_apart
from planarmpi.report.outputs import write_study_outputs

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


def _err(line: str) -> None:
    print(f"planarmpi: {line}", file=sys.stderr)


@dataclass
class _Tally:
    """Inputs that made a run partial."""

    problems: int = 0


def _studies(paths: list[str], tally: _Tally) -> Iterator[Study]:
    """The usable studies under ``paths``; every problem is printed as one line."""
    for item in iter_studies(paths):
        if isinstance(item, Problem):
            _err(str(item) if item.fatal else f"note: skipped {item}")
            tally.problems += int(item.fatal)
        else:
            yield item


def _fmt_counts(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k"
    return f"{value:.0f}"


def _print_study(console: Console, study: Study, result: StudyResult) -> None:
    h, p = study.header, study.patient
    age = f"{p.age_years:.0f} y" if p.age_years is not None else "age ?"
    console.print(
        f"[bold]Study[/bold] {study.study_instance_uid}  {h.study_date or ''}  "
        f"{h.description}  —  patient {p.patient_id or '?'}, {p.sex.value}, {age}"
    )
    table = Table(show_lines=False, header_style="bold")
    for col in ("series", "kind", "view", "state", "tracer", "det/ew", "matrix", "frames",
                "timing", "total counts", "heart max/px"):
        table.add_column(col, overflow="fold")
    for summary in result.series:
        a = summary.series.acquisition
        d = summary.to_dict()
        view = a.view.value + (f" {a.view_angle_deg:g}°" if a.view_angle_deg is not None else "")
        table.add_row(
            f"{a.series_number if a.series_number is not None else '?'} "
            f"{a.series_description}".strip(),
            "FRAMED" if summary.framed_static else a.kind.value,
            view,
            a.state.value,
            a.tracer.value,
            f"{a.detector}/{a.energy_window.index}",
            f"{d['rows']}×{d['columns']}"
            + (f" @{a.pixel_spacing_mm[1]:.2f} mm" if a.pixel_spacing_mm else ""),
            str(d["frames"]),
            summary.timing_text(),
            _fmt_counts(summary.total_counts),
            _fmt_counts(summary.heart_max_counts_per_pixel) if summary.heart.region else "none",
        )
    console.print(table)
    if any(s.framed_static for s in result.series):
        console.print("  FRAMED: a static view acquired in time frames (DYNAMIC); analysed as a "
                      "perfusion view, patient motion measured")
    for declined in study.declined:
        console.print(f"  declined: {Path(declined.source_file).name}: {declined.reason}")
    console.print(f"  QC: [bold]{result.qc_status}[/bold]")
    for f in result.findings:
        console.print(f"   {f.level.value:>4}  {f.code}: {f.message}", highlight=False)
    console.print()


def inspect_command(paths: list[str], *, as_json: bool) -> int:
    """``planarmpi inspect``: describe every study found."""
    console = Console(highlight=False, soft_wrap=False, width=160)
    documents = []
    tally = _Tally()
    studies = 0
    for item in _studies(paths, tally):
        studies += 1
        result = analyze_study(item)
        if as_json:
            doc = result.to_dict()
            documents.append({
                "study_instance_uid": doc["study_instance_uid"],
                "study_date": item.header.study_date.isoformat() if item.header.study_date
                else None,
                "study_description": item.header.description,
                "patient": doc["patient"],
                "series": doc["series"],
                "declined": doc["declined"],
                "qc": doc["qc"],
            })
        else:
            _print_study(console, item, result)
    if as_json:
        print(json.dumps(documents, indent=2, ensure_ascii=False))
    if studies == 0:
        _err("no usable NM study found")
        return EXIT_USAGE
    return EXIT_PARTIAL if tally.problems else EXIT_OK


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def analyze_command(inputs: list[str], out: Path, clinical: Path | None,
                    rois: Path | None = None, normals: list[Path] | None = None,
                    *, report: bool = True, clock: dt.datetime | None = None,
                    perfusion_settings: Path | None = None, combine_studies: bool = False,
                    qc_settings: Path | None = None,
                    combine_max_days: int = COMBINE_MAX_DAYS) -> int:
    """``planarmpi analyze``: analyse every study, write ``OUT/<uid>/result.json``.

    With ``report`` (the default) the report, its DICOM objects and the coding are written
    next to it (:func:`planarmpi.report.outputs.render_report_outputs`). With
    ``combine_studies`` each patient's studies are analysed as one episode
    (:func:`planarmpi.model.study.combine_studies`, a two-day protocol), written under the
    stress study's UID.
    """
    from dataclasses import replace

    from planarmpi.analysis.pipeline import site_options
    from planarmpi.io.clinical import read_clinical

    context = read_clinical(clinical) if clinical is not None else None
    roi_spec = read_roi_file(rois) if rois is not None else {}
    site = site_options(normals or (), perfusion_settings, qc_settings)
    out.mkdir(parents=True, exist_ok=True)
    tally = _Tally()
    written = 0
    found = (_episodes(_studies(inputs, tally), tally, combine_max_days)
             if combine_studies else _noting_separate(_studies(inputs, tally)))
    for item in found:
        options = replace(site, manual_rois=rois_for_study(roi_spec, item, str(rois or "")))
        result = analyze_study(item, options=options)
        if not is_valid_uid(item.study_instance_uid):
            tally.problems += 1
            _err(f"study {item.study_instance_uid!r}: invalid Study Instance UID; written "
                 "under a sanitised folder name")
        path, drafted = write_study_outputs(item, result, out, clinical=context,
                                            clock=clock or _now(), report=report,
                                            manual_rois=options.manual_rois)
        bottom = f"  report: {drafted.bottom_line}" if drafted is not None else ""
        written += 1
        print(f"{path}  qc={result.qc_status}{result_summary(result)}{bottom}")
    if written == 0:
        _err("no study could be analysed")
        return EXIT_USAGE
    return EXIT_PARTIAL if tally.problems else EXIT_OK


def _episodes(studies: Iterable[Study], tally: _Tally, max_days: int) -> Iterator[Study]:
    """Each patient's studies combined into one (two-day protocol); a study alone, or one
    that cannot be combined (the reason printed once), is analysed as it is."""
    said: set[str] = set()
    for study, problem in episodes(studies, max_days=max_days):
        if problem and problem not in said:
            said.add(problem)
            _err(problem)
            tally.problems += 1
        yield study


def _noting_separate(studies: Iterable[Study]) -> Iterator[Study]:
    """The studies as they come; at the end, a note for each patient whose stress and rest
    perfusion images came as separate studies (``--combine-studies`` compares them)."""
    seen: list[tuple[str, str, frozenset[str]]] = []
    for study in studies:
        seen.append((study.patient.patient_id, study.study_instance_uid,
                     perfusion_sides((s.acquisition.tracer, s.acquisition.state)
                                     for s in study.series)))
        yield study
    for patient_id, (stress_only, rest_only) in read_apart(seen).items():
        print(f"planarmpi: note: patient {patient_id}: stress images (study "
              f"{', '.join(stress_only)}) and rest images (study {', '.join(rest_only)}) "
              "came as separate studies and were analysed separately; "
              "--combine-studies analyses them as one two-day protocol", file=sys.stderr)


def result_summary(result: StudyResult) -> str:
    """The EFs (with their 95% intervals) and the perfusion verdict of one analysed study,
    as ``planarmpi analyze`` prints them after its folder and QC status.

    A perfusion verdict that is not normal names its territories; a normal verdict names
    none, whatever reduced segments the fit explained (result.json keeps them and the
    report words them as not read as a defect)."""
    out = "".join(
        f"  {ef.chamber.value}EF {ef.value_percent:.1f}% ({ef.method}, 95% CI "
        f"{ef.ci95_percent[0]:.1f}–{ef.ci95_percent[1]:.1f})" if ef.ci95_percent else
        f"  {ef.chamber.value}EF {ef.value_percent:.1f}% ({ef.method})"
        for ef in result.ejection_fractions)
    if result.perfusion is not None:
        out += f"  perfusion {result.perfusion.get('verdict')}"
        if result.perfusion.get("verdict") != "normal" and result.perfusion.get("territories"):
            out += f" ({', '.join(result.perfusion['territories'])})"
    return out


def report_command(folders: list[Path], clinical: Path | None, *,
                   impression: Path | None = None, sign: str = "",
                   clock: dt.datetime | None = None, dicom: bool = True) -> int:
    """``planarmpi report``: re-render reports of analysed studies (after edits)."""
    from planarmpi.errors import InvalidInputError
    from planarmpi.io.clinical import read_clinical
    from planarmpi.report.outputs import render_report_outputs

    context = read_clinical(clinical) if clinical is not None else None
    lines: tuple[str, ...] | None = None
    if impression is not None:
        try:
            text = impression.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"{impression}: cannot be read ({exc.strerror})") from None
        lines = tuple(ln.strip() for ln in text.splitlines() if ln.strip())
        if not lines:
            raise InvalidInputError(f"{impression}: the impression is empty")
    targets: list[Path] = []
    for folder in folders:
        if (folder / "result.json").is_file():
            targets.append(folder)
        elif folder.is_dir():
            targets += sorted(p.parent for p in folder.glob("*/result.json"))
        else:
            raise InvalidInputError(f"{folder}: not a folder")
    if not targets:
        _err("no result.json found under " + ", ".join(map(str, folders)))
        return EXIT_USAGE
    for folder in targets:
        report = render_report_outputs(folder, clinical=context, clock=clock or _now(),
                                       impression=lines, signed_by=sign, dicom=dicom)
        print(f"{folder / 'report.pdf'}  {report.status}  {report.bottom_line}")
    return EXIT_OK


def demo_command(out: Path) -> int:
    """``planarmpi demo``: simulate the built-in demo studies, then analyse them.

    Two studies: a normal stress myocardial perfusion study (anterior, LAO 45°, left lateral,
    gated LAO) and a normal gated blood-pool study (whose LVEF is measured), each analysed
    with an example clinical file, so that the report, its DICOM objects and the coding are
    written too.
    """
    from planarmpi.examples import example_path
    from planarmpi.simulate import simulate_study
    from planarmpi.simulate.presets import preset

    study_dir = out / "study"
    codes = []
    for name, clinical in (("normal-male", "clinical-exercise.yaml"),
                           ("muga-normal", "clinical-muga.yaml")):
        truth = simulate_study(preset(name), study_dir / name, seed=1)
        print(f"demo study {name} written to {study_dir / name} "
              f"(true LVEF {truth['lv']['voxelised_lvef_percent']:.1f}%); clinical context "
              f"{clinical}")
        codes.append(analyze_command([str(study_dir / name)], out / "results",
                                     example_path(clinical), None))
    return max(codes)
