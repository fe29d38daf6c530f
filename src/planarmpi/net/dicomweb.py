"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) through the dicomweb-client library.

Used by the node to send reports by STOW-RS and by ``planarmpi batch`` to read studies
straight from a PACS (``dicomweb:http://host/dicom-web?ModalitiesInStudy=NM``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pydicom

from planarmpi.errors import InvalidInputError

__all__ = ["PREFIX", "parse_source", "retrieve_study", "search_studies", "stow_files"]

#: Inputs of ``planarmpi batch`` that name a DICOMweb service start with this.
PREFIX = "dicomweb:"


def _client(url: str) -> Any:
    from dicomweb_client.api import DICOMwebClient

    return DICOMwebClient(url, timeout=60)


def parse_source(text: str) -> tuple[str, dict[str, str]]:
    """``dicomweb:URL?Key=Value&...`` → (service URL, QIDO search filters).

    Raises
    ------
    InvalidInputError
        When the URL is not http(s).
    """
    url = text[len(PREFIX):] if text.startswith(PREFIX) else text
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(f"{text}: expected dicomweb:http(s)://host[:port]/path"
                                "[?QIDO filters]")
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    return base, dict(parse_qsl(parts.query))


def search_studies(url: str, filters: dict[str, str] | None = None,
                   page: int = 200) -> Iterator[str]:
    """Study Instance UIDs matching ``filters`` (QIDO-RS), page by page."""
    client = _client(url)
    offset = 0
    while True:
        found = client.search_for_studies(search_filters=filters or {}, limit=page,
                                          offset=offset, fields=["StudyInstanceUID"])
        for item in found:
            yield item["0020000D"]["Value"][0]
        if len(found) < page:
            return
        offset += page


def retrieve_study(url: str, study_instance_uid: str,
                   folder: str | os.PathLike[str]) -> list[Path]:
    """Every instance of a study (WADO-RS) written to ``folder``; returns the files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, ds in enumerate(_client(url).iter_study(study_instance_uid)):
        path = folder / f"{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def stow_files(files: list[Path], url: str) -> int:
    """Store ``files`` at a DICOMweb service (STOW-RS); returns how many were sent.

    Raises
    ------
    ConnectionError
        When the service refuses or cannot be reached.
    """
    datasets = [pydicom.dcmread(f) for f in files]
    try:
        _client(url).store_instances(datasets)
    except Exception as exc:
        raise ConnectionError(f"STOW-RS to {url} failed: {exc}") from None
    return len(datasets)
