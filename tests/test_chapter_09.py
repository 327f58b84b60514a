"""Chapter 9 (alternative hypotheses): generative training (C26) and ensembles (C27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "09_alternative_hypotheses.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # Two members (seeds 0 and 1) are in the model cache once the book has been built.
    out = tmp_path_factory.mktemp("ch09")
    return run_chapter(CHAPTER, out / "ch09.ipynb", {"members": 2})


def test_ensemble_error_stays_high_under_both_attacks(run):
    """C27: averaging maxout networks does not wash adversarial examples out."""
    assert run["members"] == 2
    assert run["ensemble_error"] > 0.5  # FGSM on the whole ensemble
    assert run["member_error"] > 0.5  # FGSM on one member, transferred to the ensemble
    assert run["ensemble_error"] > 5 * run["ensemble_clean_error"]
    assert run["ensemble_clean_error"] <= run["member_clean_error_mean"] + 0.005


def test_generative_stand_in_is_fooled_with_confidence(run):
    """C26: a generatively trained classifier (class-conditional Gaussians, Bayes' rule) is
    still confidently wrong on many FGSM examples."""
    for cov in ("shared", "per_class"):
        assert run[f"gauss_{cov}_error"] > 2 * run[f"gauss_{cov}_clean_error"], cov
        assert run[f"gauss_{cov}_mistake_confidence"] > 0.5, cov


def test_generative_model_finds_adversarial_examples_improbable(run):
    """C26's hypothesis tested directly: p(x) drops on FGSM examples, the posterior does not
    use it."""
    assert run["ll_adv_median"] < run["ll_clean_median"] - 10
    assert run["below_clean"] > 0.2


def test_claims_table_covers_c26_and_c27(run):
    rows = run["claims"]
    assert {row["claim"] for row in rows} == {"C26", "C27"}
    fooled = [row for row in rows if row["quantity"].startswith("ensembles are still fooled")]
    assert fooled[0]["verdict"] == "holds"
    # the stand-in is not the MP-DBM, and two members are not the paper's twelve: no row is
    # set against the paper's number, though every one has a tolerance for it
    assert {row["reproduced"] for row in rows} == {"not comparable"}
    assert fooled[0]["ours_value"] == pytest.approx(min(run["ensemble_error"], run["member_error"]))
