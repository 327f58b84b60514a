"""advlib.linear: the paper's linear-model math (Sec. 3 and 5) in closed form equals torch
autograd, the adversarial objective is the loss at the FGSM point (C9), and adversarial training
of logistic regression behaves as Sec. 5 says (C11)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from advlib import linear as L
from advlib.attacks import fgsm
from advlib.data import binary_subset, load_mnist

RTOL = ATOL = 1e-6  # float64 throughout: closed form and autograd agree to rounding


def t(a):
    return torch.from_numpy(np.asarray(a))


@pytest.fixture
def logistic_problem():
    rng = np.random.default_rng(0)
    n, d = 40, 30
    w = rng.normal(size=d)
    b = 0.3
    x = rng.uniform(0, 1, size=(n, d))
    y = np.where(rng.uniform(size=n) < 0.5, -1, 1)
    return w, b, x, y


@pytest.fixture
def softmax_problem():
    rng = np.random.default_rng(1)
    n, d, k = 40, 30, 5
    W, b = rng.normal(size=(d, k)), rng.normal(size=k)
    return W, b, rng.uniform(0, 1, size=(n, d)), rng.integers(0, k, n)


def torch_logistic_loss(w, b, x, y, eps=0.0):
    u = -y * (x @ w + b) + eps * w.abs().sum()
    return F.softplus(u).mean()


def test_logistic_closed_forms_match_autograd(logistic_problem):
    w, b, x, y = logistic_problem
    eps = 0.1
    tw, tx = t(w).requires_grad_(), t(x).requires_grad_()
    tb = torch.tensor(b, dtype=torch.float64).requires_grad_()
    for ours_loss, ours_grad, e in (
        (L.logistic_loss(w, b, x, y), L.logistic_grad(w, b, x, y), 0.0),
        (
            L.logistic_adversarial_loss(w, b, x, y, eps),
            L.logistic_adversarial_grad(w, b, x, y, eps),
            eps,
        ),
    ):
        loss = torch_logistic_loss(tw, tb, tx, t(y).double(), e)
        gw, gb = torch.autograd.grad(loss, (tw, tb))
        np.testing.assert_allclose(float(ours_loss), loss.item(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(ours_grad[0], gw.numpy(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(float(ours_grad[1]), gb.item(), rtol=RTOL, atol=ATOL)
    (gx,) = torch.autograd.grad(torch_logistic_loss(tw, tb, tx, t(y).double()), tx)
    np.testing.assert_allclose(L.logistic_input_grad(w, b, x, y), gx.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(L.logistic_fgsm(w, b, x, y, eps), x + eps * np.sign(gx.numpy()))


def test_softmax_closed_forms_match_autograd(softmax_problem):
    W, b, x, y = softmax_problem
    tW, tb, tx = t(W).requires_grad_(), t(b).requires_grad_(), t(x).requires_grad_()
    loss = F.cross_entropy(tx @ tW + tb, t(y))
    gW, gb, gx = torch.autograd.grad(loss, (tW, tb, tx))
    np.testing.assert_allclose(float(L.softmax_loss(W, b, x, y)), loss.item(), rtol=RTOL, atol=ATOL)
    ours_W, ours_b = L.softmax_grad(W, b, x, y)
    np.testing.assert_allclose(ours_W, gW.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours_b, gb.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(L.softmax_input_grad(W, b, x, y), gx.numpy(), rtol=RTOL, atol=ATOL)
    proba = torch.softmax(tx @ tW + tb, 1).detach().numpy()
    np.testing.assert_allclose(L.softmax_proba(W, b, x), proba, rtol=RTOL, atol=ATOL)
    # The same model as a torch module, attacked by advlib.attacks.fgsm: identical examples.
    model = nn.Linear(30, 5).double()
    with torch.no_grad():
        model.weight.copy_(t(W).T)
        model.bias.copy_(t(b))
    for clip in (None, (0.0, 1.0)):
        ours = L.softmax_fgsm(W, b, x, y, 0.1, clip=clip)
        np.testing.assert_array_equal(ours, fgsm(model, t(x), t(y), 0.1, clip=clip).numpy())


def test_softmax_regression_is_logistic_regression_for_two_classes(logistic_problem):
    """With W = [0, w] and b = [0, b], softmax regression's loss is the logistic loss."""
    w, b, x, y = logistic_problem
    W, bb = np.stack([np.zeros_like(w), w], axis=1), np.array([0.0, b])
    np.testing.assert_allclose(L.softmax_loss(W, bb, x, (y + 1) // 2), L.logistic_loss(w, b, x, y))


@pytest.mark.parametrize("label", [-1, 1])
def test_adversarial_objective_is_the_loss_at_the_fgsm_point(logistic_problem, label):
    """C9: softplus(-y(wᵀx + b) + eps‖w‖₁) is the loss at x - eps·y·sign(w), for both labels,
    and no other point of the eps-ball does worse."""
    w, b, x, _ = logistic_problem
    y = np.full(x.shape[0], label)
    eps = 0.2
    adv = L.logistic_fgsm(w, b, x, y, eps)
    closed = float(L.logistic_adversarial_loss(w, b, x, y, eps))
    assert closed == pytest.approx(float(L.logistic_loss(w, b, adv, y)), rel=1e-12)
    rng = np.random.default_rng(2)
    for _ in range(20):
        other = x + eps * rng.choice([-1.0, 1.0], size=x.shape)
        assert float(L.logistic_loss(w, b, other, y)) <= closed
    # The objective as the paper prints it, softplus(y(eps‖w‖₁ - wᵀx - b)), agrees only for y = +1.
    printed = np.mean(np.logaddexp(0, y * (eps * np.abs(w).sum() - x @ w - b)))
    assert (printed == pytest.approx(closed, rel=1e-12)) == (label == 1)


def test_per_example_eps_gives_each_row_the_closed_form_of_its_own_eps():
    """n = d = 8, so that eps applied along the columns instead of the rows would not raise."""
    rng = np.random.default_rng(3)
    w, x, y = rng.normal(size=8), rng.uniform(size=(8, 8)), np.array([1, -1, 1, 1, -1, -1, 1, 1])
    eps = np.linspace(0.0, 0.35, 8)
    adv = L.logistic_fgsm(w, 0.0, x, y, eps)
    rows = np.concatenate(
        [L.logistic_fgsm(w, 0.0, x[i : i + 1], y[i : i + 1], float(eps[i])) for i in range(8)]
    )
    np.testing.assert_array_equal(adv, rows)
    W = rng.normal(size=(8, 3))
    labels = np.arange(8) % 3
    adv = L.softmax_fgsm(W, np.zeros(3), x, labels, eps)
    rows = np.concatenate(
        [
            L.softmax_fgsm(W, np.zeros(3), x[i : i + 1], labels[i : i + 1], float(eps[i]))
            for i in range(8)
        ]
    )
    np.testing.assert_array_equal(adv, rows)
    per_row = [
        float(L.logistic_adversarial_loss(w, 0.0, x[i : i + 1], y[i : i + 1], float(eps[i])))
        for i in range(8)
    ]
    assert float(L.logistic_adversarial_loss(w, 0.0, x, y, eps)) == pytest.approx(np.mean(per_row))


def test_linear_perturbation_grows_with_dimension():
    """C1: η = eps·sign(w) moves wᵀx by eps‖w‖₁, which grows linearly with the dimension n."""
    rng = np.random.default_rng(4)
    eps = 0.01
    changes = []
    for n in (100, 1_000, 10_000):
        w = rng.normal(size=n)
        eta = L.sign_perturbation(w, eps)
        # the closed form eps·‖w‖₁ against the move of wᵀx itself, computed from x and x + η
        x = rng.uniform(size=n)
        assert float(L.activation_change(w, eps)) == pytest.approx(w @ (x + eta) - w @ x)
        changes.append(float(L.activation_change(w, eps)) / n)
    np.testing.assert_allclose(changes, eps * np.sqrt(2 / np.pi), rtol=0.1)  # eps·m, m = E|w|


def test_l1_penalty_and_subgradient_match_autograd():
    W = np.array([[1.5, -2.0], [0.0, 0.25]])
    tW = t(W).requires_grad_()
    (g,) = torch.autograd.grad(0.1 * tW.abs().sum(), tW)
    assert float(L.l1_penalty(W, 0.1)) == pytest.approx(0.375)
    np.testing.assert_allclose(L.l1_grad(W, 0.1), g.numpy())


def test_stable_at_large_margins():
    """Softplus and logsumexp neither overflow nor lose the loss at margins of 1e4."""
    w, x = np.array([1.0]), np.array([[1e4], [-1e4]])
    y = np.array([1, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        assert float(L.logistic_loss(w, 0.0, x, y)) == pytest.approx(5e3)
        gw, _ = L.logistic_grad(w, 0.0, x, y)
        assert gw[0] == pytest.approx(5e3)
        W = np.array([[1.0, -1.0]])
        assert float(L.softmax_loss(W, np.zeros(2), x, np.array([0, 0]))) == pytest.approx(1e4)


@pytest.fixture(scope="module")
def threes_and_sevens():
    x, y = binary_subset(*load_mnist("train", source="embedded"))
    xt, yt = binary_subset(*load_mnist("test", source="embedded"))
    return x, y, xt, yt


def fgsm_error(fit, xt, yt, eps):
    adv = L.logistic_fgsm(fit.w, fit.b, xt, yt, eps)
    return L.error_rate(L.logistic_predict(fit.w, fit.b, adv), yt)


def test_adversarial_training_lowers_fgsm_error(threes_and_sevens):
    """Sec. 5 on MNIST 3s vs 7s: training on the closed-form adversarial objective lowers the
    FGSM error far below clean training's, at some cost in clean error."""
    x, y, xt, yt = threes_and_sevens
    eps = 0.2
    clean = L.fit_logistic(x, y, objective="clean", epochs=10)
    adv = L.fit_logistic(x, y, objective="adversarial", eps=eps, epochs=10)
    assert L.error_rate(L.logistic_predict(clean.w, clean.b, xt), yt) < 0.05
    assert L.error_rate(L.logistic_predict(adv.w, adv.b, xt), yt) < 0.1
    assert fgsm_error(clean, xt, yt, eps) > 0.5
    assert fgsm_error(adv, xt, yt, eps) < fgsm_error(clean, xt, yt, eps) - 0.25
    assert len(adv.history["loss"]) == 10 and adv.history["loss"][-1] < adv.history["loss"][0]


def test_training_is_seeded(threes_and_sevens):
    x, y, _, _ = threes_and_sevens
    runs = [L.fit_logistic(x, y, objective="l1", epochs=2, seed=s) for s in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0].w, runs[1].w)
    assert runs[0].history == runs[1].history
    assert not np.array_equal(runs[0].w, runs[2].w)
    soft = [
        L.fit_softmax(x, (y + 1) // 2, objective="adversarial", epochs=1, seed=5) for _ in range(2)
    ]
    np.testing.assert_array_equal(soft[0].w, soft[1].w)


def test_adversarial_penalty_fades_with_margin_l1_does_not():
    """C11: on separable data the penalty weight eps·mean σ(u) of the adversarial objective
    falls as the margins grow; L1 decay keeps its coefficient."""
    rng = np.random.default_rng(0)
    n, d = 400, 20
    y = np.where(np.arange(n) % 2 == 0, 1, -1)
    x = rng.normal(0.0, 0.3, size=(n, d)) + 0.8 * y[:, None] * np.linspace(1, 0, d)
    adv = L.fit_logistic(x, y, objective="adversarial", eps=0.05, epochs=30, lr=0.5, batch_size=50)
    l1 = L.fit_logistic(x, y, objective="l1", l1=0.05, epochs=30, lr=0.5, batch_size=50)
    weight = adv.history["penalty_weight"]
    assert all(0 < v < 0.05 for v in weight)
    assert weight[-1] < 0.25 * weight[0]
    assert adv.history["penalty"][-1] < 0.25 * adv.history["penalty"][0]
    # L1's penalty is l1·‖w‖₁ at every epoch (objective and weights logged apart), and it grows
    np.testing.assert_allclose(
        l1.history["penalty"], 0.05 * np.array(l1.history["w_l1"]), rtol=1e-9
    )
    assert l1.history["penalty"][-1] > l1.history["penalty"][0]


def test_closed_forms_are_written_once_for_any_array_namespace(logistic_problem, softmax_problem):
    """The same code on torch tensors (through array-api-compat, a CPU stand-in for CuPy) gives
    NumPy's numbers: no NumPy-only call hides in the closed forms or the trainer."""
    w, b, x, y = logistic_problem
    W, bb, xs, ys = softmax_problem
    for f in (
        lambda a: L.logistic_adversarial_grad(a(w), b, a(x), a(y), a(np.full(len(y), 0.1)))[0],
        lambda a: L.logistic_fgsm(a(w), b, a(x), a(y), 0.1, clip=(0.0, 1.0)),
        lambda a: L.softmax_grad(a(W), a(bb), a(xs), a(ys))[0],
        lambda a: L.softmax_fgsm(a(W), a(bb), a(xs), a(ys), 0.1),
        lambda a: L.fit_logistic(a(x), a(y), objective="adversarial", eps=0.1, epochs=2).w,
        lambda a: L.fit_softmax(a(xs), a(ys), objective="l1", epochs=2).w,
    ):
        np.testing.assert_allclose(np.asarray(f(t)), f(np.asarray), rtol=1e-10, atol=1e-12)


def test_cupy_path_matches_numpy(logistic_problem, softmax_problem):
    """The same code on CuPy arrays gives NumPy's numbers (needs CuPy and a GPU)."""
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    if L.backend("auto") is not cupy:
        pytest.skip("CuPy is installed but no GPU is visible")
    w, b, x, y = logistic_problem
    W, bb, xs, ys = softmax_problem
    g = cupy.asarray
    np.testing.assert_allclose(
        L.to_numpy(L.logistic_adversarial_grad(g(w), b, g(x), g(y), 0.1)[0]),
        L.logistic_adversarial_grad(w, b, x, y, 0.1)[0],
        rtol=1e-10,
    )
    np.testing.assert_array_equal(
        L.to_numpy(L.softmax_fgsm(g(W), g(bb), g(xs), g(ys), 0.1)),
        L.softmax_fgsm(W, bb, xs, ys, 0.1),
    )
    fit_np = L.fit_logistic(x, y, objective="adversarial", eps=0.1, epochs=2, batch_size=8)
    fit_cp = L.fit_logistic(g(x), g(y), objective="adversarial", eps=0.1, epochs=2, batch_size=8)
    np.testing.assert_allclose(L.to_numpy(fit_cp.w), fit_np.w, rtol=1e-8)
