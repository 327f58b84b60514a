"""Attacks on torch classifiers: FGSM (the paper's Sec. 4) and the baselines the book compares.

Every attack takes a model mapping ``x`` (n, d) to scores (n, k) (logits; a model with its own
``loss(scores, y)`` method, such as the RBF network, is attacked through that loss), inputs ``x``
in the clip range and integer labels ``y`` (n,), and returns a new tensor; the model's train/eval
mode and its parameters' ``requires_grad`` flags are left exactly as they were (also when the
model raises), and no ``.grad`` is left on the parameters.

On the CPU the gradient attacks work through the batch in chunks of about ``CHUNK_BYTES`` of
input (about 1,000 MNIST rows): each chunk is checked, differentiated and turned into its
adversarial rows while it and the model's activations are still in cache. On 2 idle cores this
made FGSM on the paper's maxout MLP a quarter faster than one batch of 10,000, and keeps it at
the cost of one chunked forward and backward pass (``benchmarks/bench_attacks.py``). Every
model here scores each example on its own in eval mode, and J is a mean over the batch, so
each row's gradient sign is the one the whole batch would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from advlib.checks import (
    as_labels,
    as_tensor,
    check_bool,
    check_clip,
    check_eps,
    check_model,
    check_model_inputs,
    check_positive,
    check_scores,
    check_seed,
    check_x,
    check_x_values,
)

__all__ = [
    "DEFAULT_CLIP",
    "fgsm",
    "fgsm_with_scores",
    "bim",
    "pgd",
    "random_sign",
    "random_uniform",
    "input_gradient",
    "model_loss",
    "frozen",
    "chunk_rows",
]

Clip = tuple[float, float] | None
Eps = float | torch.Tensor

DEFAULT_CLIP: Clip = None
"""The clip range every attack, measurement and training objective of advlib uses unless told
otherwise: None, x + eta unclipped. The paper's pylearn2 code never clipped to [0, 1] (claim
C3), so its numbers are unclipped ones; the book shows ``clip=(0.0, 1.0)``, what an image could
really hold, beside them."""

CHUNK_BYTES: int | None = 3 << 20
"""Input bytes per chunk on the CPU: a chunk, its gradient and its output stay in a 32 MiB L3.
None attacks every batch whole (fewer synchronisation points, for a crowded machine)."""


@contextmanager
def frozen(model: torch.nn.Module, *, train: bool = False) -> Iterator[torch.nn.Module]:
    """Put ``model`` in eval mode (or train mode) with no parameter gradients; restore on exit.

    Restores each submodule's ``training`` flag and each parameter's ``requires_grad``,
    also when the body raises.
    """
    check_model(model, where="frozen")
    check_bool(train, where="frozen", name="train")
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


def _in_features(model: torch.nn.Module) -> int | None:
    return getattr(model, "in_features", None)


def _num_classes(model: torch.nn.Module) -> int | None:
    k = getattr(model, "num_classes", None)
    return int(k) if k is not None else None


def _check_attack_args(model, x, y, eps, clip, where, *, values=True):
    """Checks shared by the gradient attacks; ``values=False`` leaves x's values to the chunks.

    Returns ``(x, y, eps, clip)``: NumPy x, y and eps as tensors (shared, not copied)."""
    check_model(model, where=where)
    clip = check_clip(clip, where=where)
    x = as_tensor(x, where=where)
    check_x(x, where=where, clip=clip, ndim=2, features=_in_features(model), values=values)
    check_model_inputs(model, x, where=where)
    y = as_labels(y, where=where, n=x.shape[0], num_classes=_num_classes(model))
    if y.device != x.device:
        raise ValueError(f"{where}: y is on {y.device} but x on {x.device}; put them on one device")
    eps = _eps_tensor(check_eps(eps, where=where, n=x.shape[0]))
    return x, y, eps, clip


def _eps_tensor(eps):
    """A per-example NumPy eps as a tensor (the float and tensor cases pass through)."""
    import numpy as np

    return torch.from_numpy(np.ascontiguousarray(eps)) if isinstance(eps, np.ndarray) else eps


def _per_example(eps: Eps, x: torch.Tensor) -> Eps:
    """A float as is; a (n,) tensor as (n, 1, ...) in x's dtype and device, to broadcast."""
    if isinstance(eps, torch.Tensor):
        return eps.to(dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))
    return eps


