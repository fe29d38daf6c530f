"""A simulated study to send."""

from __future__ import annotations

from pathlib import Path

import pytest

from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset


@pytest.fixture(scope="session")
def muga_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("muga")
    simulate_study(preset("muga-normal"), folder, seed=5)
    return folder


@pytest.fixture
def netns():
    """A process holding a network namespace with only loopback up; yields its PID."""
    import subprocess

    from dicom_tools import tool, wait_for

    tool("unshare")
    tool("nsenter")
    holder = subprocess.Popen(["unshare", "-n", "bash", "-c",
                               "ip link set lo up && exec sleep 900"])
    try:
        def lo_up():
            run = subprocess.run(["nsenter", "-t", str(holder.pid), "-n", "ip", "link", "show",
                                  "lo"], capture_output=True, text=True, check=False)
            return "UP" in run.stdout

        wait_for(lo_up, 10, "loopback in the namespace")
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def orthanc(netns, tmp_path):
    """An Orthanc (DICOM + REST + DICOMweb) inside ``netns``."""
    from dicom_tools import Orthanc

    server = Orthanc(netns, tmp_path / "orthanc")
    yield server
    server.stop()
