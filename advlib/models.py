"""The paper's classifiers as torch modules: softmax regression, the maxout network, the RBF
network, and ensembles of them.

Every model maps ``x`` float (n, 784) in [0, 1] to scores (n, 10) and has:

- ``in_features`` (784) and ``num_classes`` (10);
- ``log_probs(scores)`` and ``probs(scores)`` (n, 10): what prediction (argmax) and confidence
  (max) are read from. For the softmax models they sum to one; for sigmoid outputs and RBF units
  each is an independent probability in (0, 1];
- ``loss(scores, y)``, only where J is not the softmax cross-entropy of ``scores``; the attacks
  (:func:`advlib.attacks.model_loss`) and the training loop use it as J(θ, x, y);
- ``train_loss(scores, y)``, only where training uses another likelihood than the attack (RBF);
- ``apply_constraints()``, only where the model has a constraint projected after each optimiser
  step (the maxout net's max column norm).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from advlib.checks import check_choice, check_int, check_model, check_real

__all__ = [
    "Classifier",
    "SoftmaxRegression",
    "Maxout",
    "MaxoutMLP",
    "RBFNetwork",
    "Ensemble",
    "softmax_regression",
    "maxout_mlp",
    "rbf_network",
    "MAX_NORM",
]

IN_FEATURES = 784
NUM_CLASSES = 10
MAX_NORM = 1.9365
"""The maxout paper's max column norm for every layer of its MNIST permutation-invariant net."""


class Classifier(nn.Module):
    """Base of advlib's models: softmax probabilities of the scores unless a subclass says other."""

    in_features = IN_FEATURES
    num_classes = NUM_CLASSES

    def log_probs(self, scores: torch.Tensor) -> torch.Tensor:
        """log p (n, k) from scores (n, k)."""
        return F.log_softmax(scores, dim=-1)

    def probs(self, scores: torch.Tensor) -> torch.Tensor:
        """p (n, k) in [0, 1] from scores (n, k); prediction is the argmax, confidence the max."""
        return self.log_probs(scores).exp()


