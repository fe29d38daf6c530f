"""``planarmpi serve``: the archive and its DICOM node, until stopped.

Settings come from the command line, else the environment (``PLANARMPI_DATA``,
``PLANARMPI_DB``, ``PLANARMPI_HOST``, ``PLANARMPI_DICOM_PORT``, ``PLANARMPI_AE_TITLE``,
``PLANARMPI_IDLE_SECONDS``, ``PLANARMPI_DESTINATION``, ``PLANARMPI_WEB_PORT``), else a YAML
file (``--config``, same keys in lower case without the prefix), else the defaults:
``./planarmpi-data``, SQLite in it, 127.0.0.1, port 11112, AE title PLANARMPI, 10 s idle,
web app on port 8080. ``normals`` (a normals file — perfusion limits or wall-motion
normals — or a folder of them) ``perfusion_settings`` (a settings file,
docs/perfusion.md "Settings") and ``qc_settings`` (docs/qc.md "Settings") set the site's
analysis; all are read at start, so a bad
file stops the server before it accepts anything.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planarmpi.analysis.pipeline import AnalysisOptions

__all__ = ["SETTINGS", "add_arguments", "add_user_arguments", "analysis_options",
           "resolve_settings", "serve_command", "user_command"]

#: setting → (default, type)
SETTINGS: dict[str, tuple[Any, type]] = {
    "data": ("planarmpi-data", str),
    "db": (None, str),
    "host": ("127.0.0.1", str),
    "dicom_port": (11112, int),
    "ae_title": ("PLANARMPI", str),
    "idle_seconds": (10.0, float),
    "destination": (None, str),
    "web_port": (8080, int),
    "stow_url": (None, str),
    "normals": (None, str),
    "perfusion_settings": (None, str),
    "qc_settings": (None, str),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``planarmpi serve``."""
    p.add_argument("--config", type=Path, metavar="FILE", help="YAML settings file")
    p.add_argument("--data", metavar="DIR", help="data directory (objects, results, SQLite)")
    p.add_argument("--db", metavar="URL",
                   help="database URL (default: SQLite in the data directory), e.g. "
                        "postgresql+psycopg://user@host:5432/planarmpi")
    p.add_argument("--host", metavar="ADDRESS", help="listen address (default 127.0.0.1)")
    p.add_argument("--dicom-port", type=int, metavar="PORT", help="DICOM port (default 11112)")
    p.add_argument("--ae-title", metavar="AE", help="the node's AE title (default PLANARMPI)")
    p.add_argument("--idle-seconds", type=float, metavar="S",
                   help="a study is complete after this long without new objects (10)")
    p.add_argument("--destination", metavar="AE@HOST:PORT",
                   help="send each report (PDF, SR, figures) there by C-STORE")
    p.add_argument("--stow-url", metavar="URL",
                   help="also send each report to this DICOMweb service by STOW-RS")
    p.add_argument("--web-port", type=int, metavar="PORT",
                   help="web workstation port (default 8080; 0: no web app)")
    p.add_argument("--normals", metavar="PATH",
                   help="site normals: a file or a folder of them (perfusion limits and "
                        "wall-motion normals, as for 'planarmpi analyze')")
    p.add_argument("--perfusion-settings", metavar="FILE",
                   help="a site's perfusion thresholds (YAML/JSON)")
    p.add_argument("--qc-settings", metavar="FILE", help="a site's QC limits (YAML/JSON)")


