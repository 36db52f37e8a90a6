"""Files shipped with the bot: the reply templates and the example config.

In a wheel they sit inside the package; in a source checkout, at the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} is not installed with rma_mailbot")


def templates_dir() -> Path:
    return _find("templates")


def example_config() -> Path:
    return _find("config.example.toml")
