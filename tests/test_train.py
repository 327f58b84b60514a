"""advlib.train: the training loop (clean, adversarial, noise, hidden layer, L1), its measures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from advlib import models, train
from advlib.attacks import fgsm


def _data(n=200, seed=0, low=0.0):
    """Random 'digits' in [low, 1] with labels; numpy, as load_mnist returns them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, 1.0, size=(n, 784)).astype(np.float32)
    return x, rng.integers(0, 10, size=n).astype(np.int64)


def _net(seed=0, **kwargs):
    torch.manual_seed(seed)
    return models.maxout_mlp(width=32, pieces=2, **kwargs)


class _Recorder:
    """Counts forward passes through the first maxout layer and backward passes through the
    output layer (every pass of the network goes through both) and keeps the inputs the network
    was called on."""

    def __init__(self, net):
        self.forward = self.backward = 0
        self.inputs, self.dropped = [], []
        first = net.hidden[0]
        first.register_forward_hook(self._on_forward)
        net.out.register_full_backward_hook(self._on_backward)
        net.register_forward_hook(lambda m, args, out: self.inputs.append(args[0].detach().clone()))
        net.dropouts[0].register_forward_hook(lambda m, args, out: self.dropped.append(out == 0))

    def _on_forward(self, *_):
        self.forward += 1

    def _on_backward(self, *_):
        self.backward += 1


@pytest.mark.parametrize(
    "options, passes",
    [
        (dict(alpha=None), 1),
        (dict(alpha=0.5), 2),  # the default: FGSM direction from the clean half's backward
        (dict(alpha=0.5, fgsm_dropout="off"), 3),
        (dict(alpha=0.5, perturbation="noise-sign"), 2),
        (dict(alpha=0.5, layer=1), 2),
        (dict(alpha=0.5, layer=2, fgsm_dropout="off"), 3),
    ],
)
def test_adversarial_step_costs_two_passes_not_three(options, passes):
    # C13 at 2 passes: the clean half's backward yields ∇ₓJ and the parameter gradients together.
    x, y = _data(200)
    net = _net()
    seen = _Recorder(net)
    history = train.fit(net, x, y, epochs=1, batch_size=100, **options)
    assert (seen.forward, seen.backward) == (2 * passes, 2 * passes)  # two steps
    assert history["passes_per_step"] == passes


def test_same_mask_fgsm_leaves_the_dropped_pixels_unperturbed():
    # The default direction is ∇ₓJ under the clean half's dropout mask: pixels the input dropout
    # zeroed have zero gradient, so sign(0) = 0 leaves them as they were. With dropout off for
    # the direction every pixel moves by ±eps. (Pixels in [.5, 1]: a zero after dropout means
    # dropped.)
    x, y = _data(100, low=0.5)
    for fgsm_dropout in ("same", "off"):
        net = _net()
        seen = _Recorder(net)
        train.fit(net, x, y, epochs=1, alpha=0.5, fgsm_dropout=fgsm_dropout)
        clean, adversarial = seen.inputs[-2], seen.inputs[-1]
        eta = adversarial - clean
        moved = (eta.abs() - 0.25).abs() < 1e-6
        assert bool((moved | (eta == 0)).all())
        if fgsm_dropout == "same":
            dropped = seen.dropped[0]
            assert 0.15 < float(dropped.float().mean()) < 0.25
            assert torch.equal(eta == 0, dropped)
        else:
            assert bool(moved.all())


def test_noise_training_perturbs_by_the_same_max_norm():
    # C21: ±eps sign noise and U(−eps, eps) noise as the baselines of adversarial training.
    x, y = _data(100)
    for perturbation in ("noise-sign", "noise-uniform"):
        net = _net()
        seen = _Recorder(net)
        train.fit(net, x, y, epochs=1, alpha=0.5, eps=0.1, perturbation=perturbation)
        eta = seen.inputs[1] - seen.inputs[0]
        assert float(eta.abs().max()) <= 0.1 + 1e-6
        magnitudes = eta.abs()
        if perturbation == "noise-sign":
            assert torch.allclose(magnitudes, torch.full_like(eta, 0.1))
            assert 0.45 < float((eta > 0).float().mean()) < 0.55
        else:
            assert 0.045 < float(magnitudes.mean()) < 0.055  # E|U(−.1, .1)| = .05


