"""DICOM node load: concurrent associations into `DicomNode`, stored-once check, rate.

    .venv/bin/python bench/node_load.py [--associations 8] [--instances 500]

Sends ``--instances`` copies of a simulated blood-pool file (each ~200 KB, its own SOP
Instance UID) over ``--associations`` simultaneous dcmtk ``storescu`` associations to an
in-process node (SQLite archive, analysis off), then checks that every instance was stored
exactly once, and prints instances/s and MB/s.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from _population import CACHE
from planarmpi.net import DicomNode
from planarmpi.net.load import make_load_set, send_concurrently
from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset
from planarmpi.store import Archive


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--associations", type=int, default=8)
    parser.add_argument("--instances", type=int, default=500)
    args = parser.parse_args(argv)
    base = CACHE / "node-load-muga"
    if not (base / "truth.json").exists():
        simulate_study(preset("muga-normal"), base, seed=41)
    (source,) = base.glob("*.dcm")
    work = Path(tempfile.mkdtemp(prefix="planarmpi-node-load-"))
    try:
        groups = make_load_set(source, work / "send", args.associations, args.instances)
        size = sum(p.stat().st_size for g in groups for p in g)
        archive = Archive(work / "data")
        node = DicomNode(archive, port=_port(), analyse=False)
        node.start()
        try:
            seconds, codes = send_concurrently(groups, node.port)
        finally:
            node.stop()
        counts = archive.counts()
        objects = len(list(archive.objects.glob("*/*.dcm")))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = counts["instances"] == args.instances == objects and codes == [0] * len(codes)
    print(f"node load — {args.associations} concurrent associations, {args.instances} "
          f"instances ({size / 1e6:.0f} MB), SQLite archive, analysis off")
    print(f"{'stored':>8}{'objects':>9}{'seconds':>9}{'inst/s':>9}{'MB/s':>8}  exactly once")
    print(f"{counts['instances']:>8}{objects:>9}{seconds:>9.1f}"
          f"{args.instances / seconds:>9.1f}{size / 1e6 / seconds:>8.1f}  {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
