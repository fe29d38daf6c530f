"""Constants of the web tests."""

from __future__ import annotations

import datetime as dt

CLOCK = dt.datetime(2026, 6, 1, 9, 30)
PASSWORDS = {"doc": "physician-pass-1", "tech": "technologist-pass-1", "boss": "admin-pass-12"}