def _rows(value, rows: slice):
    return value[rows] if isinstance(value, torch.Tensor) else value


def chunk_rows(x: torch.Tensor) -> int:
    """Rows per chunk, for every batched pass of advlib (attacks and measurements): about
    CHUNK_BYTES of x on the CPU, else the whole batch (on an accelerator one launch per op beats
    cache blocking)."""
    if not isinstance(x, torch.Tensor) or x.dim() == 0:
        raise TypeError(
            "chunk_rows: x must be a torch tensor with a batch dimension (n, ...), got "
            + ("a 0-d tensor" if isinstance(x, torch.Tensor) else type(x).__name__)
        )
    n = x.shape[0]
    if CHUNK_BYTES is None or x.device.type != "cpu":
        return n
    return max(1, CHUNK_BYTES // max(1, x[:1].numel() * x.element_size()))


def _generator(seed: int | None, generator: torch.Generator | None, x: torch.Tensor, where: str):
    if seed is not None and generator is not None:
        raise ValueError(f"{where}: pass seed or generator, not both")
    if seed is None:
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"{where}: generator must be a torch.Generator or None, got "
                f"{type(generator).__name__}"
            )
        return generator  # None: torch's global generator
    seed = check_seed(seed, where=where)
    return torch.Generator(device=x.device).manual_seed(seed)


