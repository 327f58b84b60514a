"""Chapter 12 (beyond the paper): FGSM against PGD on the book's four models, the robustness
curves, and the B rows of its closing table.

The loading of Fashion-MNIST from small IDX files, and its error when the files are missing,
are tested in tests/test_data.py. Here the chapter's Fashion-MNIST part runs on small IDX files
that $ADVLIB_FASHION_MNIST points at (the ``small_fashion`` fixture) (the real part trains on 60,000 images; the book build
runs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from advlib.book.runner import run_chapter
from advlib.data import load_dataset
from advlib.measure import adversarial, evaluate
from advlib.models import rbf_network
from advlib.zoo import recipe, trained

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "12_beyond.py"
SMALL = {"eps_grid": [0.0, 0.05, 0.1, 0.25], "pgd_steps": 10, "fashion_epochs": 2}
NETWORKS = ("softmax", "maxout", "adv")  # the models PGD must beat FGSM on
SIZES = ("small", "large")

slow = pytest.mark.slow


# --- the attacks on a cached model of the book ---------------------------------------------


@pytest.fixture(scope="module")
def maxout_and_digits():
    """The book's maxout network (from the model cache) and 300 embedded test digits."""
    x, y = load_dataset("mnist-embedded", "test")
    return trained(recipe("maxout"))[0], torch.as_tensor(x[:300]), torch.as_tensor(y[:300])


@slow
@pytest.mark.parametrize("clip", [None, (0.0, 1.0)], ids=["unclipped", "clipped"])
def test_pgd_fools_the_maxout_network_at_least_as_often_as_fgsm(maxout_and_digits, clip):
    model, x, y = maxout_and_digits
    for eps in (0.1, 0.25):
        fgsm_error = evaluate(model, adversarial(model, x, y, eps, clip=clip), y, clip=None)
        pgd_error = evaluate(
            model, adversarial(model, x, y, eps, attack="pgd", clip=clip, steps=10), y, clip=None
        )
        assert pgd_error["error"] >= fgsm_error["error"]


@slow
def test_pgd_stays_in_the_eps_ball_and_only_the_clipped_one_in_the_pixel_range(maxout_and_digits):
    model, x, y = maxout_and_digits
    eps = 0.1
    unclipped = adversarial(model, x, y, eps, attack="pgd", clip=None, steps=5)
    clipped = adversarial(model, x, y, eps, attack="pgd", clip=(0.0, 1.0), steps=5)
    for adv in (unclipped, clipped):
        assert (adv - x).abs().max() <= eps + 1e-6
        assert (adv - x).abs().max() >= eps - 1e-6  # the attack uses the whole budget
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert unclipped.min() < -eps / 2  # background pixels pushed below black


def test_fgsm_is_the_exact_maximiser_of_the_rbf_loss_over_the_unclipped_ball():
    """The chapter's explanation of PGD < FGSM on the RBF network: J = −log p_y is a sum of one
    convex term per pixel, so eps·sign(x − μ_y) maximises it; no point of the ball, PGD's
    included, gets a higher J for any example."""
    torch.manual_seed(0)
    model = rbf_network()
    x, y = torch.rand(200, 784), torch.randint(0, 10, (200,))
    eps = 0.25

    def per_example_loss(inputs):
        with torch.no_grad():
            return -model(inputs).gather(1, y[:, None]).squeeze(1)

    best = per_example_loss(adversarial(model, x, y, eps, clip=None))
    others = [
        adversarial(model, x, y, eps, attack="pgd", clip=None, steps=20, seed=s) for s in range(3)
    ]
    others += [x + eps * torch.randint(0, 2, x.shape).mul(2).sub(1) for _ in range(3)]
    for adv in others:
        assert (per_example_loss(adv) <= best * (1 + 1e-5)).all()


# --- the chapter under papermill -----------------------------------------------------------


@pytest.fixture(scope="module")
def run(small_fashion):
    return run_chapter(CHAPTER, small_fashion / "ch12.ipynb", SMALL)


@slow
def test_pgd_error_at_least_fgsm_error_for_every_network_eps_and_pixel_rule(run):
    for key in NETWORKS:
        for size in SIZES:
            for tail in ("", "_beside"):
                assert run[f"{key}_pgd_{size}{tail}"] >= run[f"{key}_fgsm_{size}{tail}"], (
                    key,
                    size,
                    tail,
                )


@slow
def test_rbf_exception_pgd_below_fgsm_where_fgsm_has_the_higher_loss(run):
    """The one model where PGD does not beat FGSM unclipped, and the reason the text gives."""
    assert run["headline"] == "unclipped"
    for size in SIZES:
        assert run[f"rbf_loss_fgsm_{size}"] >= run[f"rbf_loss_pgd_{size}"]
    assert run["rbf_pgd_large"] < run["rbf_fgsm_large"]


