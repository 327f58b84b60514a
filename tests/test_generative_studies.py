"""What chapter 9 measures on the Gaussian stand-in for a generative model (advlib.generative):
saturated posteriors, the cross-entropy trap, the smoothing sweep, log p(x) of FGSM examples."""

from __future__ import annotations

import numpy as np
import pytest

from advlib import generative
from advlib.data import load_dataset
from advlib.measure import adversarial, evaluate


@pytest.fixture(scope="module")
def digits():
    x, y = load_dataset("mnist-embedded", "train")
    xt, yt = load_dataset("mnist-embedded", "test")
    return x[:2000], y[:2000], xt[:300], yt[:300]


def test_saturated_share_is_high_on_digits_and_nil_between_two_close_gaussians(digits):
    x, y, xt, _ = digits
    model = generative.gaussian_classifier(x, y)
    assert generative.saturated_share(model, xt) > 0.3  # margins of tens of nats
    rng = np.random.default_rng(0)
    close = rng.normal(0.5, 0.2, (2000, 5)).astype(np.float32)
    labels = np.arange(2000) % 10  # ten classes of the same distribution in five dimensions
    blurred = generative.gaussian_classifier(close, labels)
    assert generative.saturated_share(blurred, close) == 0.0


def test_fgsm_through_the_cross_entropy_is_weaker_than_through_the_log_odds(digits):
    """The numerical trap: autograd's p − e_y loses the true class's term where p_y = 1."""
    x, y, xt, yt = digits
    log_odds = evaluate(generative.gaussian_classifier(x, y), xt, yt, 0.25, clip=None)["error"]
    cross = generative.cross_entropy_fgsm_error(x, y, xt, yt, 0.25)
    assert cross < log_odds - 0.1


def test_smoothing_sweep_measures_both_covariances_clean_and_under_fgsm(digits):
    x, y, xt, yt = digits
    sweep = generative.smoothing_sweep(x, y, xt, yt, 0.25, smoothings=(0.003, 0.03))
    assert len(sweep) == 2 * 2 * 2
    assert sorted(sweep["log10 var_smoothing"].unique()) == pytest.approx(
        [np.log10(0.003), np.log10(0.03)]
    )
    wide = sweep.pivot_table(index=["covariance", "var_smoothing"], columns="data", values="error")
    assert (wide["FGSM"] > 2 * wide["clean"]).all()  # FGSM fools every one of them


def test_fgsm_examples_are_far_less_probable_under_the_model(digits):
    x, y, xt, yt = digits
    model = generative.gaussian_classifier(x, y)
    clean, adv = generative.log_likelihoods(model, xt, adversarial(model, xt, yt, 0.25))
    assert clean.shape == adv.shape == (300,)
    assert np.median(adv) < np.median(clean) - 10
