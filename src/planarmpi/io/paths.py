"""Turning DICOM identifiers into file-system names, safely."""

from __future__ import annotations

import hashlib
import re

__all__ = ["is_valid_uid", "safe_dirname"]

_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def is_valid_uid(uid: str) -> bool:
    """True for a syntactically valid DICOM UID (PS3.5 9.1: digits and dots, ≤ 64 chars)."""
    return len(uid) <= 64 and _UID.fullmatch(uid) is not None


def safe_dirname(uid: str) -> str:
    """A folder name for a UID: the UID itself when valid, else a stable hashed stand-in.

    A hostile or broken identifier (``../../etc``, ``a/b``, 300 characters) never becomes a
    path: it is replaced by ``invalid-uid-`` and 16 hex digits of its SHA-256.
    """
    if is_valid_uid(uid):
        return uid
    return "invalid-uid-" + hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()[:16]
