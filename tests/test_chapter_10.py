"""Appendix A (rubbish class examples): N(0, I) noise classified by each model (C28, C29)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.measure import rubbish
from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "10_rubbish_class.py"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch10")
    return run_chapter(CHAPTER, out / "ch10.ipynb", {"samples": 2000, "seed": 0})


def test_maxout_confidently_classifies_noise_and_rbf_does_not(run):
    """C28: most noise inputs get a class with p > .5 from maxout, almost none from RBF."""
    assert run["samples"] == 2000
    assert run["maxout_rate"] > 0.5 and run["maxout_confidence"] > 0.8
    assert run["rbf_rate"] <= 0.01
    assert run["softmax_rate"] > 0.3  # the linear model too


def test_maxout_false_positives_are_lopsided_over_classes(run):
    """C28: the false positives concentrate on a few classes (the paper: 45.3% are 5s)."""
    assert run["maxout_top_share"] > 0.2  # uniform would be 10%
    assert run["maxout_false_positives"] == pytest.approx(run["maxout_rate"] * 2000, abs=0.5)


def test_claims_table_marks_cifar10_not_run(run):
    rows = run["claims"]
    c29 = [row for row in rows if row["claim"] == "C29"]
    assert c29 and all(row["verdict"] == "not run" for row in c29)
    direction = [row for row in rows if row["quantity"].startswith("maxout confidently")]
    assert direction[0]["verdict"] == "holds"


class _Constant(torch.nn.Module):
    """A stand-in model with fixed probabilities: one class for inputs with x[0] > 0."""

    def forward(self, x):
        hot = torch.where(x[:, :1] > 0, 0.9, 0.3).expand(-1, 10).clone()
        hot[:, 1:] = 0.01
        return hot

    def probs(self, scores):
        return scores


def test_rubbish_counts_confident_classes_and_their_confidence():
    summary, classes = rubbish({"m": _Constant()}, n=4000, seed=1)
    row = summary.iloc[0]
    assert row["rate"] == pytest.approx(0.5, abs=0.03)  # x[0] > 0 half the time
    assert row["confidence"] == pytest.approx(0.9)
    share = classes.set_index("class")["share"]
    assert share[0] == 1.0 and share.drop(0).sum() == 0.0
    assert isinstance(classes, pd.DataFrame) and len(classes) == 10
    again, _ = rubbish({"m": _Constant()}, n=4000, seed=1)
    assert np.isclose(again.iloc[0]["rate"], row["rate"])  # the same draws for the same seed
