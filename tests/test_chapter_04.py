"""Chapter 4 (FGSM on the softmax classifier and the maxout network, rotations), executed by
papermill with changed parameters; asserts the directions the paper claims (C3–C8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "04_fgsm.py"
SMALL = {"eps_grid": [0.0, 0.1, 0.25], "angles": [5.0, 15.0], "shown_angle": 5.0, "digits": 5}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch04")
    return {
        # the paper's eps and the book's seed: the models come from the shared cache
        "paper": run_chapter(CHAPTER, out / "paper.ipynb", SMALL),
        # another eps, another clip range and another seed (trains two models afresh)
        "other": run_chapter(
            CHAPTER, out / "other.ipynb", {**SMALL, "eps": 0.1, "seed": 1, "clip": [-0.1, 1.1]}
        ),
    }


def test_fgsm_fools_softmax_nearly_always_at_paper_eps_C4(runs):
    r = runs["paper"]
    assert r["eps"] == 0.25
    assert r["softmax_error"] >= 0.95  # the paper: 99.9%
    assert r["softmax_error"] > 5 * r["softmax_clean_error"]
    assert r["softmax_confidence_mistakes"] > 0.5  # wrong and confident


def test_fgsm_error_far_above_clean_error_for_maxout_C5(runs):
    for r in runs.values():
        assert r["maxout_error"] > 0.5
        assert r["maxout_error"] > 5 * r["maxout_clean_error"]
        assert r["maxout_confidence_mistakes"] > 0.8  # the paper: 97.6%
    assert runs["paper"]["maxout_error"] >= 0.8  # the paper: 89.4%


def test_claims_compare_the_confidence_over_mistakes_and_record_both(runs):
    r = runs["paper"]
    rows = {(row["claim"], i): row for i, row in enumerate(r["claims"])}
    assert rows[("C4", 2)]["ours_value"] == pytest.approx(r["softmax_confidence_mistakes"])
    assert rows[("C5", 5)]["ours_value"] == pytest.approx(r["maxout_confidence_mistakes"])
    assert rows[("C5", 3)]["ours_value"] == pytest.approx(r["maxout_clean_error"])
    for model in ("softmax", "maxout"):
        assert 0.1 <= r[f"{model}_confidence_all"] <= 1
        assert f"{r[f'{model}_confidence_all']:.1%}" in " ".join(row["why"] for row in r["claims"])


def test_unclipped_examples_leave_the_pixel_range_and_clipping_is_shown_beside_C3(runs):
    for r in runs.values():
        assert r["eta_max_norm"] == pytest.approx(r["eps"], abs=1e-6)
        assert r["adv_pixel_min"] == pytest.approx(-r["eps"], abs=1e-6)
        assert r["adv_pixel_max"] == pytest.approx(1 + r["eps"], abs=1e-6)
        assert r["eta_moved_share"] > 0.9
        for model in ("softmax", "maxout"):
            assert r[f"{model}_clipped_error"] > 3 * r[f"{model}_clean_error"]
    assert runs["other"]["clip_high"] == 1.1


def test_error_grows_with_eps_for_both_models(runs):
    for r in runs.values():
        for model in ("softmax regression", "maxout"):
            errors = [
                row["error"]
                for row in sorted(
                    (row for row in r["sweep"] if row["model"] == model), key=lambda row: row["eps"]
                )
            ]
            assert errors == sorted(errors) and errors[-1] > errors[0] + 0.3


def test_rotation_toward_the_gradient_beats_a_random_rotation_C8(runs):
    for r in runs.values():
        for model in ("softmax", "maxout"):
            assert r[f"{model}_rotation_beats"] is True
            assert r[f"{model}_rotation_gradient"] > r[f"{model}_rotation_random"]
            assert r[f"{model}_rotation_either"] >= r[f"{model}_rotation_gradient"]
            assert r[f"{model}_rotation_picked_min"] > 0.7


def test_claims_table_names_C3_to_C8_and_marks_missing_data_not_run(runs):
    rows = runs["paper"]["claims"]
    assert [row["claim"] for row in rows] == [
        "C3",
        "C4",
        "C4",
        "C5",
        "C5",
        "C5",
        "C6",
        "C7",
        "C8",
        "C8",
    ]  # C5: clean error, FGSM error, confidence
    verdicts = {(row["claim"], row["quantity"]): row["verdict"] for row in rows}
    assert all(v == "not run" for (c, _), v in verdicts.items() if c in ("C6", "C7"))
    assert all(v in ("holds", "differs") for (c, _), v in verdicts.items() if c not in ("C6", "C7"))
    assert rows[0]["verdict"] == "holds" and rows[1]["verdict"] == "holds"
    assert rows[-1]["verdict"] == rows[-2]["verdict"] == "holds"


def test_dataset_parameter_runs_the_chapter_on_other_data(small_fashion, tmp_path):
    """``dataset="fashion-mnist"`` reads the IDX files where $ADVLIB_FASHION_MNIST points (the
    stand-in folder: 1,000 / 300 images), trains its own models and says so in its data note."""
    r = run_chapter(CHAPTER, tmp_path / "fashion.ipynb", {**SMALL, "dataset": "fashion-mnist"})
    assert r["test_digits"] == 300
    assert r["data"].startswith("Fashion-MNIST (a smaller copy")
    assert str(small_fashion) in r["data"]
    assert r["maxout_error"] > 2 * r["maxout_clean_error"]
    assert r["softmax_error"] > 2 * r["softmax_clean_error"]
