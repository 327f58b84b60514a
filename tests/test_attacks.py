"""advlib.attacks: FGSM is the signed input gradient (C3), computed without side effects;
BIM/PGD and the noise baselines (C21) behave as the book relies on."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from advlib import attacks
from advlib.attacks import bim, fgsm, pgd, random_sign, random_uniform
from advlib.data import load_mnist


def small_mlp(d=12, k=4, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, k)).to(dtype)


def reference_fgsm(model, x, y, eps, clip=None):
    """FGSM written out in full, the unchunked way: the definition the attack must match."""
    xx = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(xx), y), xx)
    adv = x + eps * g.sign()
    return adv.clamp(*clip) if clip is not None else adv


def test_fgsm_matches_finite_differences():
    """sign(∇ₓJ) from the attack equals the sign of a central difference of J (C3)."""
    torch.manual_seed(1)
    model = small_mlp()
    x = torch.rand(5, 12, dtype=torch.float64) * 0.8 + 0.1
    y = torch.randint(0, 4, (5,))
    eps, h = 0.01, 1e-6
    adv = fgsm(model, x, y, eps, clip=None)
    sign = torch.round((adv - x) / eps)
    fd = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                up, down = x.clone(), x.clone()
                up[i, j] += h
                down[i, j] -= h
                diff = F.cross_entropy(model(up), y) - F.cross_entropy(model(down), y)
                fd[i, j] = diff / (2 * h)
    clear = fd.abs() > 1e-6  # where the gradient is not tiny, its sign is unambiguous
    assert clear.sum() > 0.8 * fd.numel()
    assert torch.equal(sign[clear], fd.sign()[clear])


@pytest.mark.parametrize("split", ["chunks", "whole"])
def test_fgsm_matches_its_definition_in_chunks_or_whole(monkeypatch, split):
    """Chunking the batch (here 7 rows a chunk) changes nothing: the same rows as the full
    batch."""
    monkeypatch.setattr(attacks, "CHUNK_BYTES", 7 * 12 * 8 if split == "chunks" else None)
    model = small_mlp()
    x = torch.rand(50, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (50,))
    for clip in ((0.0, 1.0), None):
        expected = reference_fgsm(model, x, y, 0.1, clip)
        assert torch.equal(fgsm(model, x, y, 0.1, clip=clip), expected)


def test_fgsm_eps_zero_returns_x():
    model = small_mlp()
    x = torch.rand(6, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (6,))
    adv = fgsm(model, x, y, 0.0)
    assert torch.equal(adv, x) and adv.data_ptr() != x.data_ptr()


@pytest.mark.parametrize("kind", ["tensor", "numpy"])
def test_per_example_eps_gives_each_row_the_attack_of_its_own_eps(kind):
    """Row i of FGSM with a vector eps is FGSM of row i alone at eps[i]. n = d, so that eps
    broadcast along the columns instead of the rows would not raise but give other rows."""
    model = small_mlp()
    x = torch.rand(12, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (12,))
    eps = torch.linspace(0.0, 0.3, 12, dtype=torch.float64)
    adv = fgsm(model, x, y, eps if kind == "tensor" else eps.numpy())
    rows = torch.cat([fgsm(model, x[i : i + 1], y[i : i + 1], float(eps[i])) for i in range(12)])
    assert torch.equal(adv, rows)
    assert not torch.equal(adv, fgsm(model, x, y, 0.15))


def test_fgsm_uses_the_models_own_loss():
    """A model with ``loss(scores, y)`` is attacked through it (the RBF network's J)."""

    class OwnLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = small_mlp()

        def forward(self, x):
            return self.net(x)

        def loss(self, scores, y):  # a J whose input gradient differs from cross-entropy's
            return -scores.gather(1, y[:, None]).mean()

    model = OwnLoss()
    x = torch.rand(5, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (5,))
    xx = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model.loss(model(xx), y), xx)
    assert torch.equal(fgsm(model, x, y, 0.1, clip=None), x + 0.1 * g.sign())
    cross_entropy_direction = reference_fgsm(model, x, y, 0.1, None)
    assert not torch.equal(fgsm(model, x, y, 0.1, clip=None), cross_entropy_direction)


class Watched(nn.Module):
    """Dropout model that records the mode of each forward pass; can be told to raise."""

    def __init__(self, fail=False):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 8), nn.Dropout(0.5), nn.Linear(8, 4)).double()
        self.fail, self.seen = fail, []
        self.in_features, self.num_classes = 12, 4

    def forward(self, x):
        self.seen.append(self.training)
        if self.fail:
            raise RuntimeError("model failed")
        return self.net(x)


def run_attack(name, model, x, y):
    if name == "fgsm":
        return fgsm(model, x, y, 0.1)
    if name == "bim":
        return bim(model, x, y, 0.1, 0.05, 3)
    return pgd(model, x, y, 0.1, 0.05, 3, seed=0)


@pytest.mark.parametrize("attack", ["fgsm", "bim", "pgd"])
@pytest.mark.parametrize("fail", [False, True])
def test_attack_restores_mode_and_requires_grad(attack, fail):
    """Eval mode during the attack; train mode, requires_grad flags and no .grad afterwards,
    also when the model raises."""
    model = Watched(fail=fail).train()
    model.net[0].weight.requires_grad_(False)  # a partly frozen model stays partly frozen
    flags = [p.requires_grad for p in model.parameters()]
    x = torch.rand(5, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (5,))
    if fail:
        with pytest.raises(RuntimeError, match="model failed"):
            run_attack(attack, model, x, y)
    else:
        run_attack(attack, model, x, y)
    assert model.seen and not any(model.seen)  # every forward pass ran in eval mode
    assert all(m.training for m in model.modules())
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())


