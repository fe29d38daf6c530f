"""Shared fixtures: sample files, temporary output, hermetic plotting."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from dicom_tools import start_postgres
from testenv import SAMPLES

#: Test files that share an expensive session fixture, kept on one xdist worker so that the
#: fixture is built once (``scripts/test.sh`` runs ``--dist loadfile``, scheduled by
#: :func:`pytest_xdist_make_scheduler`); every other file is its own group.
_SHARED_FIXTURE_GROUPS = {
    "tests/report/test_pictures.py": "report-pictures",
    "tests/report/test_outputs.py": "report-pictures",
    "tests/analysis/test_bloodpool.py": "muga-cases",
    "tests/analysis/test_motion_normals.py": "muga-cases",
    "tests/analysis/test_rois_file.py": "muga-cases",
    "tests/analysis/test_wall_motion.py": "muga-cases",
    "tests/analysis/perfusion/test_motion.py": "perfusion-cases",
    "tests/analysis/perfusion/test_perfusion_study.py": "perfusion-cases",
    "tests/analysis/perfusion/test_tid.py": "perfusion-cases",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """With ``--dist loadfile``: whole files to a worker, as xdist does, except that the
    files of one ``_SHARED_FIXTURE_GROUPS`` group go to the same worker. (xdist's own
    ``loadgroup`` marks do not reach its scheduler under pytest 9.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class _SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return _SHARED_FIXTURE_GROUPS.get(path, path)

    return _SharedFixtureScheduling(config, log)


@pytest.fixture(autouse=True)
def _hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path_factory.mktemp("mpl")))


@pytest.fixture(scope="session")
def samples() -> Path:
    """The folder of real vendor NM files (outside the repository: ``../shared/samples``,
    or ``$PLANARMPI_SAMPLES``)."""
    if not SAMPLES.is_dir():
        # The samples live beside the repository, not in it (their licences differ); a
        # checkout without them skips these tests loudly rather than failing CI.
        pytest.skip(f"sample folder {SAMPLES} not present (set PLANARMPI_SAMPLES)")
    return SAMPLES


_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory):
    url, stop = start_postgres(tmp_path_factory.mktemp("postgres"))
    yield url
    stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite in the data directory) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("postgres_server")
    name = f"t{next(_counter)}"
    admin = create_engine(server.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"
