"""Chapter 6 (adversarial training of deep networks), executed by papermill with changed
parameters: the paper's directions on the embedded data, claim by claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "06_adversarial_training.py"
WIDTH = 64  # the "large" network, narrowed so that its models train in seconds
CLEAN_MARGIN = 0.015  # adversarial training may raise clean error by at most 1.5 points


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs: the paper's attack (unclipped, eps = .25), and a weaker, clipped attack
    (eps = .1) with the same-mask FGSM direction chosen, on models still trained at .25."""
    out = tmp_path_factory.mktemp("ch06")
    return {
        "paper": run_chapter(CHAPTER, out / "paper.ipynb", {"width": WIDTH}),
        "weak": run_chapter(
            CHAPTER,
            out / "weak.ipynb",
            {"width": WIDTH, "eps": 0.1, "clip": True, "fgsm_dropout": "same"},
        ),
    }


def test_adversarial_training_halves_fgsm_error_and_keeps_clean_error_c14_c16(runs):
    r = runs["paper"]
    assert r["fgsm_dropout"] == "off" and r["headline"] == "unclipped"
    assert r["fgsm_clean"] > 0.5  # the clean-trained net is fooled (C5)
    assert r["fgsm_adv"] <= r["fgsm_clean"] / 2
    assert r["clean_error_adv"] <= r["clean_error_clean"] + CLEAN_MARGIN


def test_fgsm_direction_with_dropout_off_resists_more_c13(runs):
    r = runs["paper"]
    assert r["fgsm_off"] < r["fgsm_same"]
    # input dropout (p = .2) zeroes the gradient of the dropped pixels, and only those
    assert r["zero_grad_share_dropout"] == pytest.approx(r["drop_in"], abs=0.02)
    assert r["zero_grad_share_eval"] < 0.01
    # the same-mask model resists the partial perturbation it was trained on far better
    assert r["spared_same"] < r["fgsm_same"] - 0.1


def test_transfer_is_weaker_towards_the_adversarially_trained_model_c17_c18(runs):
    r = runs["paper"]
    assert r["transfer_to_adv"] < r["transfer_to_clean"]
    assert r["transfer_to_clean"] >= 5 * r["clean_error_clean"]  # the examples do transfer


def test_adversarially_trained_model_is_confident_when_wrong_c19(runs):
    assert runs["paper"]["mistake_conf_adv"] >= 0.5


def test_noise_training_does_not_help_much_c21(runs):
    r = runs["paper"]
    gain = r["fgsm_clean"] - r["fgsm_adv"]
    for kind in ("sign", "uniform"):
        assert r["fgsm_clean"] - r[f"fgsm_{kind}"] <= gain / 2, kind
        assert r[f"conf_{kind}"] >= r["mistake_conf_adv"], kind


def test_attack_parameters_leave_the_trained_models_alone(runs):
    paper, weak = runs["paper"], runs["weak"]
    assert weak["eps"] == 0.1 and weak["train_eps"] == 0.25 and weak["headline"] == "clipped"
    # the same cached 240-unit models: identical clean errors whatever the attack
    for key in ("clean_error_clean", "clean_same", "clean_off"):
        assert weak[key] == paper[key], key
    assert weak["fgsm_clean"] < paper["fgsm_clean"]  # a weaker attack


def test_fgsm_dropout_chooses_the_adversarially_trained_model_c13(runs):
    paper, weak = runs["paper"], runs["weak"]
    assert paper["adv_name"] == "maxout (adversarial, dropout off)"
    assert weak["adv_name"] == "maxout (adversarial)"
    assert paper["clean_error_adv"] == paper["clean_off"]
    assert weak["clean_error_adv"] == weak["clean_same"]
    c13 = [row for row in weak["claims"] if row["claim"] == "C13"]
    assert len(c13) == 1 and "Used here: 'same'" in c13[0]["why"]


def test_claims_table_covers_c13_to_c22_with_verdicts(runs):
    rows = runs["paper"]["claims"]
    ids = {row["claim"] for row in rows}
    assert ids == {f"C{i}" for i in range(13, 23)}
    assert all(row["verdict"] in ("holds", "differs") for row in rows)
    assert runs["paper"]["width"] == WIDTH and runs["paper"]["seeds"] == 1


def test_other_alpha_seeds_and_dataset(small_fashion, tmp_path):
    """alpha .3, two seeds of the larger adversarial network and the stand-in Fashion-MNIST
    folder (1,000 / 300 images): the chapter trains on them and adversarial training still
    cuts the FGSM error."""
    r = run_chapter(
        CHAPTER,
        tmp_path / "other.ipynb",
        {"width": WIDTH, "alpha": 0.3, "seeds": 2, "dataset": "fashion-mnist"},
    )
    assert (r["alpha"], r["seeds"], r["n_train"], r["n_test"]) == (0.3, 2, 1000, 300)
    assert r["data"].startswith("Fashion-MNIST (a smaller copy")
    assert r["wide_adv_best"] <= r["wide_adv_mean"]
    assert r["fgsm_adv"] < r["fgsm_clean"]
