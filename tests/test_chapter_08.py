"""Chapter 8 (why adversarial examples generalize): the FGSM line (C24) and agreement (C25)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from advlib.book.runner import run_chapter
from advlib.measure import agreement, fooled_range, piecewise_linear_fit

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "08_why_generalize.py"

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch08")
    return run_chapter(CHAPTER, out / "ch08.ipynb", {"digits": 60, "eps_points": 301})


@slow
def test_maxout_logits_are_nearly_piecewise_linear_along_the_fgsm_line(run):
    """C24: a few linear pieces explain the logits; one line explains clearly less."""
    assert run["r2_piecewise"] > 0.99
    assert run["r2_two_pieces_median"] > 0.99
    assert run["r2_line"] < run["r2_piecewise"]
    assert run["digit"] < run["digits"] == 60


@slow
def test_adversarial_examples_fill_broad_intervals_of_eps(run):
    """C24: wrong over most of the line, right only on a thin interval around the digit."""
    assert run["wrong_fraction_positive_median"] > 0.9
    assert run["wrong_fraction_median"] > 0.5
    assert run["correct_width_share"] < 0.1
    assert run["class_changes_median"] < 10  # long constant stretches, not a fine tiling


@slow
def test_softmax_agrees_with_maxouts_mistakes_more_than_rbf(run):
    """C25: the linear model shares the maxout network's mistakes more than the RBF network."""
    assert run["softmax_agrees_maxout"] > run["rbf_agrees_maxout"]
    assert run["softmax_on_maxout_mistakes"] > run["rbf_on_maxout_mistakes"]
    for key in ("softmax_agrees_maxout", "rbf_agrees_maxout", "rbf_agrees_softmax"):
        assert run[key] > 1 / 9, key  # more than models erring at random would agree


@slow
def test_maxout_examples_transfer_to_softmax(run):
    """C25's premise: examples made on maxout fool the other models too."""
    assert run["maxout_error"] > 0.5 and run["softmax_error"] > 0.5
    verdicts = {row["quantity"]: row["verdict"] for row in run["claims"]}
    lead = [v for q, v in verdicts.items() if q.startswith("softmax agrees with maxout more")]
    assert lead == ["holds"]


@slow
def test_agreement_rows_are_set_against_the_paper_within_two_standard_errors(run):
    """C25's rates: each row's tolerance counts the examples the rate is over (maxout's
    mistakes, or the examples both models get wrong), and its second verdict follows."""
    rows = {row["quantity"]: row for row in run["claims"] if row["claim"] == "C25"}
    mistakes = round(run["maxout_error"] * run["test_size"])
    counts = {
        "RBF predicts maxout's class | maxout wrong": mistakes,
        "softmax predicts maxout's class | maxout wrong": mistakes,
        "softmax = maxout | both wrong": run["both_wrong_softmax"],
        "RBF = maxout | both wrong": run["both_wrong_rbf"],
    }
    for quantity, n in counts.items():
        row = rows[quantity]
        p = row["paper_value"]
        tol = 2 * math.sqrt(max(p * (1 - p), 1 / n) / n)
        assert row["tolerance"].endswith(f"n = {n:,})")
        assert row["reproduced"] == (
            "reproduced" if abs(row["ours_value"] - p) <= tol else "not reproduced"
        )
    c24 = [row for row in run["claims"] if row["claim"] == "C24"]
    assert len(c24) == 3 and {row["reproduced"] for row in c24} == {"no number"}


def test_agreement_rates_on_a_hand_made_case():
    y = np.array([0, 0, 0, 0, 1])
    preds = {"a": np.array([1, 2, 3, 0, 1]), "b": np.array([1, 2, 0, 0, 2])}
    rows = agreement(preds, y).set_index(["a", "b"])
    ab = rows.loc[("a", "b")]
    assert ab["a_mistakes"] == 3 and ab["b_predicts_a"] == pytest.approx(2 / 3)
    assert ab["both_wrong"] == 2 and ab["agree_both_wrong"] == 1.0
    ba = rows.loc[("b", "a")]
    assert ba["a_mistakes"] == 3 and ba["b_predicts_a"] == pytest.approx(2 / 3)


def test_piecewise_linear_fit_finds_the_knot_of_a_bent_line():
    t = np.linspace(-3, 3, 121)
    v = np.column_stack([np.where(t < 1, t, 1 + 4 * (t - 1)), -2 * t])
    two = piecewise_linear_fit(t, v, pieces=2, candidates=59)
    assert two["r2"] > 0.9999 and two["knots"][0] == pytest.approx(1.0, abs=0.06)
    one = piecewise_linear_fit(t, v, pieces=1)
    assert one["r2"] < 0.99 and one["r2_columns"][1] == pytest.approx(1.0)


def test_fooled_range_finds_the_correct_interval_around_zero():
    eps = np.linspace(-2, 2, 9)  # -2, -1.5, ..., 2
    pred = np.array([[1, 1, 0, 0, 0, 0, 2, 2, 2]])
    scores = np.eye(3)[pred]  # (1, 9, 3): argmax is pred
    r = fooled_range(scores, np.array([0]), eps).iloc[0]
    assert (r["correct_low"], r["correct_high"]) == (-1.0, 0.5)
    assert r["wrong_fraction"] == pytest.approx(5 / 9)
    assert r["wrong_fraction_positive"] == pytest.approx(3 / 4)
    assert r["class_changes"] == 2
