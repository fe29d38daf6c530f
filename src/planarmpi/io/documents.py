"""Reading the small YAML/JSON documents users hand to planarmpi (clinical file, ROIs,
settings files)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from planarmpi.errors import InvalidInputError

__all__ = ["load_json", "load_mapping", "setting_value"]


def load_json(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file (``what`` names its kind in the messages, e.g. "normal-limits").

    Raises
    ------
    InvalidInputError
        ``{path}: cannot read {what}: …`` or ``{path}: not a usable {what} file: not
        JSON (…)``.
    """
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{p}: cannot read {what}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"{p}: not a usable {what} file: not JSON ({exc})") from None


def load_mapping(path: str | os.PathLike[str], what: str) -> dict[Any, Any]:
    """Parse a YAML or JSON file (JSON is YAML) that must hold a mapping.

    Raises
    ------
    InvalidInputError
        Naming the file: unreadable, not YAML/JSON, or not a mapping (``what`` says what
        the mapping should hold).
    """
    name = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{name}: cannot be read ({exc.strerror})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInputError(f"{name}: not valid YAML/JSON ({first})") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"{name}: expected a mapping of {what}")
    return data


def setting_value(raw: Any, kind: str, where: str) -> Any:
    """A settings file's value ``raw`` checked against a dataclass field's annotation.

    Parameters
    ----------
    raw : object
        The value as parsed from YAML/JSON.
    kind : str
        The field's annotation as a string (annotations are postponed): ``bool``, ``int``,
        ``float`` or ``tuple[float, ...]`` of a fixed length.
    where : str
        The file and key, for the message.

    Raises
    ------
    InvalidInputError
        ``{where}: expected …, got …`` — a bool is not a number, a number not a bool.
    """
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        raise InvalidInputError(f"{where}: expected true or false, got {raw!r}")
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise InvalidInputError(f"{where}: expected a whole number, got {raw!r}")
    if kind == "float":
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        raise InvalidInputError(f"{where}: expected a number, got {raw!r}")
    if kind.startswith("tuple[float"):
        size = kind.count("float")
        if isinstance(raw, (list, tuple)) and len(raw) == size:
            return tuple(setting_value(x, "float", where) for x in raw)
        raise InvalidInputError(f"{where}: expected a list of {size} numbers, got {raw!r}")
    raise InvalidInputError(f"{where}: not settable from a file")  # pragma: no cover
