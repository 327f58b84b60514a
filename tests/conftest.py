"""Shared test set-up: no network, a model cache inside the clone, results kept out of the book."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
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


@pytest.fixture(scope="session")
def small_fashion(tmp_path_factory) -> Path:
    """A folder of stand-in Fashion-MNIST IDX files (1,000 training and 300 test images, real
    embedded digits so that the models learn something), and ``$ADVLIB_FASHION_MNIST`` pointed
    at it for the whole session: a chapter run with ``dataset="fashion-mnist"`` (its kernel
    inherits the variable) trains on these in seconds instead of on 60,000 images."""
    from test_data import write_idx  # the IDX writer of the data tests

    from advlib.data import load_dataset

    folder = tmp_path_factory.mktemp("fashion")
    for split, stem, n in (("train", "train", 1000), ("test", "t10k", 300)):
        x, y = load_dataset("mnist-embedded", split)
        pixels = np.rint(x[:n] * 255).astype(np.uint8).reshape(n, 28, 28)
        write_idx(folder / f"{stem}-images-idx3-ubyte", pixels)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", y[:n].astype(np.uint8))
    patch = pytest.MonkeyPatch()
    patch.setenv("ADVLIB_FASHION_MNIST", str(folder))
    yield folder
    patch.undo()
