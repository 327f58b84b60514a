"""The chapters' measurements in advlib.measure (chapters 5, 8, 9 and 12), on models whose
answers are known by construction: a softmax regression that reads one pixel."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from advlib import measure
from advlib.models import rbf_network, softmax_regression


def one_pixel_model(scale: float = 10.0) -> torch.nn.Module:
    """Softmax regression that answers 1 when pixel 0 is above .5, else 0 (logits ±3 at the
    pixel values .2 and .8 used below); every other pixel has zero weight."""
    model = softmax_regression()
    with torch.no_grad():
        model.linear.weight.zero_()
        model.linear.bias.zero_()
        model.linear.weight[1, 0], model.linear.bias[1] = scale, -scale / 2
        model.linear.weight[0, 0], model.linear.bias[0] = -scale, scale / 2
    return model.eval()


def one_pixel_data(n: int = 40, seed: int = 0):
    """x (n, 784) with pixel 0 at .2 (class 0) or .8 (class 1): a margin of .3 in that pixel."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int64)
    x = rng.uniform(0, 1, (n, 784)).astype(np.float32)
    x[:, 0] = np.where(y == 1, 0.8, 0.2)
    return x, y


def test_rate_noise_is_two_standard_errors_of_a_rate():
    assert measure.rate_noise(0.01, 10_000) == pytest.approx(2 * math.sqrt(0.0099 / 10_000))
    assert measure.rate_noise(0.5, 100) == pytest.approx(0.1)
    for bad in ((0.5, 0), (1.5, 100), (0.5, 2.5)):
        with pytest.raises(ValueError, match="rate_noise"):
            measure.rate_noise(*bad)


def test_train_test_errors_flip_every_answer_once_eps_passes_the_margin():
    x, y = one_pixel_data()
    models = {"reads pixel 0": one_pixel_model()}
    small = measure.train_test_errors(models, x, y, x, y, 0.2)
    assert small.loc["reads pixel 0"].tolist() == [0.0, 0.0, 0.0]  # .2 < the margin .3
    large = measure.train_test_errors(models, x[:30], y[:30], x, y, 0.4)
    assert large.loc["reads pixel 0", "FGSM test error"] == 1.0
    assert list(large.columns) == ["train error", "test error", "FGSM test error"]


def test_typical_digit_is_the_first_right_one_nearest_the_median():
    ranges = pd.DataFrame(
        {
            "wrong_fraction": [0.9, 0.2, 0.55, 0.5, 0.6],
            "correct_width": [np.nan, 1.0, 0.5, 0.4, 0.3],
        }
    )
    assert measure.typical_digit(ranges) == 2  # median .55; row 0 is wrong at eps = 0
    with pytest.raises(ValueError, match="no input"):
        measure.typical_digit(ranges.assign(correct_width=np.nan))


def test_line_classes_counts_the_changes_of_the_predicted_class():
    scores = np.eye(3)[[0, 0, 2, 2, 1, 0]]  # predictions along six eps values
    assert measure.line_classes(scores, 0) == {
        "class_changes": 3,
        "classes": 3,
        "correct_fraction": 0.5,
    }


def test_error_along_line_is_the_share_wrong_at_each_eps():
    pred = np.array([[0, 1, 1], [1, 1, 0]])  # two inputs, three eps
    lines = {"m": np.eye(2)[pred]}
    along = measure.error_along_line(lines, np.array([0, 1]), [-1.0, 0.0, 1.0])
    assert along["error"].tolist() == [0.0, 0.5, 1.0]
    assert along["eps"].tolist() == [-1.0, 0.0, 1.0]
    kept = measure.error_along_line(lines, np.array([1, 1]), [-1.0, 0.0, 1.0], every=2)
    assert kept["eps"].tolist() == [-1.0, 1.0] and kept["error"].tolist() == [0.5, 0.5]


def test_fooled_summary_gives_each_models_medians():
    r = pd.DataFrame(
        {
            "wrong_fraction": [0.1, 0.5, 0.9],
            "wrong_fraction_positive": [1, 1, 0],
            "correct_width": [np.nan, 2.0, 4.0],
            "class_changes": [1, 3, 9],
        }
    )
    table = measure.fooled_summary({"m": r})
    assert table["m"].tolist() == [0.5, 1.0, 3.0, 3.0]  # nan left out of the width's median


def test_agreement_rates_pick_the_papers_five_rates_and_what_each_counts():
    y = np.array([0, 0, 0, 0, 0, 0])
    preds = {
        "maxout": np.array([1, 1, 2, 2, 0, 0]),
        "softmax": np.array([1, 1, 2, 0, 0, 3]),
        "rbf": np.array([1, 0, 3, 3, 0, 3]),
    }
    rates = measure.agreement_rates(measure.agreement(preds, y))
    assert list(rates.index) == list(measure.AGREEMENT_RATES)
    assert rates.loc["softmax_on_maxout_mistakes", "rate"] == pytest.approx(3 / 4)
    assert rates.loc["softmax_on_maxout_mistakes", "n"] == 4  # maxout's mistakes
    assert rates.loc["rbf_agrees_maxout", "rate"] == pytest.approx(1 / 3)  # of 3 both wrong
    assert rates.loc["rbf_agrees_softmax", "n"] == 3
    with pytest.raises(ValueError, match="keyed"):
        measure.agreement_rates(measure.agreement({"a": preds["maxout"], "b": y}, y))


