"""Quality-control and reader findings: data, not exceptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planarmpi.model.enums import Level

__all__ = ["Finding", "overall_status"]


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a user must know about the data or a result.

    Parameters
    ----------
    code : str
        Stable upper-case identifier (``LOW_LV_COUNTS``); documented in ``docs/qc.md``.
    level : Level
        ``info``, ``warn`` (result usable with caution) or ``fail`` (result unsafe).
    message : str
        One plain sentence naming the series, the value and the limit.
    series_instance_uid : str or None
        The series the finding is about, if any.
    """

    code: str
    level: Level
    message: str
    series_instance_uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))
        if not self.code or not self.code.replace("_", "").isalnum() or not self.code.isupper():
            raise ValueError(f"Finding code must be UPPER_SNAKE_CASE, got {self.code!r}")
        if not self.message:
            raise ValueError(f"Finding {self.code} needs a message")

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready mapping (``code``, ``level``, ``message``, ``series_instance_uid``)."""
        return {
            "code": self.code,
            "level": self.level.value,
            "message": self.message,
            "series_instance_uid": self.series_instance_uid,
        }


def overall_status(findings: Iterable[Finding]) -> str:
    """``fail`` if any finding fails, else ``warn`` if any warns, else ``pass``."""
    levels = {f.level for f in findings}
    if Level.FAIL in levels:
        return "fail"
    if Level.WARN in levels:
        return "warn"
    return "pass"
