"""Passwords (scrypt, a memory-hard KDF from the standard library), users, CSRF tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select

from planarmpi.errors import InvalidInputError
from planarmpi.store.archive import Archive
from planarmpi.store.models import User

__all__ = ["ROLES", "add_user", "authenticate", "csrf_token", "hash_password",
           "verify_password"]

ROLES = ("technologist", "physician", "admin")
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MiB and ~50 ms per hash


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of a password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(["scrypt", str(_N), str(_R), str(_P),
                     base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against :func:`hash_password`'s output."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def add_user(archive: Archive, username: str, password: str, role: str) -> None:
    """Create a user.

    Raises
    ------
    InvalidInputError
        Unknown role, a password shorter than 10 characters, or a name already taken.
    """
    if role not in ROLES:
        raise InvalidInputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < 10:
        raise InvalidInputError("a password needs at least 10 characters")
    if not username.strip() or len(username) > 64:
        raise InvalidInputError("a user name needs 1–64 characters")
    with archive.session() as s:
        if s.scalar(select(User).where(User.username == username)) is not None:
            raise InvalidInputError(f"user {username!r} exists already")
        s.add(User(username=username, role=role, password_hash=hash_password(password)))
    archive.audit("admin", "user-added", username, role)


def authenticate(archive: Archive, username: str, password: str) -> tuple[str, str] | None:
    """(username, role) when the password is right for an active user, else None."""
    with archive.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        stored = user.password_hash if user is not None and user.active else None
        role = user.role if user is not None else ""
    if stored is None:
        verify_password(password, hash_password("timing-equaliser"))
        return None
    return (username, role) if verify_password(password, stored) else None


def csrf_token() -> str:
    """A fresh random token for a session."""
    return secrets.token_urlsafe(32)