def test_line_points_move_the_one_pixel_the_gradient_reaches():
    x, y = one_pixel_data(1)
    images, pred, conf = measure.line_points(one_pixel_model(), x, y, [-0.2, 0.0, 0.4])
    step = np.sign(0.5 - x[0, 0])  # FGSM pushes pixel 0 toward the other class
    assert images[:, 0] == pytest.approx(x[0, 0] + step * np.array([-0.2, 0.0, 0.4]))
    assert (images[:, 1:] == x[0, 1:]).all()  # zero weights: zero gradient, no step
    assert pred.tolist() == [y[0], y[0], 1 - y[0]]
    # logits ±3 and eight zeros at the clean input
    assert conf[1] == pytest.approx(math.exp(3) / (math.exp(3) + math.exp(-3) + 8), rel=1e-5)


def test_ensemble_attacks_rows_per_size_and_attack():
    x, y = one_pixel_data(30)
    members = [one_pixel_model(10.0), one_pixel_model(20.0)]
    curve = measure.ensemble_attacks(members, x, y, 0.4).set_index(["members", "attack"])
    assert len(curve) == 6
    assert curve.loc[(2, "none (clean)"), "error"] == 0.0
    assert curve.loc[(2, "FGSM on the whole ensemble"), "error"] == 1.0
    assert curve.loc[(1, "FGSM on member 1 only"), "error"] == 1.0  # member 1's own examples
    with pytest.raises(ValueError, match="at least one"):
        measure.ensemble_attacks([], x, y, 0.4)


def test_attack_loss_rises_with_eps():
    x, y = one_pixel_data(30)
    model = one_pixel_model()
    small, large = (measure.attack_loss(model, x, y, e) for e in (0.05, 0.4))
    assert 0 < small < large
    pgd = measure.attack_loss(model, x, y, 0.4, attack="pgd", steps=5)
    assert pgd == pytest.approx(large, rel=0.05)  # one pixel: PGD ends where FGSM does


@pytest.fixture(scope="module")
def study():
    x, y = one_pixel_data(20)
    torch.manual_seed(0)
    models = {
        "softmax regression": one_pixel_model(4.0),
        "maxout": one_pixel_model(10.0),
        "maxout (adversarial, dropout off)": one_pixel_model(30.0),
        "rbf": rbf_network(),
    }
    keys = dict(zip(models, ("softmax", "maxout", "adv", "rbf"), strict=True))
    return measure.attack_study(
        models,
        x,
        y,
        [0.0, 0.1],
        {"small": 0.2, "large": 0.4},
        keys=keys,
        clean="maxout",
        trained="maxout (adversarial, dropout off)",
        steps=3,
        loss_of="rbf",
    )


def test_attack_study_sets_fgsm_beside_pgd_under_both_pixel_rules(study):
    attacks, numbers = study["attacks"], study["numbers"]
    assert len(attacks) == 4 * 2 * 2 * 2  # models, sizes, attacks, pixel rules
    assert list(dict.fromkeys(attacks["pixels"])) == ["unclipped", "clipped to [0, 1]"]
    assert sorted(study["curve"]["eps"].unique()) == [0.0, 0.1, 0.2, 0.4]
    # every one-pixel model flips at the margin .3 whatever its steepness, and clipping to [0, 1]
    # does not stop pixel 0 (at .2 or .8) from crossing .5: none fooled at .2, all at .4
    for key in ("softmax", "maxout", "adv"):
        for attack in ("fgsm", "pgd"):
            for tail in ("", "_beside"):
                assert numbers[f"{key}_{attack}_small{tail}"] == 0.0, (key, attack, tail)
                assert numbers[f"{key}_{attack}_large{tail}"] == 1.0, (key, attack, tail)
    # so the steeper "adversarially trained" model gains nothing, and there is no share of it
    assert numbers["gain_fgsm_large"] == numbers["gain_pgd_large"] == 0.0
    assert numbers["gain_kept_large"] is None
    assert numbers["large_verdict"].startswith("no more robust")
    assert numbers["transfer_large"] == 1.0
    assert numbers["rbf_loss_fgsm_large"] > 0


def test_attack_study_wants_increasing_sizes_and_known_models(study):
    x, y = one_pixel_data(4)
    models = {"a": one_pixel_model(), "b": one_pixel_model()}
    with pytest.raises(ValueError, match="increasing"):
        measure.attack_study(
            models,
            x,
            y,
            [0.1],
            {"small": 0.3, "large": 0.2},
            keys={"a": "a", "b": "b"},
            clean="a",
            trained="b",
        )
    with pytest.raises(ValueError, match="no model"):
        measure.attack_study(
            models, x, y, [0.1], {"small": 0.1}, keys={"a": "a"}, clean="a", trained="c"
        )


def test_attack_table_puts_the_headline_pixel_rule_first(study):
    table = measure.attack_table(study["attacks"], headline="clipped to [0, 1]")
    assert list(table.columns)[:2] == [("clipped to [0, 1]", "FGSM"), ("clipped to [0, 1]", "PGD")]
    assert table.shape == (8, 4)
    assert table.loc[("maxout", 0.4), ("unclipped", "FGSM")] == 1.0
