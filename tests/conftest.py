"""Shared fixtures: sample files, temporary output, hermetic plotting."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from dicom_tools import start_postgres
from testenv import SAMPLES


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