class SoftmaxRegression(Classifier):
    """The paper's shallow softmax classifier: one linear layer, logits (n, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(IN_FEATURES, NUM_CLASSES)

    @property
    def first_layer(self) -> nn.Linear:
        return self.linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def softmax_regression() -> SoftmaxRegression:
    """Softmax regression on 784 pixels: logits (n, 10), trained with cross-entropy."""
    return SoftmaxRegression()


class _MaxOverPieces(torch.autograd.Function):
    """max over dim 1 of z (n, pieces, width) → (n, width); the gradient goes to the winning
    piece. torch's ``amax`` backward also counts ties to share the gradient among them, a
    division per element that costs more than the max itself; with real-valued affine pieces a
    tie has probability zero, so each tied piece simply gets the whole gradient here."""

    @staticmethod
    def forward(ctx, z):
        out = z.amax(dim=1)
        ctx.save_for_backward(z, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        z, out = ctx.saved_tensors
        return (z == out.unsqueeze(1)) * grad.unsqueeze(1)


class Maxout(nn.Module):
    """Maxout: ``width`` units, each the max of ``pieces`` affine maps; (n, d) → (n, width).

    The affine maps are one ``nn.Linear(d, pieces * width)`` whose output rows are piece-major:
    row ``p * width + u`` is piece ``p`` of unit ``u``, so the max runs over ``pieces`` contiguous
    (n, width) slabs (vectorised across units) instead of over groups of ``pieces`` neighbours.
    """

    def __init__(self, in_features: int, width: int, pieces: int) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("width", width), ("pieces", pieces)):
            check_int(value, where="Maxout", name=name, low=1)
        self.width, self.pieces = width, pieces
        self.linear = nn.Linear(in_features, width * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear(x).view(x.shape[0], self.pieces, self.width)
        return _MaxOverPieces.apply(z)

    def piece_weights(self) -> torch.Tensor:
        """The weights as (pieces, width, d): ``[p, u]`` is piece ``p`` of unit ``u``."""
        return self.linear.weight.view(self.pieces, self.width, -1)


class _Dropout(torch.autograd.Function):
    """x · m with m = mask / keep saved for the backward: one multiplication each way."""

    @staticmethod
    def forward(ctx, x, m):
        ctx.save_for_backward(m)
        return x * m

    @staticmethod
    def backward(ctx, grad):
        (m,) = ctx.saved_tensors
        return grad * m, None


class Dropout(nn.Module):
    """Dropout with drop probability ``p``: in training, each element is kept with probability
    1 − p and scaled by 1/(1 − p), as ``nn.Dropout``. The mask is drawn as uniform floats
    compared with 1 − p (``torch.rand``), about twice as fast on the CPU as ``nn.Dropout``'s
    Bernoulli draws, from torch's global generator (seeded runs stay reproducible)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = 1.0 - self.p
        m = torch.where(torch.rand(x.shape, dtype=x.dtype, device=x.device) < keep, 1.0 / keep, 0.0)
        return _Dropout.apply(x, m.to(x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MaxoutMLP(Classifier):
    """Two maxout layers and an output layer, with dropout before each (see :func:`maxout_mlp`).

    Layers are numbered as representations: 0 the input, 1 and 2 the hidden maxout layers.
    ``features(x, layer)`` is the representation at ``layer`` before its dropout and
    ``forward_from(layer, h)`` goes on from it, so ``forward(x) = forward_from(0, x)`` and a
    perturbation of hidden layer ``l`` is ``forward_from(l, features(x, l) + eta)`` (claim C22).
    """

    hidden_layers = 2

    def __init__(
        self,
        width: int,
        pieces: int,
        dropout: tuple[float, float],
        max_norm: float | None,
        output: str,
    ) -> None:
        super().__init__()
        dropout = _check_maxout_args(width, pieces, dropout, max_norm, output, "MaxoutMLP")
        self.width, self.pieces, self.output = width, pieces, output
        self.max_norm = max_norm
        drop_in, drop_hidden = dropout
        self.dropouts = nn.ModuleList(
            [Dropout(drop_in), Dropout(drop_hidden), Dropout(drop_hidden)]
        )
        self.hidden = nn.ModuleList(
            [Maxout(IN_FEATURES, width, pieces), Maxout(width, width, pieces)]
        )
        self.out = nn.Linear(width, NUM_CLASSES)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # As the maxout paper's MNIST net: weights U(-.005, .005), biases 0 (pylearn2's irange).
        for linear in (self.hidden[0].linear, self.hidden[1].linear, self.out):
            nn.init.uniform_(linear.weight, -0.005, 0.005)
            nn.init.zeros_(linear.bias)

    @property
    def first_layer(self) -> nn.Linear:
        return self.hidden[0].linear

    def features(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """The representation at ``layer`` before its dropout: x (n, 784) at 0, maxout units
        (n, width) at 1 and 2."""
        check_choice(layer, where="MaxoutMLP.features", name="layer", allowed=(0, 1, 2))
        h = x
        for i in range(layer):
            h = self.hidden[i](self.dropouts[i](h))
        return h

    def forward_from(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        """Scores (n, 10) from the representation ``h`` at ``layer`` (see :meth:`features`)."""
        check_choice(layer, where="MaxoutMLP.forward_from", name="layer", allowed=(0, 1, 2))
        return self._forward_from(layer, h)

    def _forward_from(self, layer: int, h: torch.Tensor) -> torch.Tensor:
        for i in range(layer, 2):
            h = self.hidden[i](self.dropouts[i](h))
        return self.out(self.dropouts[2](h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward_from(0, x)

    def log_probs(self, scores: torch.Tensor) -> torch.Tensor:
        if self.output == "sigmoid":
            return F.logsigmoid(scores)
        return F.log_softmax(scores, dim=-1)

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """J: softmax cross-entropy, or for sigmoid outputs the binary cross-entropy of the ten
        units against the one-hot label, summed over units and averaged over the batch."""
        if self.output == "sigmoid":
            target = F.one_hot(y, NUM_CLASSES).to(scores.dtype)
            bce = F.binary_cross_entropy_with_logits(scores, target, reduction="none")
            return bce.sum(dim=1).mean()
        return F.cross_entropy(scores, y)

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Project each unit's incoming weight vector (a row of torch's (out, in) weight, a
        column of pylearn2's) onto the ball of radius ``max_norm``, as the maxout paper did after
        every update, in all three layers."""
        if self.max_norm is None:
            return
        for linear in (self.hidden[0].linear, self.hidden[1].linear, self.out):
            linear.weight.renorm_(2, 0, self.max_norm)


def maxout_mlp(
    width: int = 240,
    pieces: int = 5,
    dropout: tuple[float, float] = (0.2, 0.5),
    max_norm: float | None = MAX_NORM,
    output: str = "softmax",
) -> MaxoutMLP:
    """The maxout paper's permutation-invariant MNIST network (the paper's "maxout network").

    784 → maxout(width × pieces) → maxout(width × pieces) → 10, dropout ``(input, hidden)``
    drop-probabilities before each layer (the maxout paper: input keep-probability .8, hidden .5),
    every weight row's norm capped at ``max_norm`` after each step (None: no cap).
    ``width=1600`` is the paper's larger net (C15). ``output="softmax"`` gives logits;
    ``"sigmoid"`` gives ten independent sigmoid units (C28), trained with binary cross-entropy.
    """
    dropout = _check_maxout_args(width, pieces, dropout, max_norm, output, "maxout_mlp")
    return MaxoutMLP(width, pieces, dropout, max_norm, output)


def _check_maxout_args(width, pieces, dropout, max_norm, output, where) -> tuple[float, float]:
    """Check the maxout net's shape; returns the dropout pair as floats."""
    for name, value in (("width", width), ("pieces", pieces)):
        check_int(value, where=where, name=name, low=1)
    if isinstance(dropout, (str, bytes)):
        raise TypeError(f"{where}: dropout must be a pair (input, hidden), got {dropout!r}")
    try:
        drop_in, drop_hidden = dropout
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: dropout must be a pair (input, hidden) of probabilities, got {dropout!r}"
        ) from None
    for name, p in (("input dropout", drop_in), ("hidden dropout", drop_hidden)):
        check_real(p, where=where, name=name, low=0.0, high=1.0, open_high=True)
    if max_norm is not None:
        check_real(max_norm, where=where, name="max_norm (or None)", low=0.0, open_low=True)
    check_choice(output, where=where, name="output", allowed=("softmax", "sigmoid"))
    return float(drop_in), float(drop_hidden)


def _log1mexp(a: torch.Tensor) -> torch.Tensor:
    """log(1 − exp(a)) for a ≤ 0, accurate at both ends (Mächler 2012); -inf at a = 0."""
    return torch.where(a > -math.log(2), torch.log(-torch.expm1(a)), torch.log1p(-torch.exp(a)))


class RBFNetwork(Classifier):
    """The paper's shallow RBF network (Sec. 7, claim C23): ten independent units

        p_k(x) = exp((x − μ_k)ᵀ β_k (x − μ_k)),  β_k = −diag(softplus(ρ_k)) (negative semi-def.),

    so each p_k lies in (0, 1]. Scores are log p_k (n, 10) ≤ 0; prediction argmax_k p_k,
    confidence max_k p_k — not a softmax over the ten, under which a confidence below 10% (the
    paper's 1.2%) could not happen. The attack objective J is −log p_y (:meth:`loss`).

    Training uses the likelihood of ten independent Bernoulli units (:meth:`train_loss`):
    −log p_y − Σ_{k≠y} log(1 − p_k). −log p_y alone would let every unit grow wide and say 1
    everywhere; the second term asks the other units to stay low on this digit.
    """

    def __init__(self, init_beta: float) -> None:
        super().__init__()
        init_beta = check_real(
            init_beta, where="RBFNetwork", name="init_beta", low=0.0, open_low=True
        )
        self.mu = nn.Parameter(torch.empty(NUM_CLASSES, IN_FEATURES))
        self.rho = nn.Parameter(torch.empty(NUM_CLASSES, IN_FEATURES))
        self.init_beta = init_beta
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.uniform_(self.mu, 0.0, 1.0)
        # softplus(rho) = init_beta: the initial precision per pixel
        nn.init.constant_(self.rho, math.log(math.expm1(self.init_beta)))

    @property
    def beta(self) -> torch.Tensor:
        """−diag of β_k, (10, 784), every entry ≥ 0."""
        return F.softplus(self.rho)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Σ_i β_ki (x_i − μ_ki)² expanded as x²·β − 2x·(βμ) + Σβμ², three matmuls instead of an
        # (n, 10, 784) tensor.
        beta = self.beta
        quad = (x * x) @ beta.T - 2 * x @ (beta * self.mu).T + (beta * self.mu**2).sum(dim=1)
        return -quad.clamp_min(0.0)

    def log_probs(self, scores: torch.Tensor) -> torch.Tensor:
        return scores

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """J = −log p_y, averaged over the batch: the paper's attack objective for RBF units."""
        return -scores.gather(1, y[:, None]).mean()

    def train_loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """−log p_y − Σ_{k≠y} log(1 − p_k), averaged over the batch (independent units)."""
        target = F.one_hot(y, NUM_CLASSES).bool()
        # 1 − p_k underflows to log 0 only when a unit sits exactly on its centre; clamp keeps
        # that one term finite without changing any other.
        off = _log1mexp(scores.clamp_max(-1e-6))
        return -torch.where(target, scores, off).sum(dim=1).mean()


def rbf_network(init_beta: float = 0.05) -> RBFNetwork:
    """The shallow RBF network of claim C23; ``init_beta`` is the initial precision of every
    pixel (μ starts U(0, 1), so Σ β (x − μ)² starts near 784 · .05 · .3 ≈ 12)."""
    check_real(init_beta, where="rbf_network", name="init_beta", low=0.0, open_low=True)
    return RBFNetwork(init_beta)


class Ensemble(Classifier):
    """The mean of its members' probabilities (claim C27): scores = log mean_m p_m (n, k), the
    loss is the negative log of the mean probability of the label, so FGSM against an ensemble
    attacks its combined prediction. Members keep their own log_probs (softmax, sigmoid, RBF)."""

    def __init__(self, models) -> None:
        super().__init__()
        if isinstance(models, nn.Module) or not hasattr(models, "__iter__"):
            raise TypeError(
                f"Ensemble: models must be a list of torch modules, got {type(models).__name__}"
            )
        models = list(models)
        if len(models) == 0:
            raise ValueError("Ensemble: needs at least one model; got an empty list")
        for i, m in enumerate(models):
            check_model(m, where="Ensemble", name=f"models[{i}]")
        self.members = nn.ModuleList(models)
        for attr in ("in_features", "num_classes"):
            sizes = {getattr(m, attr, None) for m in self.members}
            if len(sizes) != 1 or None in sizes:
                raise ValueError(
                    f"Ensemble: members must share one {attr}, got {sorted(map(str, sizes))}"
                )
            setattr(self, attr, sizes.pop())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        log_p = torch.stack([m.log_probs(m(x)) for m in self.members])
        return torch.logsumexp(log_p, dim=0) - math.log(len(self.members))

    def log_probs(self, scores: torch.Tensor) -> torch.Tensor:
        return scores

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """−log of the mean member probability of the label, averaged over the batch."""
        return -scores.gather(1, y[:, None]).mean()
