"""The chapters' studies in advlib.linear: Sec. 3's tables (chapter 3) and Sec. 5's comparison
of adversarial training with L1 weight decay (chapter 5), on small synthetic problems."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advlib import linear


def two_blobs(n=400, d=20, seed=0, gap=0.6):
    """A two-class problem in [0, 1]^d with labels ±1, separable with a margin."""
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.5, -1, 1)
    x = np.clip(
        0.5 + 0.15 * rng.standard_normal((n, d)) + gap / 2 * y[:, None] * (np.arange(d) < 3),
        0.0,
        1.0,
    )
    return x, y.astype(np.int64)


def test_activation_growth_is_eps_m_n_with_m_the_mean_weight_magnitude_C1():
    growth = linear.activation_growth(0.25, [10, 10_000], 3, np.random.default_rng(0))
    assert list(growth["n"]) == [10, 10_000]
    big = growth.iloc[1]
    # unit-variance weights: m = sqrt(2/pi), so the change is about .25·0.798·10^4 ≈ 1,995
    assert big["measured change"] == pytest.approx(0.25 * math.sqrt(2 / math.pi) * 1e4, rel=0.03)
    assert big["measured change"] / growth.iloc[0]["measured change"] > 300  # ~1000× (n ratio)
    assert growth["relative deviation"].max() < 1e-12
    assert (growth["max-norm of eta"] == 0.25).all()


def test_activation_growth_draws_weights_then_inputs_from_the_given_generator():
    growth = linear.activation_growth(0.1, [50], 2, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    changes = []
    for _ in range(2):
        w = rng.standard_normal(50)
        rng.uniform(0.0, 1.0, 50)
        changes.append(0.1 * np.abs(w).sum())
    assert growth.iloc[0]["eps * ||w||_1"] == pytest.approx(np.mean(changes), rel=1e-12)


def test_eight_bit_storage_keeps_changes_from_half_a_level_C2():
    grid = np.array([0.0, 0.49, 0.51, 0.99, 1.01]) / 255
    stored = linear.eight_bit_storage(grid, np.random.default_rng(0), repeats=4)
    changed = stored["pixels changed"].to_numpy()
    assert changed[0] == changed[1] == 0.0
    # above half a level every pixel moves one level, except the ones pushed outside [0, 1]
    # (level 0 pushed down, level 255 pushed up: about 1/256 of the pixels)
    assert changed[2] == pytest.approx(1 - 1 / 256, abs=0.01)
    assert list(stored["largest move (levels)"]) == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert stored["eps (levels of 1/255)"].iloc[2] == pytest.approx(0.51)


def test_fgsm_errors_flip_every_logistic_prediction_once_eps_passes_the_margin():
    w, b = np.array([1.0, 0.0]), np.float64(0.0)
    x = np.array([[0.3, 0.5], [-0.3, 0.5], [0.4, 0.1], [-0.4, 0.9]])
    y = np.array([1, -1, 1, -1])
    assert linear.fgsm_errors((w, b), x, y, 0.2) == (0.0, 0.0)
    assert linear.fgsm_errors((w, b), x, y, 0.35) == (0.0, 0.5)  # margins .3 and .4
    assert linear.fgsm_errors((w, b), x, y, 0.5) == (0.0, 1.0)


def test_fgsm_errors_of_softmax_regression_use_the_closed_form_fgsm():
    W = np.array([[1.0, -1.0], [0.0, 0.0]])  # class 0 when x0 > 0
    b = np.zeros(2)
    x = np.array([[0.3, 0.5], [-0.3, 0.5], [0.1, 0.2]])
    y = np.array([0, 1, 1])
    clean, fgsm = linear.fgsm_errors((W, b), x, y, 0.2)
    assert clean == pytest.approx(1 / 3)  # the third point is on the wrong side
    assert fgsm == pytest.approx(1 / 3)  # .2 < .3: the first two hold, the third stays wrong
    assert linear.fgsm_errors((W, b), x, y, 0.31)[1] == 1.0


@pytest.fixture(scope="module")
def fits():
    x, y = two_blobs()
    return linear.fit_objectives(x, y, [0.05, 0.3], model="logistic", epochs=30, seed=0), x, y


def test_fit_objectives_trains_clean_adversarial_and_l1_at_every_eps(fits):
    fitted, x, y = fits
    assert list(fitted) == [
        ("clean", 0.0),
        ("adversarial", 0.05),
        ("L1 decay", 0.05),
        ("adversarial", 0.3),
        ("L1 decay", 0.3),
    ]
    l1 = lambda key: fitted[key].history["w_l1"][-1]  # noqa: E731
    assert l1(("L1 decay", 0.3)) < l1(("L1 decay", 0.05)) < l1(("clean", 0.0))
    # adversarial training lowers the FGSM error of the clean fit at its own eps
    clean_fgsm = linear.fgsm_errors(fitted[("clean", 0.0)], x, y, 0.3)[1]
    adv_fgsm = linear.fgsm_errors(fitted[("adversarial", 0.3)], x, y, 0.3)[1]
    assert adv_fgsm < clean_fgsm - 0.1


def test_fit_objectives_trains_softmax_regression_too():
    x, y = two_blobs()
    labels = (y > 0).astype(np.int64)
    fitted = linear.fit_objectives(x, labels, [0.1], model="softmax", epochs=5, seed=0)
    assert fitted[("clean", 0.0)].w.shape == (20, 2)
    assert linear.fgsm_errors(fitted[("clean", 0.0)], x, labels, 0.0)[0] < 0.05
    with pytest.raises(ValueError, match="model"):
        linear.fit_objectives(x, y, [0.1], model="svm", epochs=1)


def test_objectives_table_measures_each_fit_at_its_own_eps_and_at_the_attack_eps(fits):
    fitted, x, y = fits
    table = linear.objectives_table(fitted, x, y, 0.3)
    assert list(table.columns) == [
        "train error",
        "test error",
        "FGSM test error (same eps)",
        "FGSM test error (eps 0.3)",
        "‖w‖₁",
    ]
    small = table.loc[("adversarial", 0.05)]
    # a perturbation six times larger fools the fit trained at eps .05 more often
    assert small["FGSM test error (eps 0.3)"] > small["FGSM test error (same eps)"]
    assert table.loc[("clean", 0.0), "test error"] < 0.05


def test_penalty_history_l1_charges_its_full_coefficient_the_adversarial_penalty_fades_C11(fits):
    fitted, x, y = fits
    h = linear.penalty_history(fitted)
    assert set(h["training"]) == {
        "adversarial, eps = 0.05",
        "L1 decay, eps = 0.05",
        "adversarial, eps = 0.3",
        "L1 decay, eps = 0.3",
    }
    assert len(h) == 4 * 30
    for e in (0.05, 0.3):
        rows = h[h["eps"] == f"{e:g}"]
        # L1 decay charges eps·‖w‖₁ at every epoch (its ‖w‖₁ logged apart from the loss), and at
        # the last epoch that is eps times the ‖w‖₁ of the weights the fit returned
        l1_fit, l1 = fitted[("L1 decay", e)], rows[rows["objective"] == "L1 decay"]
        charged = l1["penalty added to the loss"].to_numpy()
        np.testing.assert_allclose(charged, e * np.array(l1_fit.history["w_l1"]), rtol=1e-9)
        assert charged[-1] == pytest.approx(e * np.abs(l1_fit.w).sum(), rel=1e-9)
        # the adversarial objective's coefficient on sign(w) is eps·mean σ(u), and its penalty
        # the rise of the mean softplus, u = eps‖w‖₁ − y(wᵀx + b): from the final weights
        adv_fit, adv = fitted[("adversarial", e)], rows[rows["objective"] == "adversarial"]
        margin = y * (x @ adv_fit.w + adv_fit.b)
        u = e * np.abs(adv_fit.w).sum() - margin
        sigma = 0.5 * (1 + np.tanh(u / 2))
        assert adv["L1 coefficient / eps"].iloc[-1] == pytest.approx(sigma.mean(), rel=1e-9)
        rise = np.mean(np.logaddexp(0, u)) - np.mean(np.logaddexp(0, -margin))
        assert adv["penalty added to the loss"].iloc[-1] == pytest.approx(rise, rel=1e-9)
    adv = h[(h["objective"] == "adversarial") & (h["eps"] == "0.05")]["L1 coefficient / eps"]
    assert adv.iloc[-1] < 0.85 * adv.max()  # fades as margins grow


def test_closed_form_check_matches_the_fgsm_loss_and_the_printed_form_for_y_plus_one_C9():
    rng = np.random.default_rng(1)
    x, y = two_blobs(200, 10, seed=1)
    w, b = rng.standard_normal(10), np.float64(0.2)
    table, numbers = linear.closed_form_check(w, b, x, y, 0.1, corners=5, seed=0)
    assert numbers["closed_form_gap"] < 1e-12
    assert numbers["printed_gap_positive"] < 1e-12
    assert numbers["printed_gap_negative"] > 0.05  # the printed form is wrong for y = -1
    assert numbers["printed_loss_negative"] < numbers["closed_loss_negative"]
    assert numbers["clean_loss"] < numbers["random_corner_loss"] < numbers["closed_loss"]
    assert numbers["w_l1"] == pytest.approx(np.abs(w).sum())
    assert list(table["labels"]) == ["all", "y = +1", "y = -1"]
    positive = table.set_index("labels").loc["y = +1"]
    assert positive["loss at the FGSM point"] == pytest.approx(
        positive["paper's ζ(y(eps‖w‖₁ − wᵀx − b))"], rel=1e-12
    )


def test_l1_charge_is_the_one_eta_bound_for_logistic_and_overshoots_it_for_softmax_C11():
    rng = np.random.default_rng(2)
    x, y = two_blobs(200, 10, seed=2)
    w, b = rng.standard_normal(10), np.float64(0.0)
    logistic = linear.l1_charge((w, b), x, y, 0.1)
    assert logistic["one-η bound"] == logistic["L1 charge"] == pytest.approx(0.1 * np.abs(w).sum())
    # the softplus rises at slope at most 1, so the bound holds
    assert 0 < logistic["rise of the cost"] <= logistic["one-η bound"]
    W, c = rng.standard_normal((10, 5)), np.zeros(5)
    labels = rng.integers(0, 5, 200)
    softmax = linear.l1_charge((W, c), x, labels, 0.1)
    assert 0 < softmax["rise of the cost"] <= softmax["one-η bound"] < softmax["L1 charge"]
    apart = max(np.abs(W[:, j] - W[:, k]).sum() for j in range(5) for k in range(5))
    assert softmax["one-η bound"] <= 0.1 * apart
