"""Shared test set-up: no network, a model cache inside the clone, results kept out of the book."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Trained models are shared with the book build (.ci/run builds the book first with the same
# cache), so tests that ask for a chapter's default models reuse them instead of retraining.
os.environ.setdefault("ADVLIB_CACHE", str(ROOT / ".cache" / "advlib"))
# Chapters executed by tests must not overwrite the book's stored claims tables.
os.environ["ADVLIB_RESULTS"] = "off"
os.environ.setdefault("CI", "1")  # no tqdm bars in test output


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT
