"""``python -m planarmpi.env_info``: versions and tools, for bug reports."""

from __future__ import annotations

import platform
import shutil
import sys
from importlib.metadata import PackageNotFoundError, version

_PACKAGES = ("planarmpi", "numpy", "scipy", "pydicom", "pylibjpeg", "pylibjpeg-libjpeg",
             "pylibjpeg-rle", "matplotlib", "rich", "PyYAML")
_TOOLS = ("dciodvfy", "dcmdump", "storescu")


def collect() -> dict[str, str]:
    """Python, platform, package and tool versions."""
    info = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = "not installed"
    for tool in _TOOLS:
        info[tool] = shutil.which(tool) or "not found"
    return info


def main(argv: list[str] | None = None) -> int:
    """Print the environment; ``--short`` prints one line."""
    args = sys.argv[1:] if argv is None else argv
    info = collect()
    if "--short" in args:
        print(f"planarmpi {info['planarmpi']}, Python {info['python']}")
    else:
        for key, value in info.items():
            print(f"{key:20s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
