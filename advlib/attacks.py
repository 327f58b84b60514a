"""Attacks on torch classifiers: FGSM (the paper's Sec. 4) and the baselines the book compares.

Every attack takes a model mapping ``x`` (n, d) to scores (n, k) (logits; a model with its own
``loss(scores, y)`` method, such as the RBF network, is attacked through that loss), inputs ``x`` in the clip range
and integer labels ``y`` (n,), and returns a new tensor; the model's train/eval mode and its
parameters' ``requires_grad`` flags are left exactly as they were, and no ``.grad`` is left on
the parameters.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F

from advlib.checks import check_clip, check_eps, check_labels, check_x

__all__ = ["fgsm", "input_gradient", "model_loss", "frozen"]

Clip = tuple[float, float] | None


@contextmanager
def frozen(model: torch.nn.Module, *, train: bool = False) -> Iterator[torch.nn.Module]:
    """Put ``model`` in eval mode (or train mode) with no parameter gradients; restore on exit.

    Restores each submodule's ``training`` flag and each parameter's ``requires_grad``,
    also when the body raises.
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        model.train(train)
        for p, _ in flags:
            p.requires_grad_(False)
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


def _check_attack_args(model, x, y, eps, clip, where):
    clip = check_clip(clip, where=where)
    check_x(x, where=where, clip=clip, ndim=2, features=_in_features(model))
    num_classes = _num_classes(model)
    check_labels(y, where=where, n=x.shape[0], num_classes=num_classes)
    eps = check_eps(eps, where=where, n=x.shape[0])
    return eps, clip


def _in_features(model: torch.nn.Module) -> int | None:
    return getattr(model, "in_features", None)


def _num_classes(model: torch.nn.Module) -> int | None:
    k = getattr(model, "num_classes", None)
    return int(k) if k is not None else None


def _per_example(eps, x: torch.Tensor):
    if isinstance(eps, torch.Tensor):
        return eps.to(dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))
    return eps


def model_loss(model: torch.nn.Module, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """J(θ, x, y): the model's own ``loss(scores, y)`` when it defines one (RBF units, sigmoid
    outputs, ensembles), else the mean cross-entropy of softmax logits."""
    loss = getattr(model, "loss", None)
    return loss(scores, y) if loss is not None else F.cross_entropy(scores, y)


def input_gradient(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇ₓ J(θ, x, y), in the model's current mode; (n, d) like ``x``.

    One forward and one backward pass, with respect to the input only. Callers hold the model
    ``frozen`` so that no parameter gradient is formed.
    """
    x = x.detach().requires_grad_(True)
    loss = model_loss(model, model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float | torch.Tensor,
    *,
    clip: Clip = (0.0, 1.0),
) -> torch.Tensor:
    """The fast gradient sign method: ``clip(x + eps·sign(∇ₓ J(θ, x, y)))``.

    model: logits (n, k) from x (n, d); evaluated in eval mode (dropout off), mode restored.
    x: float (n, d) in ``clip``; y: int64 (n,) in 0..k-1; eps: float >= 0 or a (n,) tensor.
    clip: (lo, hi) range of valid inputs, or None for the paper's unclipped examples.
    Returns the adversarial examples, (n, d), detached. ``eps = 0`` returns a copy of ``x``.
    """
    eps, clip = _check_attack_args(model, x, y, eps, clip, "fgsm")
    with frozen(model):
        grad = input_gradient(model, x, y)
    # sign/mul/add/clamp in place on one new buffer: on a linear model the cost is the passes
    # over the input, not the arithmetic.
    adv = grad.sign_().mul_(_per_example(eps, x)).add_(x.detach())
    if clip is not None:
        adv.clamp_(*clip)
    return adv