def resolve_settings(args: argparse.Namespace,
                     environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Command line, then environment, then the config file, then defaults.

    Raises
    ------
    InvalidInputError
        For an unknown key in the config file or a value of the wrong type.
    """
    from planarmpi.errors import InvalidInputError
    from planarmpi.io.documents import load_mapping

    env = os.environ if environ is None else environ
    filed: dict[str, Any] = load_mapping(args.config, "serve settings") if args.config else {}
    unknown = set(filed) - set(SETTINGS)
    if unknown:
        raise InvalidInputError(f"{args.config}: unknown setting {sorted(unknown)[0]!r} "
                                f"(known: {', '.join(SETTINGS)})")
    out: dict[str, Any] = {}
    for key, (default, kind) in SETTINGS.items():
        value = getattr(args, key, None)
        where = f"--{key.replace('_', '-')}"
        if value is None and f"PLANARMPI_{key.upper()}" in env:
            value, where = env[f"PLANARMPI_{key.upper()}"], f"PLANARMPI_{key.upper()}"
        if value is None and key in filed:
            value, where = filed[key], f"{args.config}: {key}"
        if value is None:
            out[key] = default
            continue
        try:
            out[key] = kind(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{where}: {value!r} is not a valid "
                                    f"{kind.__name__}") from None
    return out


def analysis_options(settings: dict[str, Any]) -> AnalysisOptions:
    """The site's analysis settings from the resolved serve settings (``normals``: a
    limits file or a folder of ``*.json`` limits files; ``perfusion_settings``;
    ``qc_settings``).

    Raises
    ------
    InvalidInputError
        Naming the file: missing, unreadable or invalid.
    """
    from planarmpi.analysis.pipeline import site_options
    from planarmpi.errors import InvalidInputError

    files: list[Path] = []
    if settings.get("normals"):
        path = Path(settings["normals"])
        if not path.exists():
            raise InvalidInputError(f"{path}: no such normal-limits file or folder")
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not files:
            raise InvalidInputError(f"{path}: no normals files (*.json) in the folder")
    return site_options(files, settings.get("perfusion_settings"),
                        settings.get("qc_settings"))


def serve_command(args: argparse.Namespace) -> int:
    """Open the archive, start the DICOM node, wait for SIGINT/SIGTERM."""
    import logging

    from planarmpi.net import Destination, DicomNode
    from planarmpi.store import Archive

    settings = resolve_settings(args)
    analysis = analysis_options(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    destination = (Destination.parse(settings["destination"]) if settings["destination"]
                   else None)
    archive = Archive(settings["data"], settings["db"])
    node = DicomNode(archive, ae_title=settings["ae_title"], host=settings["host"],
                     port=settings["dicom_port"], idle_seconds=settings["idle_seconds"],
                     destination=destination, stow_url=settings["stow_url"],
                     analysis=analysis)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    node.start()
    web = None
    if settings["web_port"]:
        import uvicorn

        from planarmpi.web.app import create_app

        web = uvicorn.Server(uvicorn.Config(create_app(archive, analysis=analysis),
                                            host=settings["host"],
                                            port=settings["web_port"], log_level="warning",
                                            access_log=False))
        threading.Thread(target=web.run, name="planarmpi-web", daemon=True).start()
    archive.audit("system", "serve-start", settings["ae_title"],
                  f"{settings['host']}:{settings['dicom_port']}")
    print(f"planarmpi: DICOM node {settings['ae_title']} on {settings['host']}:"
          f"{settings['dicom_port']}"
          + (f", web on http://{settings['host']}:{settings['web_port']}/" if web else "")
          + f", data in {Path(settings['data']).resolve()}", flush=True)
    stop.wait()
    if web is not None:
        web.should_exit = True
    node.stop()
    archive.audit("system", "serve-stop", settings["ae_title"])
    print("planarmpi: stopped", flush=True)
    return 0


def add_user_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``planarmpi user add``."""
    p.add_argument("action", choices=["add"], help="add a user")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["technologist", "physician", "admin"])
    p.add_argument("--data", metavar="DIR", help="data directory (as for serve)")
    p.add_argument("--db", metavar="URL", help="database URL (as for serve)")
    p.add_argument("--config", type=Path, metavar="FILE", help="serve settings file")


def user_command(args: argparse.Namespace) -> int:
    """Add a user; the password comes from ``PLANARMPI_PASSWORD`` or is asked for."""
    import getpass

    from planarmpi.store import Archive
    from planarmpi.web.security import add_user

    settings = resolve_settings(args)
    password = os.environ.get("PLANARMPI_PASSWORD") or getpass.getpass("password: ")
    add_user(Archive(settings["data"], settings["db"]), args.username, password, args.role)
    print(f"planarmpi: user {args.username} ({args.role}) added")
    return 0