def test_hidden_layer_perturbation_moves_that_layer_by_eps():
    # C22: with dropout off, features(x, l) is the same in both halves, so what reaches layer l's
    # successor differs by exactly eps·sign(∇_h J).
    x, y = _data(100)
    net = _net(dropout=(0.0, 0.0))
    inputs = []
    net.hidden[1].register_forward_hook(lambda m, args, out: inputs.append(args[0].detach()))
    train.fit(net, x, y, epochs=1, alpha=0.5, eps=0.5, layer=1)
    eta = inputs[1] - inputs[0]
    assert torch.allclose(eta.abs(), torch.full_like(eta, 0.5), atol=1e-5)


def test_training_perturbations_are_unclipped_unless_asked():
    # C3: the paper never clipped x + eta to [0, 1].
    x, y = _data(100)
    for clip, below_zero in ((None, True), ((0.0, 1.0), False)):
        net = _net()
        seen = _Recorder(net)
        train.fit(net, x, y, epochs=1, alpha=0.5, clip=clip)
        adversarial = seen.inputs[1]
        assert bool((adversarial < 0).any()) == below_zero
        assert bool((adversarial > 1).any()) == below_zero


def test_seeded_training_is_bit_reproducible():
    x, y = _data(300)
    runs = []
    for seed in (0, 0, 1):
        net = _net()
        history = train.fit(net, x, y, epochs=2, alpha=0.5, seed=seed, valid=0.2)
        runs.append((net.state_dict(), [row["loss"] for row in history["epochs"]]))
    (a, loss_a), (b, loss_b), (c, loss_c) = runs
    assert all(torch.equal(a[k], b[k]) for k in a) and loss_a == loss_b
    assert not all(torch.equal(a[k], c[k]) for k in a) and loss_a != loss_c


def test_logging_validation_and_test_curves_does_not_change_the_weights():
    # The zoo relies on it: a model trained with curves serves the recipe without them.
    x, y = _data(200)
    xt, yt = _data(50, seed=1)
    plain, logged = _net(), _net()
    train.fit(plain, x, y, epochs=2, alpha=0.5)
    train.fit(logged, x, y, epochs=2, alpha=0.5, test=(xt, yt))
    assert all(
        torch.equal(plain.state_dict()[k], logged.state_dict()[k]) for k in plain.state_dict()
    )


def test_fit_leaves_the_global_rng_and_model_mode_as_documented():
    x, y = _data(100)
    net = _net()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train.fit(net, x, y, epochs=1, alpha=0.5, perturbation="noise-uniform")
    assert torch.equal(torch.rand(3), expected)
    assert not net.training  # returned in eval mode


def test_max_norm_holds_after_training():
    # (M): every unit's weight vector has norm <= 1.9365 after each step. A large learning rate
    # makes the constraint bind, so the test sees it doing something.
    x, y = _data(200)
    net = _net()
    train.fit(net, x, y, epochs=3, lr=0.05, alpha=0.5)
    layers = (net.hidden[0].linear, net.hidden[1].linear, net.out)
    norms = torch.cat([layer.weight.detach().norm(dim=1) for layer in layers])
    assert float(norms.max()) <= models.MAX_NORM + 1e-4
    assert float(norms.max()) >= models.MAX_NORM - 1e-4


def test_first_layer_l1_shrinks_first_layer_weights_only():
    # C12: the L1 penalty applies to the first layer's weights.
    x, y = _data(200)
    plain, decayed = _net(), _net()
    train.fit(plain, x, y, epochs=3)
    train.fit(decayed, x, y, epochs=3, l1=0.0025)
    l1 = [float(n.hidden[0].linear.weight.detach().abs().sum()) for n in (plain, decayed)]
    assert l1[1] < 0.5 * l1[0]


def test_early_stopping_keeps_the_best_epoch_then_retrains_on_all_data():
    # C15: early stopping on adversarial validation error, then training afresh on all the
    # training data for the chosen number of epochs.
    x, y = _data(300)
    net = models.softmax_regression()
    initial = {k: v.clone() for k, v in net.state_dict().items()}
    history = train.fit(
        net,
        x,
        y,
        epochs=6,
        lr=0.05,
        valid=0.2,
        early_stopping="adversarial",
        patience=2,
        retrain=True,
        seed=3,
    )
    fit_rows = [r for r in history["epochs"] if r["phase"] == "fit"]
    retrain_rows = [r for r in history["epochs"] if r["phase"] == "retrain"]
    errors = [r["valid_adv_error"] for r in fit_rows]
    best = history["best_epoch"]
    assert best == 1 + int(np.argmin(errors))
    assert len(fit_rows) == 6 or len(fit_rows) == best + 2  # ran out, or stopped by patience
    assert [r["epoch"] for r in retrain_rows] == list(range(1, best + 1))
    assert all("valid_error" not in r for r in retrain_rows)
    # the retrained weights are those of a fresh run on all 300 digits for `best` epochs
    from advlib.data import validation_split

    xf, yf, xv, yv = validation_split(x, y, 0.2, seed=3)
    fresh = models.softmax_regression()
    fresh.load_state_dict(initial)
    train.fit(
        fresh, np.concatenate([xf, xv]), np.concatenate([yf, yv]), epochs=best, lr=0.05, seed=3
    )
    assert all(torch.equal(net.state_dict()[k], fresh.state_dict()[k]) for k in initial)