@slow
def test_adversarial_training_lowers_fgsm_error_far_below_the_clean_networks(run):
    for size in SIZES:
        assert run[f"adv_fgsm_{size}"] < 0.5 * run[f"maxout_fgsm_{size}"]
    assert run["adv_clean"] <= run["maxout_clean"] + 0.02


@slow
def test_pgd_takes_back_adversarial_trainings_gain_at_the_papers_eps(run):
    assert run["eps_large"] == 0.25
    assert run["adv_pgd_large"] > 0.9
    # B2 (the claims table): PGD leaves at most half of the FGSM gain at both sizes (unclipped,
    # the headline)
    assert run["gain_kept_large"] < 0.5
    assert run["gain_kept_small"] < 0.5
    # the verdict the chapter glues reads the largest size's PGD gain: none when PGD fools the
    # trained network at least as often as the clean one, else (under half kept) a little
    gain = run["maxout_pgd_large"] - run["adv_pgd_large"]
    assert run["gain_pgd_large"] == pytest.approx(gain)
    expected = "no more robust" if gain <= 0 else "only a little more robust"
    assert run["large_verdict"].startswith(expected)


@slow
def test_signs_of_gradient_masking_on_the_fgsm_trained_network(run):
    # the FGSM curve falls after a peak below the training eps ...
    assert run["adv_peak_eps"] < run["eps_large"]
    assert run["adv_peak_error"] > run["adv_fgsm_large"] + 0.05
    curve = {
        row["eps"]: row["error"]
        for row in run["curve"]
        if row["model"] == "maxout (adversarial, dropout off)"
    }
    assert sorted(curve) == [0.0, 0.05, 0.1, 0.25]  # the test's grid
    assert curve[0.25] < curve[0.1]
    # ... and the clean network's examples fool it more than its own
    assert run["transfer_large"] > run["adv_fgsm_large"]


def b_rows_match_the_records(rows, run, prefix):
    """The 13 B rows of one data set against the values recorded under ``prefix``."""
    assert [row["claim"] for row in rows] == ["B1"] * 8 + ["B2"] * 2 + ["B3", "B4", "B5"]
    pairs = [(key, size) for key in ("softmax", "maxout", "adv", "rbf") for size in SIZES]
    for row, (key, size) in zip(rows[:8], pairs, strict=True):  # the eight B1 rows
        pgd, fgsm = run[f"{prefix}{key}_pgd_{size}"], run[f"{prefix}{key}_fgsm_{size}"]
        assert row["ours_value"] == pytest.approx(pgd)
        assert row["verdict"] == ("holds" if pgd >= fgsm else "differs")
        assert "Madry" in row["paper"]
    for row, size in zip(rows[8:10], SIZES, strict=False):
        kept = run[f"{prefix}gain_kept_{size}"]
        assert row["verdict"] == (
            "not run" if kept is None else "holds" if kept <= 0.5 else "differs"
        )
    adv_large = run[f"{prefix}adv_fgsm_large"]
    assert rows[10]["verdict"] == (
        "holds" if adv_large < run[f"{prefix}adv_fgsm_small"] else "differs"
    )
    assert rows[11]["verdict"] == (
        "holds" if run[f"{prefix}transfer_large"] > adv_large else "differs"
    )
    assert rows[12]["verdict"] == ("holds" if adv_large < run[f"{prefix}adv_clean"] else "differs")


@slow
def test_closing_table_has_the_b_rows_of_both_data_sets_with_verdicts_from_the_records(run):
    rows = run["claims"]
    assert len(rows) == 26
    b_rows_match_the_records(rows[:13], run, "")
    b_rows_match_the_records(rows[13:], run, "fashion_")
    assert [row["verdict"] for row in rows[8:13]] == ["holds"] * 4 + ["differs"]
    assert all(row["quantity"].startswith("Fashion-MNIST") for row in rows[13:])
    # expectations of the later literature, not the paper's numbers: nothing to reproduce
    assert {row["reproduced"] for row in rows} <= {"no number", "not run"}


@slow
def test_fashion_part_runs_the_same_study_on_the_files_it_finds(run):
    assert run["fashion_status"] == "ran"
    assert run["fashion_n_test"] == 300  # the stand-in files, not Debian's 10,000
    assert run["fashion_model_epochs"] == {"softmax": 2, "maxout": 2, "adv": 2, "rbf": 2}
    grid = sorted({row["eps"] for row in run["fashion_curve"]})
    assert grid == [0.0, 0.05, 0.1, 0.25]
    assert len(run["fashion_attacks"]) == 4 * 2 * 2 * 2  # models, eps, attacks, pixel rules
