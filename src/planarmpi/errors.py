"""Exceptions raised by planarmpi.

Every exception planarmpi raises on purpose derives from :class:`PlanarMPIError`; each
subclass also inherits the builtin it refines, so ``except ValueError`` keeps working for
callers who do not know about planarmpi.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DeclinedInputError",
    "InvalidDicomError",
    "InvalidInputError",
    "NotDicomError",
    "PlanarMPIError",
    "WriterError",
]


class PlanarMPIError(Exception):
    """Root of every error planarmpi raises on purpose."""


class InvalidInputError(PlanarMPIError, ValueError):
    """A parameter, file or attribute does not hold what is required."""


class InvalidDicomError(InvalidInputError):
    """A file cannot be used as DICOM NM: unreadable, truncated or inconsistent.

    Parameters
    ----------
    path : str or Path or None
        The offending file; named first in the message.
    problem : str
        What is wrong, naming the attribute, its value and what was expected.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class NotDicomError(InvalidDicomError):
    """The file is not DICOM at all (no DICM prefix and no recognisable data elements)."""


class DeclinedInputError(InvalidDicomError):
    """A valid DICOM object that planar analysis does not handle (SPECT, CT, ...)."""


class WriterError(PlanarMPIError, ValueError):
    """Data handed to a DICOM writer would produce an invalid object."""
