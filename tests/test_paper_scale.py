"""The paper-scale path on full MNIST, with a tiny epoch cap, so that it cannot rot: chapters 4
and 6 run with ``scale="paper"`` (the paper's protocol: SGD, a 10,000-digit validation split,
early stopping, retraining on all 60,000 digits) and every model capped at one epoch.

Needs full MNIST in ``$ADVLIB_DATA`` (CI points it at ``../shared/data/mnist``); skips without
it, unless ``ADVLIB_REQUIRE_DATA=1`` (CI), where a missing folder fails instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from advlib.book.runner import run_chapter

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
CAP = {"scale": "paper", "epoch_cap": 1}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_mnist():
    folder = os.environ.get("ADVLIB_DATA")
    if not folder or not Path(folder).is_dir():
        reason = "full MNIST is not in $ADVLIB_DATA"
        if os.environ.get("ADVLIB_REQUIRE_DATA") == "1":
            pytest.fail(f"{reason} (ADVLIB_REQUIRE_DATA=1: the paper-scale path must run)")
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="module")
def chapter_04(full_mnist, tmp_path_factory):
    out = tmp_path_factory.mktemp("paper04") / "04.ipynb"
    return run_chapter(
        CHAPTERS / "04_fgsm.py",
        out,
        {**CAP, "angles": [5.0], "shown_angle": 5.0, "eps_grid": [0.0, 0.25], "digits": 3},
    )


@pytest.fixture(scope="module")
def chapter_06(full_mnist, tmp_path_factory):
    out = tmp_path_factory.mktemp("paper06") / "06.ipynb"
    return run_chapter(CHAPTERS / "06_adversarial_training.py", out, {**CAP, "width": 64})


def test_paper_scale_runs_on_full_mnist_with_the_papers_protocol(chapter_04):
    r = chapter_04
    assert "60,000 training and 10,000 test digits" in r["data"]
    assert r["test_digits"] == 10_000
    # one epoch on 50,000 digits with early stopping on the 10,000 held out, then one again on
    # all 60,000: the protocol ran end to end
    assert (r["maxout_epochs_fit"], r["maxout_best_epoch"], r["maxout_epochs_retrain"]) == (1, 1, 1)
    assert "SGD (lr 0.1" in r["maxout_training"] and "retrained" in r["maxout_training"]
    # One epoch over which the protocol's learning rate decays from .1 to .001 (the schedule
    # runs over the cap) leaves the net barely trained: 85.8% test error here, against 20.2%
    # validation error after the first of 100 epochs. The check is that it learned at all
    # (below the 90% of guessing) and that FGSM makes it worse.
    assert r["maxout_clean_error"] < 0.9
    assert r["maxout_error"] > r["maxout_clean_error"]


def test_paper_scale_claims_carry_both_verdicts_at_the_test_sets_resolution(chapter_04):
    rows = [row for row in chapter_04["claims"] if row["claim"] in ("C4", "C5")]
    assert rows and all(row["scale"] == "paper" for row in rows)
    for row in rows:
        assert row["reproduced"] in ("reproduced", "not reproduced")
        assert "n = 10,000" in row["tolerance"]
    # two standard errors of the paper's 89.4% on 10,000 digits: ±0.62 points
    c5 = next(row for row in rows if row["claim"] == "C5" and "FGSM error" in row["quantity"])
    assert c5["tolerance"].startswith("±0.62 points")


def test_chapter_6_trains_every_model_on_full_mnist_and_plots_validation_curves(chapter_06):
    r = chapter_06
    assert r["n_test"] == 10_000 and r["n_train"] == 60_000
    assert r["curve_set"] == "valid"  # the test set stays untouched while the models train
    assert r["epochs_fit_clean"] == r["epochs_fit_adv"] == 1
    assert r["epochs_retrain_adv"] == 1
    for key in (
        "cross_unclipped_unclipped",
        "cross_unclipped_clipped",
        "cross_clipped_clipped",
        "cross_clipped_unclipped",
        "fgsm_sign",
        "fgsm_uniform",
    ):
        assert 0.0 <= r[key] <= 1.0, key
    assert {row["scale"] for row in r["claims"]} == {"paper"}
    c15 = [row for row in r["claims"] if row["claim"] == "C15"]
    assert c15 and all(row["reproduced"] == "not comparable" for row in c15)  # 64 units
