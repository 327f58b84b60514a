"""Appendix A (rubbish class examples): N(0, I) noise classified by each model (C28, C29)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.book.runner import run_chapter
from advlib.measure import rubbish

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "10_rubbish_class.py"

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch10")
    return run_chapter(CHAPTER, out / "ch10.ipynb", {"samples": 2000, "seed": 0})


@slow
def test_maxout_confidently_classifies_noise_and_rbf_does_not(run):
    """C28: most noise inputs get a class with p > .5 from maxout, almost none from RBF."""
    assert run["samples"] == 2000
    assert run["maxout_rate"] > 0.5 and run["maxout_confidence"] > 0.8
    assert run["rbf_rate"] <= 0.01
    assert run["softmax_rate"] > 0.3  # the linear model too


@slow
def test_maxout_false_positives_are_lopsided_over_classes(run):
    """C28: the false positives concentrate on a few classes (the paper: 45.3% are 5s)."""
    assert run["maxout_top_share"] > 0.2  # uniform would be 10%
    assert run["maxout_false_positives"] == pytest.approx(run["maxout_rate"] * 2000, abs=0.5)


@slow
def test_claims_table_marks_cifar10_not_run(run):
    rows = run["claims"]
    c29 = [row for row in rows if row["claim"] == "C29"]
    assert c29 and all(row["verdict"] == row["reproduced"] == "not run" for row in c29)
    direction = [row for row in rows if row["quantity"].startswith("maxout confidently")]
    assert direction[0]["verdict"] == "holds"


@slow
def test_rates_are_set_against_the_paper_over_the_noise_draws_they_count(run):
    """A rate over the 2,000 draws has the tolerance of 2,000 examples; a confidence or a class
    share, that of the model's false positives."""
    rows = {row["quantity"]: row for row in run["claims"]}
    rate = rows["maxout: noise given a class with p > 0.5"]
    assert rate["tolerance"].endswith("n = 2,000)")
    paper = run["paper_C28_maxout"]
    near = abs(run["maxout_rate"] - paper) <= 2 * np.sqrt(paper * (1 - paper) / 2000)
    assert rate["reproduced"] == ("reproduced" if near else "not reproduced")
    fives = rows["maxout's false positives: share of 5s"]
    assert fives["tolerance"].endswith(f"n = {run['maxout_false_positives']:,})")


@slow
def test_another_threshold_is_not_compared_with_the_papers_numbers(tmp_path):
    r = run_chapter(CHAPTER, tmp_path / "t.ipynb", {"samples": 500, "threshold": 0.9})
    c28 = [row for row in r["claims"] if row["claim"] == "C28"]
    assert c28 and {row["reproduced"] for row in c28} == {"not comparable"}
    assert r["threshold"] == 0.9 and r["paper_C28_threshold"] == 0.5


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
    # another seed draws other noise: a different count, near the same half
    other = rubbish({"m": _Constant()}, n=4000, seed=2)[0].iloc[0]["rate"]
    assert other != row["rate"] and other == pytest.approx(0.5, abs=0.03)