def model_loss(model: torch.nn.Module, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """J(θ, x, y): the model's own ``loss(scores, y)`` when it defines one (RBF units, sigmoid
    outputs, ensembles), else the mean cross-entropy of softmax logits.

    scores: (n, k) floating; y: int64 (n,) in 0..k-1. Checked here in eager code only: the
    shapes are compared without reading any value (no device synchronisation per step)."""
    if not (isinstance(scores, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(
            "model_loss: scores and y must be torch tensors, got "
            f"{type(scores).__name__} and {type(y).__name__}"
        )
    if scores.dim() != 2 or y.dim() != 1 or y.shape[0] != scores.shape[0]:
        raise ValueError(
            "model_loss: scores must be (n, k) and y (n,), one label per row, got shapes "
            f"{tuple(scores.shape)} and {tuple(y.shape)}"
        )
    if y.dtype != torch.int64:
        raise TypeError(f"model_loss: y must hold int64 class labels, got dtype {y.dtype}")
    loss = getattr(model, "loss", None)
    return loss(scores, y) if loss is not None else F.cross_entropy(scores, y)


def input_gradient(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """∇ₓ J(θ, x, y), in the model's current mode; (n, d) like ``x``.

    One forward and one backward pass, with respect to the input only. Callers hold the model
    ``frozen`` so that no parameter gradient is formed. x: floating (n, d), finite; y: int64
    (n,) (NumPy arrays are converted).
    """
    x, y, _, _ = _check_attack_args(model, x, y, 0.0, None, "input_gradient")
    return _gradient_and_scores(model, x, y, out=_output_check(model, y, "input_gradient"))[0]


def _output_check(model, y, where):
    """(where, the largest label) for :func:`check_scores` on a model's first forward pass; the
    label only for models that do not declare ``num_classes`` (the others were checked)."""
    return where, int(y.max()) if _num_classes(model) is None else None


def _gradient_and_scores(model, x, y, *, out=None):
    """(∇ₓ J, scores) from one forward and one backward pass: the scores of the clean x are a
    by-product, so a measurement of clean and FGSM error together costs no extra forward.
    ``out=(where, top_label)``: check the model's scores against the labels first."""
    with torch.enable_grad():  # also inside a caller's no_grad block
        x = x.detach().requires_grad_(True)
        scores = model(x)
        if out is not None:
            check_scores(scores, where=out[0], n=x.shape[0], top_label=out[1])
        loss = model_loss(model, scores, y)
        (grad,) = torch.autograd.grad(loss, x)
    return grad, scores.detach()


def _signed_gradient_step(
    model, x, y, alpha, lower, upper, out=None, *, check=None, scores=None, output=None
):
    """clamp(x + alpha·sign(∇ₓJ(θ, x, y)), lower, upper), chunk by chunk, into ``out``.

    alpha: float or (n, 1) tensor; lower, upper: floats, (n, d) tensors, or None (no clamp).
    ``out`` may be ``x`` itself (BIM updates in place); None writes into the gradient's own
    buffer when the batch is one chunk, else into one new tensor. ``check=(where, clip)`` checks
    each chunk's values just before its forward pass. ``scores``, a list, receives the model's
    scores of each chunk of x. ``output=(where, top_label)`` checks the model's scores of the
    first chunk (:func:`_output_check`).
    """
    n, size, start = x.shape[0], chunk_rows(x), 0
    if out is None and size < n:
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
    while start < n:
        rows = slice(start, min(start + size, n))
        xc = x[rows]
        if check is not None:
            try:
                check_x_values(xc, where=check[0], clip=check[1])
                bad = False
            except ValueError:
                bad = True
            if bad:  # raised outside the handler: one error, not two chained
                check_x_values(x, where=check[0], clip=check[1])  # the message names all of x
        grad, chunk_scores = _gradient_and_scores(
            model, xc, y[rows], out=output if start == 0 else None
        )
        grad.sign_()
        if scores is not None:
            scores.append(chunk_scores)
        o = grad if out is None else out[rows]
        a = _rows(alpha, rows)
        # One fused pass into the output; sign and clamp in place: no temporaries.
        if isinstance(a, torch.Tensor):
            torch.addcmul(xc, grad, a, out=o)
        else:
            torch.add(xc, grad, alpha=a, out=o)
        if lower is not None:
            o.clamp_(_rows(lower, rows), _rows(upper, rows))
        start = rows.stop
        out = o if out is None else out
    return out


def fgsm(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: Eps,
    *,
    clip: Clip = DEFAULT_CLIP,
) -> torch.Tensor:
    """The fast gradient sign method: ``clip(x + eps·sign(∇ₓ J(θ, x, y)))``.

    model: logits (n, k) from x (n, d); evaluated in eval mode (dropout off), mode restored.
    x: float (n, d) in ``clip``; y: int64 (n,) in 0..k-1; eps: float >= 0 or a (n,) tensor.
    clip: (lo, hi) range of valid inputs, or None (:data:`DEFAULT_CLIP`: the paper's
    unclipped examples).
    Returns the adversarial examples, (n, d), detached. ``eps = 0`` returns a copy of ``x``.
    x's values are checked chunk by chunk as the attack reads them: a NaN or an out-of-range
    pixel raises the same ValueError, and nothing is returned.
    """
    return fgsm_with_scores(model, x, y, eps, clip=clip)[0]


def fgsm_with_scores(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: Eps,
    *,
    clip: Clip = DEFAULT_CLIP,
    scores: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`fgsm`, and with ``scores=True`` also the model's scores (n, k) of the clean x,
    which the attack's forward pass computes anyway: ``(x_adv, scores or None)``."""
    x, y, eps, clip = _check_attack_args(model, x, y, eps, clip, "fgsm", values=False)
    check_bool(scores, where="fgsm", name="scores")
    x = x.detach()
    lo, hi = clip if clip is not None else (None, None)
    chunks = [] if scores else None
    with frozen(model):
        x_adv = _signed_gradient_step(
            model,
            x,
            y,
            _per_example(eps, x),
            lo,
            hi,
            check=("fgsm", clip),
            scores=chunks,
            output=_output_check(model, y, "fgsm"),
        )
    return x_adv, torch.cat(chunks) if scores else None


def bim(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: Eps,
    step: Eps,
    steps: int,
    *,
    clip: Clip = DEFAULT_CLIP,
    random_start: bool = False,
    generator: torch.Generator | None = None,
    seed: int | None = None,
) -> torch.Tensor:
    """The basic iterative method (Kurakin et al., 2017); PGD (Madry et al., 2018) with
    ``random_start``.

    ``steps`` signed-gradient steps of size ``step`` (float or (n,) tensor), each projected to
    the max-norm ball of radius ``eps`` around x and to ``clip``. With ``random_start`` the first
    point is x + U(-eps, eps) noise (``seed`` or ``generator``), projected likewise.
    Arguments, shapes and guarantees as :func:`fgsm`. Returns (n, d), detached, with
    ``|adv - x| <= eps`` elementwise and every value inside ``clip``.
    """
    x, y, eps, clip = _check_attack_args(model, x, y, eps, clip, "bim")
    step = _eps_tensor(check_eps(step, where="bim", n=x.shape[0], name="step"))
    steps = check_positive(steps, where="bim", name="steps", integer=True)
    check_bool(random_start, where="bim", name="random_start")
    gen = _generator(seed, generator, x, "bim")
    x = x.detach()
    e = _per_example(eps, x)
    # The projection is a clamp to [max(x - eps, lo), min(x + eps, hi)], fixed for all steps.
    lower, upper = x - e, x + e
    if clip is not None:
        lower.clamp_(min=clip[0])
        upper.clamp_(max=clip[1])
    if random_start:
        adv = torch.empty_like(x).uniform_(-1.0, 1.0, generator=gen).mul_(e).add_(x)
        adv.clamp_(lower, upper)
    else:
        adv = x.clone(memory_format=torch.contiguous_format)
    step = _per_example(step, x)
    with frozen(model):
        for i in range(steps):
            _signed_gradient_step(
                model,
                adv,
                y,
                step,
                lower,
                upper,
                adv,
                output=_output_check(model, y, "bim") if i == 0 else None,
            )
    return adv


def pgd(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: Eps,
    step: Eps,
    steps: int,
    *,
    clip: Clip = DEFAULT_CLIP,
    generator: torch.Generator | None = None,
    seed: int | None = None,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al., 2018): :func:`bim` from a random start."""
    return bim(
        model,
        x,
        y,
        eps,
        step,
        steps,
        clip=clip,
        random_start=True,
        generator=generator,
        seed=seed,
    )


def _check_noise_args(x, eps, clip, where):
    clip = check_clip(clip, where=where)
    x = as_tensor(x, where=where)
    check_x(x, where=where, clip=clip)
    if x.dim() == 0:
        raise ValueError(f"{where}: x must have a batch dimension (n, ...), got a 0-d tensor")
    eps = _eps_tensor(check_eps(eps, where=where, n=x.shape[0]))
    return x, eps, clip


def _add_noise(x, noise, eps, clip):
    """clip(x + eps·noise), in place on ``noise``."""
    adv = noise.mul_(_per_example(eps, x)).add_(x.detach())
    return adv.clamp_(*clip) if clip is not None else adv


def random_sign(
    x: torch.Tensor,
    eps: Eps,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    clip: Clip = DEFAULT_CLIP,
) -> torch.Tensor:
    """``clip(x + eps·s)`` with s uniform on {-1, +1} per element: noise of FGSM's max-norm.

    The paper's first noise baseline (Sec. 6, C21). x: float (n, ...) in ``clip``; eps: float
    >= 0 or (n,) tensor; ``seed`` or ``generator`` (else torch's global generator).
    Returns a new tensor like ``x``.
    """
    x, eps, clip = _check_noise_args(x, eps, clip, "random_sign")
    gen = _generator(seed, generator, x, "random_sign")
    s = torch.randint(0, 2, x.shape, generator=gen, dtype=x.dtype, device=x.device)
    return _add_noise(x, s.mul_(2).sub_(1), eps, clip)


def random_uniform(
    x: torch.Tensor,
    eps: Eps,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    clip: Clip = DEFAULT_CLIP,
) -> torch.Tensor:
    """``clip(x + u)`` with u ~ U(-eps, eps) per element: the paper's other noise baseline (C21).

    Arguments as :func:`random_sign`. Returns a new tensor like ``x``.
    """
    x, eps, clip = _check_noise_args(x, eps, clip, "random_uniform")
    gen = _generator(seed, generator, x, "random_uniform")
    u = torch.empty_like(x, memory_format=torch.contiguous_format)
    u.uniform_(-1.0, 1.0, generator=gen)
    return _add_noise(x, u, eps, clip)
