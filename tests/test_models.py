"""advlib.models: the paper's maxout, softmax, RBF and ensemble classifiers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from advlib import models
from advlib.attacks import fgsm, model_loss


def _digits(n=16, seed=123):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_maxout_network_has_the_maxout_papers_shape():
    # (M): two maxout layers of 240 units × 5 pieces, a 10-way output, dropout .2 / .5.
    net = models.maxout_mlp()
    assert (net.in_features, net.num_classes) == (784, 10)
    assert [tuple(h.linear.weight.shape) for h in net.hidden] == [(1200, 784), (1200, 240)]
    assert tuple(net.out.weight.shape) == (10, 240)
    assert [d.p for d in net.dropouts] == [0.2, 0.5, 0.5]
    x, _ = _digits()
    scores = net.eval()(x)
    assert scores.shape == (16, 10)
    assert torch.allclose(net.probs(scores).sum(1), torch.ones(16))
    wide = models.maxout_mlp(width=1600)
    assert tuple(wide.hidden[1].linear.weight.shape) == (8000, 1600)


def test_maxout_unit_is_the_max_of_its_pieces():
    """Unit j is the max of the affine maps of rows k·width + j, k = 0 ... pieces - 1 (piece-major
    rows), written out one unit and one piece at a time."""
    layer = models.Maxout(784, width=3, pieces=4)
    x, _ = _digits(5)
    w, b = layer.linear.weight.detach(), layer.linear.bias.detach()
    expected = torch.stack(
        [
            torch.stack([x @ w[3 * k + j] + b[3 * k + j] for k in range(4)]).amax(dim=0)
            for j in range(3)
        ],
        dim=1,
    )
    torch.testing.assert_close(layer(x).detach(), expected, rtol=1e-5, atol=1e-6)


def test_hidden_layer_split_recomposes_the_forward_pass():
    # C22 perturbs hidden layer l: forward_from(l, features(x, l)) must be the plain forward.
    torch.manual_seed(0)
    net = models.maxout_mlp().eval()
    x, _ = _digits()
    for layer in (0, 1, 2):
        h = net.features(x, layer)
        assert h.shape == ((16, 784) if layer == 0 else (16, 240))
        assert torch.equal(net.forward_from(layer, h), net(x))
    # and a perturbation there changes the scores
    h = net.features(x, 2)
    assert not torch.equal(net.forward_from(2, h + 0.25), net(x))


def test_max_norm_caps_every_weight_row_and_leaves_short_rows_alone():
    torch.manual_seed(0)
    net = models.maxout_mlp(width=8, pieces=2)
    with torch.no_grad():
        for linear in (net.hidden[0].linear, net.hidden[1].linear, net.out):
            linear.weight.mul_(1000)
            linear.weight[0] = 0.01  # short row: must stay as it is
    net.apply_constraints()
    for linear in (net.hidden[0].linear, net.hidden[1].linear, net.out):
        norms = linear.weight.norm(dim=1)
        assert torch.allclose(norms[1:], torch.full_like(norms[1:], models.MAX_NORM))
        assert torch.equal(linear.weight[0], torch.full_like(linear.weight[0], 0.01))


def test_sigmoid_outputs_are_independent_units_trained_with_binary_cross_entropy():
    # C28: ten sigmoid units; probabilities need not sum to one; J is BCE over the ten units.
    net = models.maxout_mlp(output="sigmoid")
    _, y = _digits()
    scores = torch.randn(16, 10, generator=torch.Generator().manual_seed(1)) * 3
    p = net.probs(scores)
    assert torch.allclose(p, torch.sigmoid(scores))
    assert not torch.allclose(p.sum(1), torch.ones(16))
    p64, target = p.double(), F.one_hot(y, 10).double()
    naive = -(target * torch.log(p64) + (1 - target) * torch.log1p(-p64)).sum(1).mean()
    assert float(net.loss(scores, y)) == pytest.approx(float(naive), rel=1e-5)
    # what the attacks differentiate is that BCE, not the softmax cross-entropy of the scores
    assert float(model_loss(net, scores, y)) == pytest.approx(float(naive), rel=1e-5)
    assert float(F.cross_entropy(scores, y)) != pytest.approx(float(naive), rel=1e-2)


def _rbf_naive(net, x):
    """p_k = exp((x − μ_k)ᵀ β_k (x − μ_k)) with β_k = −diag(softplus(ρ_k)), one unit at a time."""
    beta = -F.softplus(net.rho.double())
    diff = x.double()[:, None, :] - net.mu.double()[None]
    return torch.exp((diff * diff * beta[None]).sum(-1))


def test_rbf_units_match_the_papers_formula_and_lie_in_the_unit_interval():
    # C23: p_k = exp((x − μ_k)ᵀ β_k (x − μ_k)), β_k negative semi-definite, so 0 < p_k ≤ 1.
    torch.manual_seed(0)
    net = models.rbf_network()
    with torch.no_grad():
        net.rho.normal_(-3, 1)  # precisions of different sizes per unit and pixel
    x, _ = _digits()
    x[0] = net.mu[3].detach()  # on unit 3's centre p_3 = 1
    p = net.probs(net(x))
    assert torch.allclose(p.double(), _rbf_naive(net, x), rtol=1e-4, atol=1e-7)
    assert bool((p > 0).all()) and bool((p <= 1).all())
    assert float(p[0, 3].detach()) == pytest.approx(1.0, abs=1e-5)
    assert not torch.allclose(p.sum(1), torch.ones(16))  # not a softmax


def test_rbf_units_are_independent():
    # Moving one unit's centre changes that unit's probability and no other.
    torch.manual_seed(0)
    net = models.rbf_network()
    x, _ = _digits()
    before = net.probs(net(x)).detach()
    with torch.no_grad():
        net.mu[7] += 0.3
    after = net.probs(net(x)).detach()
    changed = (after != before).any(dim=0)
    assert changed.tolist() == [k == 7 for k in range(10)]


def test_rbf_confidence_can_fall_below_a_tenth_unlike_a_softmax():
    # The paper's 1.2% confidence on mistakes needs independent units: a 10-way softmax never
    # gives a max probability below 10%.
    torch.manual_seed(0)
    net = models.rbf_network()
    far = torch.full((4, 784), 5.0)  # far from every centre in [0, 1]
    with torch.no_grad():
        scores = net(far)
    assert float(net.probs(scores).max()) < 0.01
    assert float(torch.softmax(scores, 1).max(1).values.min()) >= 0.1


def test_rbf_attack_objective_is_neg_log_p_y_and_training_uses_independent_likelihood():
    torch.manual_seed(0)
    net = models.rbf_network().requires_grad_(False)
    x, y = _digits()
    scores = net(x)
    p = _rbf_naive(net, x)
    nll = float(-torch.log(p[range(16), y]).mean())
    assert float(net.loss(scores, y)) == pytest.approx(nll, rel=1e-4)
    assert float(model_loss(net, scores, y)) == pytest.approx(nll, rel=1e-4)
    target = F.one_hot(y, 10).bool()
    bce = -torch.where(target, torch.log(p), torch.log1p(-p)).sum(1).mean()
    assert float(net.train_loss(scores, y)) == pytest.approx(float(bce), rel=1e-4)
    # stable where p_k → 1 and p_k → 0: finite, no NaN
    extreme = torch.tensor([[-1e-9, -50.0] + [-1.0] * 8])
    assert math.isfinite(float(net.train_loss(extreme, torch.tensor([1]))))
    assert math.isfinite(float(net.train_loss(extreme, torch.tensor([0]))))


def test_ensemble_output_is_the_mean_of_member_probabilities():
    # C27: members combined by their mean probability; J is −log of that mean for the label.
    torch.manual_seed(0)
    members = [
        models.maxout_mlp(width=16).eval(),
        models.softmax_regression(),
        models.rbf_network(),
    ]
    ensemble = models.Ensemble(members).eval().requires_grad_(False)
    x, y = _digits()

    def mean_probs(x):
        return torch.stack([m.probs(m(x)) for m in members]).mean(0)

    scores = ensemble(x)
    assert torch.allclose(ensemble.probs(scores), mean_probs(x), atol=1e-6)
    nll = -torch.log(mean_probs(x)[range(16), y]).mean()
    assert float(ensemble.loss(scores, y)) == pytest.approx(float(nll), rel=1e-5)
    # FGSM against the ensemble follows the gradient of the combined prediction
    x_grad = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(-torch.log(mean_probs(x_grad)[range(16), y]).mean(), x_grad)
    assert torch.allclose(fgsm(ensemble, x, y, 0.1, clip=None), x + 0.1 * grad.sign())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: models.maxout_mlp(width=0), "width"),
        (lambda: models.maxout_mlp(pieces=2.5), "pieces"),
        (lambda: models.maxout_mlp(dropout=(0.2, 1.0)), "dropout"),
        (lambda: models.maxout_mlp(dropout=0.5), "dropout"),
        (lambda: models.maxout_mlp(max_norm=-1), "max_norm"),
        (lambda: models.maxout_mlp(output="tanh"), "output"),
        (lambda: models.rbf_network(init_beta=0), "init_beta"),
        (lambda: models.Ensemble([]), "at least one"),
        (lambda: models.MaxoutMLP(8, 2, (0.2, 0.5), None, "tanh"), "output"),
        (lambda: models.maxout_mlp(width=8).features(torch.zeros(2, 784), 3), "layer"),
    ],
)
def test_model_arguments_are_checked(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
