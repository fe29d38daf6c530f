"""Batch scaling: studies per minute on 1 and 2 Dask workers, memory, overhead per study.

    .venv/bin/python bench/batch_scaling.py [--n 60] [--no-report]

The archive is ``--n`` studies cloned (new identities, same pixels) from three simulated
studies — a normal stress perfusion study with a gated LAO view, a normal and a reduced-EF
gated blood pool — so the mix is one third perfusion, two thirds blood pool.
Prints one table: wall time, studies/min, speed-up, peak RSS per worker, the overhead per
study of batch (1 worker) against ``analyze_unit`` called in one process, and an estimate
for a 100,000-study archive on 32 workers from the measured per-worker rate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _population import CACHE
from planarmpi.batch import BatchOptions, run_batch
from planarmpi.batch.units import analyze_unit
from planarmpi.simulate import simulate_study
from planarmpi.simulate.archive import clone_study
from planarmpi.simulate.presets import preset

BASES = (("normal-male", 31), ("muga-normal", 32), ("muga-cardiotoxicity", 33))


def _bases() -> list[Path]:
    folder = CACHE / "batch-bases"
    out = []
    for name, seed in BASES:
        target = folder / f"{name}-{seed}"
        if not (target / "truth.json").exists():
            simulate_study(preset(name), target, seed=seed)
        out.append(target)
    return out


def _peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss survives exec on Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="studies in the archive (≥ 60)")
    parser.add_argument("--no-report", action="store_true", help="result.json only")
    args = parser.parse_args(argv)
    bases = _bases()
    work = Path(tempfile.mkdtemp(prefix="planarmpi-batch-bench-"))
    try:
        archive = work / "archive"
        for i in range(args.n):
            clone_study(bases[i % len(bases)], archive / f"study-{i:05d}", i)
        options = BatchOptions(report=not args.no_report,
                               clock=dt.datetime(2026, 1, 1, 12, 0))
        units = sorted(str(p) for p in archive.iterdir())

        start = time.perf_counter()
        for unit in units:
            rows = analyze_unit(unit, str(work / "inproc"), options)
            assert rows[0]["status"] == "ok", rows
        inproc_s = time.perf_counter() - start

        table = []
        for workers in (1, 2):
            out = work / f"out-{workers}"
            start = time.perf_counter()
            summary = run_batch([str(archive)], out, options=options, workers=workers,
                                memory_per_worker="2GiB")
            wall = time.perf_counter() - start
            assert summary.studies_ok == args.n, summary.errors[:3]
            table.append((workers, wall, summary))
        peak = _worker_peaks(archive, work, options)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.n
    rate1 = n / table[0][1] * 60.0
    rate2 = n / table[1][1] * 60.0
    print(f"batch scaling — {n} studies (1/3 perfusion, 2/3 blood pool), "
          f"report {'off' if args.no_report else 'on'}; includes cluster start-up")
    print(f"{'run':<28}{'wall s':>9}{'studies/min':>13}{'speed-up':>10}")
    print(f"{'analyze_unit, one process':<28}{inproc_s:>9.1f}{n / inproc_s * 60:>13.1f}"
          f"{'':>10}")
    for workers, wall, _ in table:
        print(f"{f'batch, {workers} worker(s)':<28}{wall:>9.1f}{n / wall * 60:>13.1f}"
              f"{(n / wall * 60) / rate1:>10.2f}")
    print(f"overhead per study, batch 1 worker vs one process: "
          f"{(table[0][1] - inproc_s) / n * 1000:.0f} ms (cluster start-up included)")
    print(f"peak RSS per worker (2 workers, whole archive): "
          f"{', '.join(f'{p:.0f} MiB' for p in peak)}; this driver process (which also ran "
          f"the one-process pass) {_peak_rss_mib():.0f} MiB")
    per_worker = rate2 / 2.0
    efficiency = (rate2 / rate1) / 2.0
    hours = 100_000 / (per_worker * 32 * 60.0)
    print(f"estimate, 100,000 studies on 32 workers at the measured {per_worker:.1f} "
          f"studies/min per worker: {hours:.1f} h (2-worker scaling efficiency "
          f"{efficiency:.0%}; the data must be readable by every worker, and I/O of a shared "
          f"file system is not in this figure)")
    return 0


def _worker_peaks(archive: Path, work: Path, options: BatchOptions) -> list[float]:
    """Peak RSS (MiB) of each of 2 workers after analysing the whole archive once."""
    from dask.distributed import Client, LocalCluster

    out = work / "out-peak"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="2GiB") as cluster, \
            Client(cluster) as client:
        units = sorted(str(p) for p in archive.iterdir())
        futures = client.map(analyze_unit, units, out=str(out), options=options, pure=False)
        client.gather(futures)
        peaks = client.run(_peak_rss_mib)
    return sorted(peaks.values())


if __name__ == "__main__":
    sys.exit(main())
