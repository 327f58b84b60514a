"""advlib.generative: the class-conditional Gaussian that stands in for the MP-DBM (claim C26)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from advlib.attacks import fgsm
from advlib.generative import gaussian_classifier
from advlib.measure import predict


@pytest.fixture(scope="module")
def toy():
    """Three well-separated classes in 5 dimensions, unequal sizes (so priors differ)."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1, (3, 5))
    sizes = (30, 50, 70)
    x = np.concatenate(
        [c + 0.1 * rng.standard_normal((n, 5)) for c, n in zip(centres, sizes, strict=True)]
    )
    y = np.concatenate([np.full(n, k) for k, n in enumerate(sizes)])
    return x.astype(np.float32), y.astype(np.int64)


@pytest.mark.parametrize("covariance", ["shared", "per-class"])
def test_fit_is_the_closed_form_maximum_likelihood(toy, covariance):
    x, y = toy
    s = 0.01
    m = gaussian_classifier(x, y, covariance=covariance, var_smoothing=s, num_classes=3)
    x64 = x.astype(np.float64)
    means = np.stack([x64[y == k].mean(axis=0) for k in range(3)])
    if covariance == "shared":
        pooled = np.concatenate([x64[y == k] - means[k] for k in range(3)])
        var = np.tile((pooled**2).mean(axis=0), (3, 1))
    else:
        var = np.stack([x64[y == k].var(axis=0) for k in range(3)])
    np.testing.assert_allclose(m.means.numpy(), means, rtol=1e-5)
    np.testing.assert_allclose(m.variances.numpy(), var + s, rtol=1e-5)
    np.testing.assert_allclose(m.log_priors.exp().numpy(), np.bincount(y) / len(y), rtol=1e-6)
    assert not list(m.parameters()), "fitted in closed form: nothing for an optimiser to move"


def test_posterior_is_bayes_rule_with_gaussian_densities(toy):
    x, y = toy
    m = gaussian_classifier(x, y, covariance="per-class", var_smoothing=0.01, num_classes=3)
    xt = torch.as_tensor(x[:7]).double()
    joint = torch.stack(
        [
            torch.distributions.Normal(m.means[k].double(), m.variances[k].double().sqrt())
            .log_prob(xt)
            .sum(dim=1)
            + m.log_priors[k].double()
            for k in range(3)
        ],
        dim=1,
    )
    expected = torch.softmax(joint, dim=1).numpy()
    _, _, probs = predict(m, x[:7])
    np.testing.assert_allclose(probs, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        m.log_likelihood(xt.float()).numpy(), torch.logsumexp(joint, dim=1).numpy(), rtol=1e-4
    )


def test_shared_covariance_gives_log_odds_linear_in_x_and_per_class_does_not(toy):
    x, y = toy
    a, b = torch.as_tensor(x[:1]), torch.as_tensor(x[-1:])

    def log_odds(model, z):
        lp = torch.log_softmax(model(z), dim=1)
        return (lp[:, 0] - lp[:, 2]).item()

    def bend(model):  # how far log-odds at the midpoint are from the mean of the ends
        return abs(log_odds(model, (a + b) / 2) - (log_odds(model, a) + log_odds(model, b)) / 2)

    shared = gaussian_classifier(x, y, covariance="shared", num_classes=3)
    per_class = gaussian_classifier(x, y, covariance="per-class", num_classes=3)
    assert bend(shared) < 1e-3 * max(1.0, abs(log_odds(shared, a)))
    assert bend(per_class) > 1.0


def test_fgsm_attacks_the_generative_classifier(toy):
    x, y = toy
    m = gaussian_classifier(x, y, num_classes=3)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    adv = fgsm(m, xt, yt, 0.3, clip=None)
    clean_nll = torch.nn.functional.cross_entropy(m(xt), yt)
    adv_nll = torch.nn.functional.cross_entropy(m(adv), yt)
    assert adv_nll > clean_nll + 1.0


def test_var_smoothing_keeps_constant_pixels_finite():
    x = np.zeros((20, 4), dtype=np.float32)
    x[:, 0] = np.linspace(0, 1, 20)  # one pixel varies, three never do (MNIST's borders)
    y = np.repeat([0, 1], 10)
    m = gaussian_classifier(x, y, num_classes=2, var_smoothing=1e-3)
    scores = m(torch.as_tensor(x))
    assert torch.isfinite(scores).all()
    assert math.isclose(float(m.variances.min()), 1e-3, rel_tol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(covariance="full"), "covariance"),
        (dict(attack_loss="hinge"), "attack_loss"),
        (dict(var_smoothing=0.0), "var_smoothing"),
        (dict(var_smoothing=float("nan")), "var_smoothing"),
        (dict(num_classes=4), "none for \\[3\\]"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(toy, kwargs, match):
    x, y = toy
    kwargs = {"num_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        gaussian_classifier(x, y, **kwargs)


def test_fgsm_direction_is_the_cross_entropy_gradient_even_where_p_y_rounds_to_one(toy):
    """With margins of many nats p_y == 1.0 in float32 and autograd's cross-entropy gradient
    loses the true class's term; the log-odds J keeps the exact direction (shared covariance:
    ∇ₓ(−log p_y) = Σ_{k≠y} q_k (μ_k − μ_y) / σ², q the softmax of the other classes)."""
    x, y = toy
    m = gaussian_classifier(x, y, covariance="shared", var_smoothing=1e-3, num_classes=3)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    with torch.no_grad():
        scores = m(xt)
    assert (torch.softmax(scores, dim=1).max(dim=1).values == 1.0).float().mean() > 0.5
    s64, mu, var = scores.double(), m.means.double(), m.variances.double()
    others = s64.masked_fill(torch.nn.functional.one_hot(yt, 3).bool(), float("-inf"))
    q = torch.softmax(others, dim=1)  # (n, 3), 0 at the true class
    exact = (q @ mu - mu[yt]) / var[0]  # (n, d)
    step = fgsm(m, xt, yt, 1.0, clip=None) - xt
    assert torch.equal(step.sign(), exact.sign().float())
    plain = gaussian_classifier(
        x, y, covariance="shared", var_smoothing=1e-3, num_classes=3, attack_loss="cross-entropy"
    )
    naive = fgsm(plain, xt, yt, 1.0, clip=None) - xt
    assert not torch.equal(naive.sign(), exact.sign().float())  # the artefact it avoids
