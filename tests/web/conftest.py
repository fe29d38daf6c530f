"""An archive holding one analysed blood-pool study, with a physician and a technologist."""

from __future__ import annotations

from pathlib import Path

import pytest

from planarmpi.simulate import simulate_study
from planarmpi.simulate.presets import preset
from planarmpi.store import Archive
from planarmpi.store.processing import process_study
from planarmpi.web.security import add_user
from webfixtures import CLOCK, PASSWORDS


@pytest.fixture(scope="session")
def muga_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("muga-web")
    simulate_study(preset("muga-normal"), folder, seed=7)
    return sorted(folder.glob("*.dcm"))


@pytest.fixture
def archive(tmp_path: Path, muga_files: list[Path], db_url) -> Archive:
    archive = Archive(tmp_path / "data", db_url)
    for f in muga_files:
        archive.store(f.read_bytes(), "test")
    uid = archive.store(muga_files[0].read_bytes()).study_instance_uid
    assert process_study(archive, uid, clock=CLOCK).status == "analysed"
    add_user(archive, "doc", PASSWORDS["doc"], "physician")
    add_user(archive, "tech", PASSWORDS["tech"], "technologist")
    add_user(archive, "boss", PASSWORDS["boss"], "admin")
    return archive