def test_history_logs_curves_for_validation_and_test_sets():
    x, y = _data(200)
    xt, yt = _data(50, seed=1)
    history = train.fit(_net(), x, y, epochs=2, valid=(xt, yt), test=(xt, yt))
    assert [r["epoch"] for r in history["epochs"]] == [1, 2]
    row = history["epochs"][-1]
    assert {
        "loss",
        "seconds",
        "valid_error",
        "valid_adv_error",
        "test_error",
        "test_adv_error",
    } <= set(row)
    assert row["valid_error"] == row["test_error"]
    assert history["best_epoch"] is None
    import json

    json.dumps(history)  # JSON-able, for the cache


def test_evaluate_reports_error_and_confidence_on_clean_and_fgsm_examples():
    x, y = _data(100)
    torch.manual_seed(0)
    net = models.softmax_regression()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for eps, clip in ((0.0, (0.0, 1.0)), (0.1, None), (0.1, (0.0, 1.0))):
        report = train.evaluate(net, x, y, eps, clip=clip, batch_size=30)
        x_eval = fgsm(net, xt, yt, eps, clip=clip) if eps else xt
        with torch.no_grad():
            p = torch.softmax(net(x_eval), 1).double()
        confidence, pred = p.max(1)
        wrong = pred != yt
        assert report["n"] == 100
        assert report["error"] == pytest.approx(float(wrong.double().mean()))
        assert report["confidence"] == pytest.approx(float(confidence.mean()), rel=1e-5)
        assert report["mistake_confidence"] == pytest.approx(
            float(confidence[wrong].mean()), rel=1e-5
        )
    # no mistakes: mistake confidence is undefined
    perfect = train.evaluate(net, x[:5], net(xt[:5]).argmax(1).numpy())
    assert perfect["error"] == 0 and math.isnan(perfect["mistake_confidence"])


def test_predict_returns_numpy_argmax_max_and_probabilities():
    x, _ = _data(30)
    torch.manual_seed(0)
    net = models.rbf_network()
    pred, confidence, probs = train.predict(net, x, batch_size=7)
    assert pred.shape == (30,) and confidence.shape == (30,) and probs.shape == (30, 10)
    assert np.array_equal(pred, probs.argmax(1)) and np.allclose(confidence, probs.max(1))
    assert net.training  # predict restores the mode it found


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(epochs=0), "epochs"),
        (dict(epochs=1, alpha=0.0), "alpha"),
        (dict(epochs=1, alpha=1.0), "alpha"),
        (dict(epochs=1, eps=-0.1), "eps"),
        (dict(epochs=1, perturbation="pgd"), "perturbation"),
        (dict(epochs=1, fgsm_dropout="on"), "fgsm_dropout"),
        (dict(epochs=1, optimizer="rmsprop"), "optimizer"),
        (dict(epochs=1, early_stopping="clean"), "validation set"),
        (dict(epochs=1, valid=0.2, retrain=True), "retrain"),
        (dict(epochs=1, valid=1.5), "fraction"),
        (dict(epochs=1, layer=3, alpha=0.5), "layer"),
        (dict(epochs=1, l1=-1.0), "l1"),
        (dict(epochs=1, clip=(1.0, 0.0)), "clip"),
        (dict(epochs=1, layer=1, clip=(0.0, 1.0)), "input perturbations"),
    ],
)
def test_fit_arguments_are_checked(options, message):
    x, y = _data(20)
    with pytest.raises((ValueError, TypeError), match=message):
        train.fit(_net(), x, y, **options)


def test_fit_checks_data_and_model_capabilities():
    x, y = _data(20)
    with pytest.raises(ValueError, match="shape"):
        train.fit(_net(), x, y[:10], epochs=1)
    with pytest.raises(ValueError, match="784 features"):
        train.fit(_net(), x[:, :100], y, epochs=1)
    with pytest.raises(ValueError, match="not a layer of SoftmaxRegression"):
        train.fit(models.softmax_regression(), x, y, epochs=1, alpha=0.5, layer=1)
    with pytest.raises(ValueError, match="first_layer"):
        train.fit(models.rbf_network(), x, y, epochs=1, l1=0.01)
