"""Where advlib keeps downloaded data, trained models and chapter results."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Root of advlib's caches: ``$ADVLIB_CACHE`` if set, else the user cache directory."""
    env = os.environ.get("ADVLIB_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "advlib"


def book_root(start: Path | str | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working directory) with a ``_toc.yml``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    return None