def test_fgsm_works_inside_no_grad_and_leaves_x_alone():
    model = small_mlp()
    x = torch.rand(5, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (5,))
    before = x.clone()
    with torch.no_grad():
        adv = fgsm(model, x, y, 0.1)
    assert torch.equal(adv, reference_fgsm(model, x, y, 0.1))  # unclipped, the default
    assert torch.equal(x, before) and not x.requires_grad and not adv.requires_grad


def test_the_default_is_the_papers_unclipped_fgsm():
    """DEFAULT_CLIP is None: pixels at 0 and 1 are pushed outside [0, 1], as the paper's
    pylearn2 code did; clip=(0, 1) keeps them inside and changes exactly those pixels."""
    assert attacks.DEFAULT_CLIP is None
    model = small_mlp()
    x = torch.rand(50, 12, dtype=torch.float64).round()  # pixels at the ends of the range
    y = torch.randint(0, 4, (50,))
    free, clipped = fgsm(model, x, y, 0.25), fgsm(model, x, y, 0.25, clip=(0.0, 1.0))
    outside = (free < 0) | (free > 1)
    assert 0.3 < outside.double().mean() < 0.7  # about half the moves point outward
    assert torch.equal(clipped[~outside], free[~outside])
    assert torch.equal(clipped[outside], x[outside])


@pytest.fixture(scope="module")
def trained_mnist_mlp():
    """A 784-64-10 ReLU net trained for two epochs on the 4,000 embedded digits (~2 s)."""
    x, y = (torch.from_numpy(a) for a in load_mnist("train", source="embedded"))
    xt, yt = (torch.from_numpy(a) for a in load_mnist("test", source="embedded"))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        for idx in torch.randperm(len(x)).split(50):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model, xt, yt


def error(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) != y).float().mean().item()


@pytest.mark.parametrize("clip", [None, (0.0, 1.0)], ids=["unclipped", "clipped"])
def test_iterated_attacks_beat_fgsm_and_noise_does_not(trained_mnist_mlp, clip):
    """BIM/PGD error >= FGSM error at the same eps, and noise of the same max-norm hurts far
    less (C21's premise); the iterated attacks' ten steps of eps/4 stay in the eps-ball (and in
    the clip range) only by their projection."""
    model, x, y = trained_mnist_mlp
    eps = 0.1
    clean = error(model, x, y)
    results = {
        "fgsm": fgsm(model, x, y, eps, clip=clip),
        "bim": bim(model, x, y, eps, eps / 4, 10, clip=clip),
        "pgd": pgd(model, x, y, eps, eps / 4, 10, seed=0, clip=clip),
        "sign": random_sign(x, eps, seed=0, clip=clip),
        "uniform": random_uniform(x, eps, seed=0, clip=clip),
    }
    errors = {name: error(model, adv, y) for name, adv in results.items()}
    assert clean < 0.15
    assert errors["fgsm"] > clean + 0.2
    assert errors["bim"] >= errors["fgsm"] and errors["pgd"] >= errors["fgsm"]
    assert errors["sign"] < clean + 0.1 and errors["uniform"] < clean + 0.1
    for name in ("bim", "pgd"):
        adv = results[name]
        assert (adv - x).abs().max() <= eps + 1e-6
        if clip is not None:
            assert adv.min() >= 0 and adv.max() <= 1


def test_bim_projects_to_the_ball_and_clip_range():
    """With steps larger than eps the iterate would leave the ball: projection keeps it in."""
    model = small_mlp()
    x = torch.rand(20, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (20,))
    eps = torch.linspace(0, 0.2, 20)
    adv = bim(model, x, y, eps, 0.15, 5, clip=(0.0, 1.0))
    assert ((adv - x).abs() <= eps[:, None].double() + 1e-12).all()
    assert adv.min() >= 0 and adv.max() <= 1
    assert ((adv - x).abs().amax(dim=1) > eps.double() / 2).sum() > 15  # it does move
    for clip in (None, (0.0, 1.0)):  # one BIM step of size eps is FGSM
        assert torch.equal(
            bim(model, x, y, 0.1, 0.1, 1, clip=clip), fgsm(model, x, y, 0.1, clip=clip)
        )


def test_pgd_is_seeded():
    model = small_mlp()
    x = torch.rand(8, 12, dtype=torch.float64)
    y = torch.randint(0, 4, (8,))
    a, b, c = (pgd(model, x, y, 0.1, 0.02, 2, seed=s) for s in (3, 3, 4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_noise_baselines_have_fgsms_max_norm():
    """random_sign moves every unclipped pixel by exactly ±eps; random_uniform by U(-eps, eps)."""
    x = torch.full((200, 50), 0.5)
    s = random_sign(x, 0.1, seed=0) - x
    assert torch.allclose(s.abs(), torch.full_like(s, 0.1))
    assert abs((s > 0).float().mean().item() - 0.5) < 0.02
    u = random_uniform(x, 0.1, seed=0) - x
    assert u.abs().max() <= 0.1 + 1e-7 and 0.045 < u.abs().mean() < 0.055
    assert torch.equal(random_sign(x, 0.1, seed=1), random_sign(x, 0.1, seed=1))
    g = torch.Generator().manual_seed(1)
    assert torch.equal(random_uniform(x, 0.1, generator=g), random_uniform(x, 0.1, seed=1))
    edge = torch.zeros(10, 10)
    assert random_sign(edge, 0.3, seed=0).min() == pytest.approx(-0.3)  # unclipped by default
    assert random_sign(edge, 0.3, seed=0, clip=(0.0, 1.0)).min() >= 0
