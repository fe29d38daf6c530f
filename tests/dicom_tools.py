"""Running dciodvfy (Debian dicom3tools) from tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testenv import IN_CI


def dciodvfy() -> str:
    """Path of dciodvfy; a failure in CI, a skip elsewhere, when it is missing."""
    tool = shutil.which("dciodvfy")
    if tool is None:
        if IN_CI:
            pytest.fail("dciodvfy is missing in CI: scripts/setup.sh --dev installs dicom3tools")
        pytest.skip("dciodvfy not installed (scripts/setup.sh --dev installs it)")
    return tool


def errors_of(path: Path) -> list[str]:
    """The ``Error`` lines dciodvfy prints for ``path``.

    dciodvfy's 2022 build warns that multi-gated attributes of a planar GATED image are
    "not present in standard IOD" (it expects that module only for TOMO): warnings are
    allowed, errors are not (see ../shared/ENVIRONMENT.md).
    """
    run = subprocess.run([dciodvfy(), str(path)], capture_output=True, text=True,
                         timeout=60, check=False)
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (bind to port 0, read it back)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool(name: str) -> str:
    """Path of a Debian tool (dcmtk, Orthanc...): a failure in CI, a skip elsewhere.

    The environment's own ``bin`` is left out of the search: pynetdicom installs apps of
    the same names there (``storescu``, ``echoscu``) with other options and exit codes,
    and an activated environment puts them first on PATH.
    """
    own = (Path(sys.prefix) / "bin").resolve()
    search = os.pathsep.join(d for d in os.environ.get("PATH", os.defpath).split(os.pathsep)
                             if d and Path(d).resolve() != own)
    path = shutil.which(name, path=search)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is missing in CI: scripts/setup.sh --dev installs it")
        pytest.skip(f"{name} not installed (scripts/setup.sh --dev installs it)")
    return path


def start_postgres(folder):  # type: ignore[no-untyped-def]
    """Start a throw-away PostgreSQL server on a free port in ``folder``.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
    (ENVIRONMENT.md). Returns ``(url, stop)``.
    """
    import glob
    import os
    import subprocess

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        if IN_CI:
            pytest.fail("PostgreSQL is missing in CI")
        pytest.skip("PostgreSQL server binaries not installed")
    bin_dir = bins[-1]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o777)
    for parent in folder.parents:  # postgres must be able to traverse to its data
        if parent == Path("/"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o011)
    data, port = folder / "pg", free_port()
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, f"{bin_dir}/initdb", "-D", str(data), "-A", "trust", "-U",
                    "planarmpi"], check=True, capture_output=True)
    subprocess.run([*prefix, f"{bin_dir}/pg_ctl", "-D", str(data), "-l", str(folder / "pg.log"),
                    "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}", "-w",
                    "start"], check=True, capture_output=True)
    subprocess.run([*prefix, f"{bin_dir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U",
                    "planarmpi", "archive"], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*prefix, f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "immediate",
                        "stop"], check=False, capture_output=True)

    return f"postgresql+psycopg://planarmpi@127.0.0.1:{port}/archive", stop


def wait_for(predicate, seconds: float = 90.0, what: str = "condition",  # type: ignore[no-untyped-def]
             interval: float = 0.3) -> None:
    """Poll ``predicate`` every ``interval`` s until it is true; fail naming ``what`` after
    ``seconds``."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def in_ns(ns: int | None, *cmd: str) -> list[str]:
    """``cmd`` run inside the network namespace held by process ``ns`` (as is when None)."""
    return ["nsenter", "-t", str(ns), "-n", *cmd] if ns else list(cmd)


class Orthanc:
    """An Orthanc PACS (with the DICOMweb plugin) in a loopback-only network namespace."""

    def __init__(self, ns: int, folder: Path) -> None:

        self.ns = ns
        folder.mkdir(parents=True, exist_ok=True)
        # A port found free outside the namespace can be taken inside it (another worker's
        # server): an Orthanc that exits is started again on other ports.
        for _ in range(3):
            if self._start(folder):
                return
        log = (folder / "orthanc.log").read_text(errors="replace")[-2000:]
        raise AssertionError(f"Orthanc did not start (three tries); its log ends:\n{log}")

    def _start(self, folder: Path) -> bool:
        import json
        import subprocess

        self.http_port, self.dicom_port = free_port(), free_port()
        plugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
        config = {"Name": "planarmpi-test", "StorageDirectory": str(folder / "storage"),
                  "IndexDirectory": str(folder / "index"), "HttpPort": self.http_port,
                  "DicomPort": self.dicom_port, "DicomAet": "ORTHANC",
                  "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
                  "DicomAlwaysAllowStore": True, "DicomAlwaysAllowFind": True,
                  "DicomCheckCalledAet": False,
                  "Plugins": [plugin] if Path(plugin).is_file() else [],
                  "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
        (folder / "orthanc.json").write_text(json.dumps(config))
        with open(folder / "orthanc.log", "ab") as log:
            self.process = subprocess.Popen(in_ns(self.ns, tool("Orthanc"),
                                                  str(folder / "orthanc.json")),
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.process.poll() is not None or self.get("/system") is not None,
                 90, "Orthanc to start")
        return self.process.poll() is None

    @property
    def dicomweb(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def get(self, path: str):  # type: ignore[no-untyped-def]
        """GET a REST path inside the namespace; the parsed JSON, or None on failure."""
        import json
        import subprocess

        run = subprocess.run(in_ns(self.ns, "curl", "-s", "-f",
                                   f"http://127.0.0.1:{self.http_port}{path}"),
                             capture_output=True, text=True, check=False)
        return json.loads(run.stdout) if run.returncode == 0 and run.stdout else None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
