"""The paper's linear-model math in closed form, on NumPy or CuPy arrays (array-API style).

The namespace follows the input arrays (``array_api_compat.array_namespace``): pass CuPy
arrays and the same code runs on the GPU; CuPy is never required. :func:`backend` picks CuPy
when it is installed and a GPU is present, else NumPy. (Any namespace array-api-compat knows
works: the tests run the same code on torch tensors as a CPU stand-in for CuPy.)

Sec. 3: :func:`sign_perturbation`, :func:`activation_change`, :func:`quantize_8bit`.
Sec. 5: logistic regression with y in {-1, +1} (loss, gradients, FGSM and the adversarial
objective in closed form), softmax regression (loss, gradients, FGSM), L1 weight decay, and
:func:`fit_logistic` / :func:`fit_softmax`, one plain minibatch loop for the clean, adversarial
or L1-decayed objective. Losses are batch means; gradients are those of the batch mean. The
closed forms ignore clipping unless a ``clip`` range is given, as the paper does.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from array_api_compat import is_cupy_namespace

from advlib.checks import (
    check_choice,
    check_clip,
    check_eps,
    check_labels,
    check_namespace,
    check_pm1_labels,
    check_positive,
    check_real,
    check_seed,
    check_weights,
    check_x,
)

__all__ = [
    "backend",
    "backend_name",
    "to_numpy",
    "sign_perturbation",
    "activation_change",
    "quantize_8bit",
    "logistic_loss",
    "logistic_grad",
    "logistic_input_grad",
    "logistic_fgsm",
    "logistic_adversarial_loss",
    "logistic_adversarial_grad",
    "logistic_proba",
    "logistic_predict",
    "softmax_loss",
    "softmax_grad",
    "softmax_input_grad",
    "softmax_fgsm",
    "softmax_proba",
    "softmax_predict",
    "error_rate",
    "l1_penalty",
    "l1_grad",
    "LinearFit",
    "fit_logistic",
    "fit_softmax",
    "activation_growth",
    "eight_bit_storage",
    "fgsm_errors",
    "fit_objectives",
    "objectives_table",
    "penalty_history",
    "closed_form_check",
    "l1_charge",
]

BACKENDS = ("auto", "numpy", "cupy")
OBJECTIVES = ("clean", "adversarial", "l1")

Clip = tuple[float, float] | None


def _cupy_with_gpu() -> ModuleType | None:
    try:
        import cupy
    except ImportError:
        return None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
    except Exception:  # noqa: BLE001  (no driver, no device: CuPy is unusable here)
        return None
    return cupy


def backend(name: str = "auto") -> ModuleType:
    """The array module for ``name``: ``"numpy"``, ``"cupy"`` or ``"auto"`` (CuPy when a GPU is
    present and CuPy installed, else NumPy). Asking for ``"cupy"`` without a GPU is an error."""
    if name not in BACKENDS:
        raise ValueError(f"backend: name must be one of {BACKENDS}, got {name!r}")
    if name == "numpy":
        return np
    cupy = _cupy_with_gpu()
    if cupy is None:
        if name == "cupy":
            raise ValueError(
                "backend: 'cupy' needs CuPy installed and a visible GPU; neither "
                "is available here (use 'numpy' or 'auto')"
            )
        return np
    return cupy


def backend_name(xp: ModuleType) -> str:
    """``"cupy"`` or ``"numpy"`` for an array module or array-API namespace."""
    if not isinstance(xp, ModuleType):
        raise TypeError(
            f"backend_name: xp must be an array module (numpy, cupy or an array-API "
            f"namespace), got {type(xp).__name__}"
        )
    return "cupy" if is_cupy_namespace(xp) or getattr(xp, "__name__", "") == "cupy" else "numpy"


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (for charts and tables)."""
    if not (hasattr(a, "shape") and hasattr(a, "dtype")):
        raise TypeError(f"to_numpy: a must be a NumPy or CuPy array, got {type(a).__name__}")
    if hasattr(a, "get"):
        return a.get()
    return np.asarray(a)


# --------------------------------------------------------------------------------------------
# Sec. 3: the linear explanation


def sign_perturbation(w: Any, eps: float) -> Any:
    """η = eps·sign(w), the max-norm-eps perturbation that most increases wᵀx; shape of ``w``."""
    eps = check_eps(eps, where="sign_perturbation", scalar=True)
    xp = _weights_namespace(w, "sign_perturbation")
    return eps * xp.sign(w)


def activation_change(w: Any, eps: float) -> Any:
    """wᵀη for η = eps·sign(w): exactly eps·‖w‖₁, a scalar (or (k,) for w of shape (d, k))."""
    eps = check_eps(eps, where="activation_change", scalar=True)
    xp = _weights_namespace(w, "activation_change")
    return eps * xp.sum(xp.abs(w), axis=0)


def _weights_namespace(w, where):
    """The namespace of weights ``w`` (d,) or (d, k), after checking them: floating, finite."""
    check_x(w, where=where, name="w")
    if len(w.shape) not in (1, 2):
        raise ValueError(f"{where}: w must have shape (d,) or (d, k), got shape {tuple(w.shape)}")
    return check_namespace(w, where=where)


def quantize_8bit(x: Any) -> Any:
    """Store ``x`` in [0, 1] as an 8-bit image and read it back: round(255·x)/255, clipped."""
    check_x(x, where="quantize_8bit", clip=None)
    xp = check_namespace(x, where="quantize_8bit")
    return xp.round(xp.clip(x, 0.0, 1.0) * 255.0) / 255.0


# --------------------------------------------------------------------------------------------
# Numerically stable pieces (kernels take checked arrays and their namespace ``xp``)


def _softplus(xp, z):
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""
    return xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))


def _sigmoid(xp, z):
    """1 / (1 + e^-z) without overflow: the exponent is never positive."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _log_softmax(xp, z):
    """Row-wise log softmax of scores (n, k), through a max-shifted logsumexp."""
    z = z - xp.max(z, axis=1, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))


def _eps_array(xp, eps, x):
    """eps as a float, or a per-example (n,) array in x's dtype."""
    return eps if isinstance(eps, float) else xp.astype(eps, x.dtype)


def _eps_column(xp, eps, x):
    """eps as a float, or (n, 1) in x's dtype, to scale the rows of an (n, d) array."""
    eps = _eps_array(xp, eps, x)
    return eps if isinstance(eps, float) else xp.reshape(eps, (-1, 1))


def _logistic_u(xp, w, b, x, yf, eps):
    """u = -y(wᵀx + b) + eps‖w‖₁ per example: the softplus argument (eps = 0: the clean loss)."""
    u = -yf * (x @ w + b)
    return u + eps * xp.sum(xp.abs(w)) if not (isinstance(eps, float) and eps == 0.0) else u


def _logistic_loss_grad(xp, w, b, x, yf, eps):
    """(mean softplus(u), d/dw, d/db, mean σ(u)·eps): loss, gradient, and the effective L1
    coefficient the eps‖w‖₁ term puts on the gradient."""
    u = _logistic_u(xp, w, b, x, yf, eps)
    s = _sigmoid(xp, u) / x.shape[0]
    r = -yf * s  # dJ/d(wᵀx + b), per example
    coef = xp.sum(eps * s)
    return xp.mean(_softplus(xp, u)), r @ x + coef * xp.sign(w), xp.sum(r), coef


def _logistic_pred(xp, w, b, x):
    return xp.where(x @ w + b >= 0, xp.asarray(1), xp.asarray(-1))


def _softmax_residual(xp, W, b, x, onehot):
    """(softmax(xW + b) - onehot(y)) / n, (n, k): dJ/dscores of the mean cross-entropy."""
    return (xp.exp(_log_softmax(xp, x @ W + b)) - onehot) / x.shape[0]


def _softmax_loss(xp, W, b, x, onehot):
    return -xp.sum(_log_softmax(xp, x @ W + b) * onehot) / x.shape[0]


def _softmax_fgsm(xp, W, b, x, onehot, eps):
    adv = xp.sign(_softmax_residual(xp, W, b, x, onehot) @ W.T)
    adv *= _eps_column(xp, eps, x)
    adv += x
    return adv


def _onehot(xp, y, k, dtype):
    return xp.astype(y[:, None] == xp.arange(k)[None, :], dtype)


# --------------------------------------------------------------------------------------------
# Argument checks shared by the closed forms


def _logistic_args(w, b, x, y, where, eps=None, clip=None):
    """(xp, y as x's dtype, eps) after checking w (d,), b, x (n, d) (inside ``clip`` if set),
    y ±1 (n,) and eps."""
    check_x(x, where=where, ndim=2, clip=clip)
    xp = check_namespace(w, b, x, y, where=where)
    check_weights(w, b, where=where, features=x.shape[1], multiclass=False)
    check_pm1_labels(y, where=where, n=x.shape[0])
    eps = 0.0 if eps is None else _eps_array(xp, check_eps(eps, where=where, n=x.shape[0]), x)
    return xp, xp.astype(y, x.dtype), eps


def _softmax_args(W, b, x, y, where, eps=None, clip=None):
    """(xp, onehot(y) (n, k), eps) after checking W (d, k), b (k,), x (n, d) (inside ``clip``
    if set), y (n,) and eps."""
    check_x(x, where=where, ndim=2, clip=clip)
    xp = check_namespace(W, b, x, y, where=where)
    k = check_weights(W, b, where=where, features=x.shape[1], multiclass=True)
    check_labels(y, where=where, n=x.shape[0], num_classes=k)
    eps = 0.0 if eps is None else check_eps(eps, where=where, n=x.shape[0])
    return xp, _onehot(xp, y, k, x.dtype), eps


def _model_args(w, b, x, where, multiclass):
    check_x(x, where=where, ndim=2)
    xp = check_namespace(w, b, x, where=where)
    check_weights(w, b, where=where, features=x.shape[1], multiclass=multiclass)
    return xp


# --------------------------------------------------------------------------------------------
# Sec. 5: logistic regression, y in {-1, +1}


def logistic_loss(w: Any, b: Any, x: Any, y: Any) -> Any:
    """Mean softplus(-y(wᵀx + b)) over the batch: the logistic loss, a 0-d array.

    w: (d,); b: real or 0-d; x: (n, d) floating; y: (n,) of -1/+1 (int or float).
    """
    xp, yf, _ = _logistic_args(w, b, x, y, "logistic_loss")
    return xp.mean(_softplus(xp, _logistic_u(xp, w, b, x, yf, 0.0)))


def logistic_grad(w: Any, b: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """Gradient of :func:`logistic_loss` with respect to (w, b): ((d,), 0-d)."""
    xp, yf, _ = _logistic_args(w, b, x, y, "logistic_grad")
    return _logistic_loss_grad(xp, w, b, x, yf, 0.0)[1:3]


def logistic_input_grad(w: Any, b: Any, x: Any, y: Any) -> Any:
    """Gradient of :func:`logistic_loss` (the batch mean) with respect to x: (n, d).

    Row i is -y_i·σ(-y_i(wᵀx_i + b))·w / n: a positive multiple of -y_i·w.
    """
    xp, yf, _ = _logistic_args(w, b, x, y, "logistic_input_grad")
    r = -yf * _sigmoid(xp, _logistic_u(xp, w, b, x, yf, 0.0)) / x.shape[0]
    return r[:, None] * w[None, :]


def logistic_fgsm(w: Any, b: Any, x: Any, y: Any, eps: Any, *, clip: Clip = None) -> Any:
    """FGSM on logistic regression in closed form: x - eps·y·sign(w), (n, d).

    The input gradient is a positive multiple of -y·w, so none is computed. eps: float >= 0 or
    (n,). ``clip=None`` (the default, as in the paper) leaves the result unclipped; a range
    (lo, hi) checks that x lies in it and clips the result. :func:`logistic_adversarial_loss`
    is the loss at the unclipped point.
    """
    clip = check_clip(clip, where="logistic_fgsm")
    xp, yf, eps = _logistic_args(w, b, x, y, "logistic_fgsm", eps, clip)
    adv = xp.sign(w)[None, :] * (-yf[:, None])
    adv *= _eps_column(xp, eps, x)  # in place on one (n, d) buffer: passes over x are the cost
    adv += x
    return xp.clip(adv, *clip) if clip is not None else adv


def logistic_adversarial_loss(w: Any, b: Any, x: Any, y: Any, eps: Any) -> Any:
    """Mean softplus(-y(wᵀx + b) + eps‖w‖₁): the loss at the FGSM point, in closed form (C9).

    This is the worst case over ‖η‖∞ <= eps for either label: wᵀ(x - eps·y·sign(w)) =
    wᵀx - eps·y·‖w‖₁ and y² = 1. The paper prints softplus(y(eps‖w‖₁ - wᵀx - b)), which is
    the same only for y = +1 (for y = -1 it subtracts the penalty instead of adding it).
    Like the paper, it ignores clipping. eps: float >= 0 or (n,). Returns a 0-d array.
    """
    xp, yf, eps = _logistic_args(w, b, x, y, "logistic_adversarial_loss", eps)
    return xp.mean(_softplus(xp, _logistic_u(xp, w, b, x, yf, eps)))


def logistic_adversarial_grad(w: Any, b: Any, x: Any, y: Any, eps: Any) -> tuple[Any, Any]:
    """Gradient of :func:`logistic_adversarial_loss` with respect to (w, b): ((d,), 0-d).

    d/dw = mean σ(u)·(-y·x) + mean(eps·σ(u))·sign(w), u = -y(wᵀx + b) + eps‖w‖₁: an L1 penalty
    whose coefficient mean(eps·σ(u)) fades as the margins grow and σ(u) → 0 (C11). At w_j = 0
    it uses the subgradient sign(0) = 0, as torch's ``abs`` does.
    """
    xp, yf, eps = _logistic_args(w, b, x, y, "logistic_adversarial_grad", eps)
    return _logistic_loss_grad(xp, w, b, x, yf, eps)[1:3]


def logistic_proba(w: Any, b: Any, x: Any) -> Any:
    """p(y = +1 | x) = σ(wᵀx + b), (n,)."""
    xp = _model_args(w, b, x, "logistic_proba", multiclass=False)
    return _sigmoid(xp, x @ w + b)


def logistic_predict(w: Any, b: Any, x: Any) -> Any:
    """Predicted labels, -1 or +1 (int64), (n,); a score wᵀx + b of exactly 0 gives +1."""
    xp = _model_args(w, b, x, "logistic_predict", multiclass=False)
    return _logistic_pred(xp, w, b, x)


# --------------------------------------------------------------------------------------------
# Sec. 4-5: multiclass softmax regression, y in 0..k-1


def softmax_loss(W: Any, b: Any, x: Any, y: Any) -> Any:
    """Mean cross-entropy of softmax(xW + b) against y: a 0-d array.

    W: (d, k); b: (k,); x: (n, d) floating; y: (n,) integers in 0..k-1.
    """
    xp, onehot, _ = _softmax_args(W, b, x, y, "softmax_loss")
    return _softmax_loss(xp, W, b, x, onehot)


def softmax_grad(W: Any, b: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """Gradient of :func:`softmax_loss` with respect to (W, b): ((d, k), (k,))."""
    xp, onehot, _ = _softmax_args(W, b, x, y, "softmax_grad")
    r = _softmax_residual(xp, W, b, x, onehot)
    return x.T @ r, xp.sum(r, axis=0)


def softmax_input_grad(W: Any, b: Any, x: Any, y: Any) -> Any:
    """Gradient of :func:`softmax_loss` (the batch mean) with respect to x: (n, d)."""
    xp, onehot, _ = _softmax_args(W, b, x, y, "softmax_input_grad")
    return _softmax_residual(xp, W, b, x, onehot) @ W.T


def softmax_fgsm(W: Any, b: Any, x: Any, y: Any, eps: Any, *, clip: Clip = None) -> Any:
    """FGSM on softmax regression: x + eps·sign((softmax(xW + b) - onehot(y))Wᵀ), (n, d).

    eps: float >= 0 or (n,). ``clip`` as in :func:`logistic_fgsm` (None by default, as in the
    paper). The signs are those :func:`advlib.attacks.fgsm` finds by autograd on the same model.
    """
    clip = check_clip(clip, where="softmax_fgsm")
    xp, onehot, eps = _softmax_args(W, b, x, y, "softmax_fgsm", eps, clip)
    adv = _softmax_fgsm(xp, W, b, x, onehot, eps)
    return xp.clip(adv, *clip) if clip is not None else adv


def softmax_proba(W: Any, b: Any, x: Any) -> Any:
    """softmax(xW + b), (n, k)."""
    xp = _model_args(W, b, x, "softmax_proba", multiclass=True)
    return xp.exp(_log_softmax(xp, x @ W + b))


def softmax_predict(W: Any, b: Any, x: Any) -> Any:
    """Predicted classes, argmax of xW + b, (n,) int64."""
    xp = _model_args(W, b, x, "softmax_predict", multiclass=True)
    return xp.argmax(x @ W + b, axis=1)


def error_rate(y_pred: Any, y: Any) -> float:
    """Share of examples with y_pred != y, a float in [0, 1]; both (n,)."""
    for name, a in (("y_pred", y_pred), ("y", y)):
        if not (hasattr(a, "shape") and hasattr(a, "dtype")):
            raise TypeError(
                f"error_rate: {name} must be an array of labels (n,), got {type(a).__name__}"
            )
    if tuple(y_pred.shape) != tuple(y.shape) or len(y.shape) != 1:
        raise ValueError(
            f"error_rate: y_pred and y must both have shape (n,), got {tuple(y_pred.shape)} "
            f"and {tuple(y.shape)}"
        )
    xp = check_namespace(y_pred, y, where="error_rate")
    return float(xp.mean(xp.astype(y_pred != y, xp.float64))) if y.shape[0] else 0.0


# --------------------------------------------------------------------------------------------
# L1 weight decay, the paper's comparison (Sec. 5)


def l1_penalty(w: Any, l1: float) -> Any:
    """l1·‖w‖₁, summed over every entry of w (d,) or W (d, k): a 0-d array."""
    l1 = check_eps(l1, where="l1_penalty", name="l1", scalar=True)
    xp = _weights_namespace(w, "l1_penalty")
    return l1 * xp.sum(xp.abs(w))


def l1_grad(w: Any, l1: float) -> Any:
    """The subgradient l1·sign(w) of :func:`l1_penalty`, shape of w (0 where w is 0)."""
    l1 = check_eps(l1, where="l1_grad", name="l1", scalar=True)
    xp = _weights_namespace(w, "l1_grad")
    return l1 * xp.sign(w)


# --------------------------------------------------------------------------------------------
# Training: one plain minibatch loop for both models


class LinearFit(NamedTuple):
    """Weights found by :func:`fit_logistic` or :func:`fit_softmax`, and their history.

    ``history`` maps names to one value per epoch, measured on the whole training set after the
    epoch (``pandas.DataFrame(fit.history)`` tabulates it): ``epoch``; ``loss``, the objective
    minimised; ``clean_loss``; ``penalty`` = loss - clean_loss, what the objective adds (for
    "adversarial" (1 - alpha)·(J(x_adv) - J(x)), for "l1" l1·‖w‖₁); ``penalty_share`` =
    penalty / loss; ``error``, the clean training error; ``w_l1``, ‖w‖₁. Logistic regression
    also records ``penalty_weight``: the coefficient on sign(w) in the gradient, which for the
    adversarial objective is (1 - alpha)·eps·mean σ(u) and fades as margins grow, and for L1
    decay stays l1 (C11).
    """

    w: Any
    b: Any
    history: dict[str, list[float]]


def _fit_args(x, y, objective, eps, l1, alpha, epochs, lr, batch_size, seed, where):
    check_x(x, where=where, ndim=2)
    xp = check_namespace(x, y, where=where)
    check_choice(objective, where=where, name="objective", allowed=OBJECTIVES)
    eps = check_eps(eps, where=where, scalar=True)
    l1 = check_eps(l1, where=where, name="l1", scalar=True)
    alpha = check_real(alpha, where=where, name="alpha", low=0.0, high=1.0)
    seed = check_seed(seed, where=where)
    return (
        xp,
        dict(
            objective=objective,
            eps=eps,
            l1=l1,
            alpha=float(alpha),
        ),
        dict(
            epochs=check_positive(epochs, where=where, name="epochs", integer=True),
            lr=check_positive(lr, where=where, name="lr"),
            batch_size=check_positive(batch_size, where=where, name="batch_size", integer=True),
            seed=seed,
        ),
    )


def _logistic_objective(xp, w, b, x, yf, *, objective, eps, l1, alpha):
    """(loss, d/dw, d/db, clean loss, penalty weight) of a training objective on (x, y)."""
    loss, gw, gb, _ = _logistic_loss_grad(xp, w, b, x, yf, 0.0)
    clean, coef = loss, 0.0
    if objective == "adversarial":
        adv, aw, ab, acoef = _logistic_loss_grad(xp, w, b, x, yf, eps)
        loss, coef = alpha * loss + (1 - alpha) * adv, (1 - alpha) * acoef
        gw, gb = alpha * gw + (1 - alpha) * aw, alpha * gb + (1 - alpha) * ab
    elif objective == "l1":
        loss, gw, coef = loss + l1 * xp.sum(xp.abs(w)), gw + l1 * xp.sign(w), l1
    return loss, gw, gb, clean, coef


def _softmax_objective(xp, W, b, x, onehot, *, objective, eps, l1, alpha):
    """(loss, d/dW, d/db, clean loss, None) of a training objective on (x, onehot(y)).

    The adversarial half is the loss at the FGSM point x + eps·sign(∇ₓJ), held fixed while
    differentiating (as in Sec. 6); for a linear model this point is found in closed form.
    """
    r = _softmax_residual(xp, W, b, x, onehot)
    loss = clean = _softmax_loss(xp, W, b, x, onehot)
    gW, gb = x.T @ r, xp.sum(r, axis=0)
    if objective == "adversarial":
        xa = _softmax_fgsm(xp, W, b, x, onehot, eps)
        ra = _softmax_residual(xp, W, b, xa, onehot)
        loss = alpha * clean + (1 - alpha) * _softmax_loss(xp, W, b, xa, onehot)
        gW = alpha * gW + (1 - alpha) * (xa.T @ ra)
        gb = alpha * gb + (1 - alpha) * xp.sum(ra, axis=0)
    elif objective == "l1":
        loss, gW = loss + l1 * xp.sum(xp.abs(W)), gW + l1 * xp.sign(W)
    return loss, gW, gb, clean, None


def _descend(xp, x, target, w, b, objective, error, *, epochs, lr, batch_size, seed):
    """Minibatch gradient descent on ``objective``; one history row per epoch (see LinearFit).

    The permutation comes from NumPy for every namespace, so a seed gives the same batches on
    NumPy and CuPy.
    """
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {}
    n = x.shape[0]
    for epoch in range(1, epochs + 1):
        order = xp.asarray(rng.permutation(n))
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            _, gw, gb, _, _ = objective(w, b, xp.take(x, idx, axis=0), xp.take(target, idx, axis=0))
            w, b = w - lr * gw, b - lr * gb
        loss, _, _, clean, coef = objective(w, b, x, target)
        loss, clean = float(loss), float(clean)
        row = dict(
            epoch=epoch,
            loss=loss,
            clean_loss=clean,
            penalty=loss - clean,
            penalty_share=(loss - clean) / loss if loss > 0 else 0.0,
            error=error(w, b),
            w_l1=xp.sum(xp.abs(w)),
        )
        if coef is not None:
            row["penalty_weight"] = coef
        for name, value in row.items():
            history.setdefault(name, []).append(float(value))
    return LinearFit(w, b, history)


def fit_logistic(
    x: Any,
    y: Any,
    *,
    objective: str = "clean",
    eps: float = 0.25,
    l1: float = 0.0025,
    alpha: float = 0.0,
    epochs: int = 20,
    lr: float = 0.05,
    batch_size: int = 100,
    seed: int = 0,
) -> LinearFit:
    """Logistic regression by minibatch gradient descent from w = 0, b = 0 (Sec. 5).

    x: (n, d) floating; y: (n,) of -1/+1. ``objective``: "clean" (mean softplus(-y(wᵀx + b))),
    "adversarial" (alpha·clean + (1 - alpha)·:func:`logistic_adversarial_loss` at ``eps``;
    alpha = 0, the default, is the paper's Sec. 5 objective) or "l1" (clean + l1·‖w‖₁).
    ``seed`` fixes the order of the examples: the same seed gives the same weights. Returns a
    :class:`LinearFit` with w (d,) and b (0-d) in x's namespace and dtype.
    """
    where = "fit_logistic"
    xp, obj, loop = _fit_args(x, y, objective, eps, l1, alpha, epochs, lr, batch_size, seed, where)
    check_pm1_labels(y, where=where, n=x.shape[0])
    yf = xp.astype(y, x.dtype)
    if bool(xp.all(yf == yf[0])):
        raise ValueError(
            f"{where}: y holds one class only ({int(yf[0]):+d}); training needs "
            "examples of both -1 and +1"
        )

    def objective_(w, b, xb, yb):
        return _logistic_objective(xp, w, b, xb, yb, **obj)

    def error(w, b):
        return xp.mean(xp.astype(_logistic_pred(xp, w, b, x) != yf, xp.float64))

    w0, b0 = xp.zeros(x.shape[1], dtype=x.dtype), xp.zeros((), dtype=x.dtype)
    return _descend(xp, x, yf, w0, b0, objective_, error, **loop)


def fit_softmax(
    x: Any,
    y: Any,
    *,
    num_classes: int | None = None,
    objective: str = "clean",
    eps: float = 0.25,
    l1: float = 0.0025,
    alpha: float = 0.5,
    epochs: int = 20,
    lr: float = 0.5,
    batch_size: int = 100,
    seed: int = 0,
) -> LinearFit:
    """Softmax regression by minibatch gradient descent from W = 0, b = 0.

    x: (n, d) floating; y: (n,) integers in 0..k-1 (k = ``num_classes``, else max(y) + 1).
    ``objective``: "clean" (mean cross-entropy), "adversarial" (alpha·J(x) + (1 - alpha)·J(x_adv),
    x_adv the closed-form FGSM point at ``eps``, regenerated every step; alpha = .5 as in the
    paper's Sec. 6) or "l1" (J + l1·‖W‖₁). Returns a :class:`LinearFit` with W (d, k) and
    b (k,) in x's namespace and dtype; its history has no ``penalty_weight``.
    """
    where = "fit_softmax"
    xp, obj, loop = _fit_args(x, y, objective, eps, l1, alpha, epochs, lr, batch_size, seed, where)
    if num_classes is None:
        check_labels(y, where=where, n=x.shape[0], num_classes=None)
        num_classes = int(xp.max(y)) + 1
    k = check_positive(num_classes, where=where, name="num_classes", integer=True)
    check_labels(y, where=where, n=x.shape[0], num_classes=k)
    if bool(xp.all(y == y[0])):
        raise ValueError(
            f"{where}: y holds one class only ({int(y[0])}); training needs "
            "examples of at least 2 classes"
        )
    onehot = _onehot(xp, y, k, x.dtype)

    def objective_(W, b, xb, ob):
        return _softmax_objective(xp, W, b, xb, ob, **obj)

    def error(W, b):
        return xp.mean(xp.astype(xp.argmax(x @ W + b, axis=1) != y, xp.float64))

    W0, b0 = xp.zeros((x.shape[1], k), dtype=x.dtype), xp.zeros(k, dtype=x.dtype)
    return _descend(xp, x, onehot, W0, b0, objective_, error, **loop)


# --------------------------------------------------------------------------------------------
# The chapters' studies: Sec. 3's tables, Sec. 5's comparison of adversarial training and L1


def activation_growth(
    eps: float, dims: Any, draws: int, rng: np.random.Generator, *, xp: ModuleType = np
) -> pd.DataFrame:
    """wᵀη against the dimension (Sec. 3, C1): for each n of ``dims``, ``draws`` weight vectors
    w ~ N(0, 1) and inputs x ~ U(0, 1) of length n from ``rng`` (in that order), η =
    eps·sign(w), arrays in ``xp``.

    Returns one row per n: ``max-norm of eta`` (largest over the draws), ``measured change``
    wᵀ(x + η) − wᵀx, ``eps * ||w||_1`` and ``eps * m * n`` (m the mean ``|w_i|``), their means over
    the draws, and ``relative deviation`` of the measured change from eps·‖w‖₁ (largest).
    """
    eps = check_eps(eps, where="activation_growth")
    rows = []
    for n in dims:
        for _ in range(draws):
            w = xp.asarray(rng.standard_normal(n))
            x = xp.asarray(rng.uniform(0.0, 1.0, n))
            eta = sign_perturbation(w, eps)
            measured = float(w @ (x + eta) - w @ x)
            closed_form = float(activation_change(w, eps))
            rows.append(
                {
                    "n": n,
                    "max-norm of eta": float(xp.max(xp.abs(eta))),
                    "measured change": measured,
                    "eps * ||w||_1": closed_form,
                    "eps * m * n": eps * float(xp.mean(xp.abs(w))) * n,
                    "relative deviation": abs(measured - closed_form) / closed_form,
                }
            )
    return (
        pd.DataFrame(rows)
        .groupby("n", as_index=False)
        .agg(
            {
                "max-norm of eta": "max",
                "measured change": "mean",
                "eps * ||w||_1": "mean",
                "eps * m * n": "mean",
                "relative deviation": "max",
            }
        )
    )


def eight_bit_storage(
    eps_grid: Any, rng: np.random.Generator, *, repeats: int = 40, xp: ModuleType = np
) -> pd.DataFrame:
    """What an 8-bit image keeps of x + eps·sign(w) (Sec. 3, C2): x holds every 8-bit level
    ``repeats`` times, w ~ N(0, 1) one draw per pixel from ``rng``; each x + eps·sign(w) is
    stored with :func:`quantize_8bit`.

    Returns one row per eps of ``eps_grid`` (in [0, 1] units): ``eps (levels of 1/255)``,
    ``eps``, ``pixels changed`` (fraction of stored pixels that moved) and ``largest move
    (levels)``.
    """
    levels = xp.asarray(np.tile(np.arange(256) / 255.0, repeats))
    direction = xp.asarray(rng.standard_normal(levels.shape[0]))
    rows = []
    for e in eps_grid:
        kept = quantize_8bit(levels + sign_perturbation(direction, float(e)))
        moved = xp.round(xp.abs(kept - levels) * 255.0)  # whole levels
        rows.append(
            {
                "eps (levels of 1/255)": float(e * 255.0),
                "eps": float(e),
                "pixels changed": float(xp.mean(moved > 0.5)),
                "largest move (levels)": float(xp.max(moved)),
            }
        )
    return pd.DataFrame(rows)


def _is_logistic(fit: Any) -> bool:
    return len(fit[0].shape) == 1


def fgsm_errors(fit: Any, x: Any, y: Any, eps: float) -> tuple[float, float]:
    """(clean error, FGSM error at ``eps``) of a linear fit on x (n, d), y (n,): logistic
    regression when w is (d,) (y in {-1, +1}), softmax regression when W is (d, k); the FGSM
    examples in closed form, unclipped as in the paper. ``fit`` is a :class:`LinearFit` or a
    (w, b) pair."""
    w, b = fit[0], fit[1]
    if _is_logistic(fit):
        predict, attack = logistic_predict, logistic_fgsm
    else:
        predict, attack = softmax_predict, softmax_fgsm
    clean = error_rate(predict(w, b, x), y)
    return clean, error_rate(predict(w, b, attack(w, b, x, y, eps)), y)


def fit_objectives(
    x: Any, y: Any, eps_values: Any, *, model: str, epochs: int, seed: int = 0
) -> dict[tuple[str, float], LinearFit]:
    """The paper's comparison of regularisers (Sec. 5, C11): a clean fit and, for every eps of
    ``eps_values``, the adversarial objective (the loss at the FGSM point alone, alpha = 0)
    and L1 weight decay at λ = eps, all from zero weights with the same ``seed`` and epochs.

    model: "logistic" (:func:`fit_logistic`, y in {-1, +1}) or "softmax" (:func:`fit_softmax`).
    Returns {("clean", 0.0) | ("adversarial", eps) | ("L1 decay", eps): LinearFit}.
    """
    check_choice(model, where="fit_objectives", name="model", allowed=("logistic", "softmax"))
    train = fit_logistic if model == "logistic" else fit_softmax
    common = dict(epochs=epochs, seed=seed)
    fits = {("clean", 0.0): train(x, y, objective="clean", **common)}
    for e in eps_values:
        e = float(e)
        fits[("adversarial", e)] = train(x, y, objective="adversarial", eps=e, alpha=0.0, **common)
        fits[("L1 decay", e)] = train(x, y, objective="l1", l1=e, **common)
    return fits


def objectives_table(fits: dict, x_test: Any, y_test: Any, eps: float) -> pd.DataFrame:
    """One row per fit of :func:`fit_objectives`, indexed by (``objective``, ``eps``): ``train
    error`` (after the last epoch), ``test error``, ``FGSM test error (same eps)`` (at the fit's
    own eps; the clean fit at ``eps``), ``FGSM test error (eps <eps>)`` and ``‖w‖₁``."""
    rows = []
    for (objective, e), fit in fits.items():
        test_clean, test_fgsm = fgsm_errors(fit, x_test, y_test, e if e else eps)
        rows.append(
            {
                "objective": objective,
                "eps": e,
                "train error": fit.history["error"][-1],
                "test error": test_clean,
                "FGSM test error (same eps)": test_fgsm,
                f"FGSM test error (eps {eps:g})": fgsm_errors(fit, x_test, y_test, eps)[1],
                "‖w‖₁": fit.history["w_l1"][-1],
            }
        )
    return pd.DataFrame(rows).set_index(["objective", "eps"])


def penalty_history(fits: dict) -> pd.DataFrame:
    """How much each regulariser of :func:`fit_objectives` charged, epoch by epoch (logistic
    fits only: C11's fading penalty): one row per (fit, epoch) with ``training``,
    ``objective``, ``eps`` (a label), ``epoch``, ``L1 coefficient / eps`` (the coefficient on
    sign(w) in the gradient, as a share of eps: 1 for L1 decay) and ``penalty added to the
    loss``."""
    rows = []
    for (objective, e), fit in fits.items():
        if objective == "clean" or "penalty_weight" not in fit.history:
            continue
        h = fit.history
        for epoch, weight, penalty in zip(
            h["epoch"], h["penalty_weight"], h["penalty"], strict=True
        ):
            rows.append(
                {
                    "training": f"{objective}, eps = {e:g}",
                    "objective": objective,
                    "eps": f"{e:g}",
                    "epoch": epoch,
                    "L1 coefficient / eps": weight / e,
                    "penalty added to the loss": penalty,
                }
            )
    return pd.DataFrame(rows)


def closed_form_check(
    w: Any, b: Any, x: Any, y: Any, eps: float, *, corners: int = 20, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, float]]:
    """C9 checked on a trained logistic regression w (d,), b, on x (n, d), y (n,) of ±1.

    Compares the loss at the FGSM point (perturbed inputs built and scored) with the closed
    form ζ(eps‖w‖₁ − y(wᵀx + b)) and with the form the paper prints, ζ(y(eps‖w‖₁ − wᵀx − b)),
    for all labels and per label; and against ``corners`` random corners of the eps-ball.
    Returns the table and the numbers: ``at_fgsm``, ``closed_loss``, ``closed_form_gap``,
    ``printed_gap_positive`` (largest), ``printed_gap_negative`` (mean),
    ``printed_loss_negative``, ``closed_loss_negative``, ``clean_loss``,
    ``random_corner_loss`` (the highest), ``corners`` and ``w_l1``.
    """
    xp = check_namespace(w, b, x, y, where="closed_form_check")
    w_np, b_np = to_numpy(w), float(to_numpy(b))
    x_np, y_np = to_numpy(x), to_numpy(y)
    margin = y_np * (x_np @ w_np + b_np)  # y(wᵀx + b) per example
    w_l1 = float(np.abs(w_np).sum())
    ours = np.logaddexp(0.0, eps * w_l1 - margin)  # ζ(eps‖w‖₁ − y(wᵀx + b))
    printed = np.logaddexp(0.0, y_np * (eps * w_l1 - (x_np @ w_np + b_np)))
    at_fgsm = float(logistic_loss(w, b, logistic_fgsm(w, b, x, y, eps), y))
    closed = float(logistic_adversarial_loss(w, b, x, y, eps))
    rng = np.random.default_rng(seed)
    random_corners = max(
        float(
            logistic_loss(w, b, x + xp.asarray(eps * rng.choice([-1.0, 1.0], size=x_np.shape)), y)
        )
        for _ in range(corners)
    )
    rows = [
        {
            "labels": "all",
            "loss at the FGSM point": at_fgsm,
            "ζ(eps‖w‖₁ − y(wᵀx+b))": closed,
            "paper's ζ(y(eps‖w‖₁ − wᵀx − b))": float(printed.mean()),
        }
    ]
    for s in (1, -1):
        keep = y == s
        rows.append(
            {
                "labels": f"y = {s:+d}",
                "loss at the FGSM point": float(
                    logistic_loss(w, b, logistic_fgsm(w, b, x[keep], y[keep], eps), y[keep])
                ),
                "ζ(eps‖w‖₁ − y(wᵀx+b))": float(ours[y_np == s].mean()),
                "paper's ζ(y(eps‖w‖₁ − wᵀx − b))": float(printed[y_np == s].mean()),
            }
        )
    gap = np.abs(printed - ours)
    numbers = {
        "at_fgsm": at_fgsm,
        "closed_loss": closed,
        "closed_form_gap": abs(at_fgsm - closed),
        "printed_gap_positive": float(gap[y_np == 1].max()),
        "printed_gap_negative": float(gap[y_np == -1].mean()),
        "printed_loss_negative": float(printed[y_np == -1].mean()),
        "closed_loss_negative": float(ours[y_np == -1].mean()),
        "clean_loss": float(np.logaddexp(0.0, -margin).mean()),
        "random_corner_loss": random_corners,
        "corners": corners,
        "w_l1": w_l1,
    }
    return pd.DataFrame(rows), numbers


def l1_charge(fit: Any, x: Any, y: Any, eps: float) -> dict[str, float]:
    """What L1 decay at λ = eps charges a linear fit, against what a perturbation of max-norm
    eps can do (C11): ``rise of the cost`` (the mean cost at the FGSM point minus the clean
    cost, on x (n, d), y (n,)), ``one-η bound`` (eps·max_j ‖w_j − w_y‖₁, the most one η can
    raise it; eps‖w‖₁ for logistic regression), ``L1 charge`` (eps·‖W‖₁, every entry), and
    the ratios ``L1 charge / one-η bound`` and ``L1 charge / rise``."""
    w, b = fit[0], fit[1]
    if _is_logistic(fit):
        w_l1 = float(np.abs(to_numpy(w)).sum())
        rise = float(logistic_adversarial_loss(w, b, x, y, eps) - logistic_loss(w, b, x, y))
        bound = charge = eps * w_l1
    else:
        W = to_numpy(w)
        apart = np.abs(W[:, :, None] - W[:, None, :]).sum(axis=0)  # ‖w_j − w_k‖₁, (k, k)
        rise = float(
            softmax_loss(w, b, softmax_fgsm(w, b, x, y, eps), y) - softmax_loss(w, b, x, y)
        )
        bound = eps * float(apart.max(axis=0)[to_numpy(y)].mean())
        charge = eps * float(np.abs(W).sum())
    return {
        "rise of the cost": rise,
        "one-η bound": bound,
        "L1 charge": charge,
        "L1 charge / one-η bound": charge / bound,
        "L1 charge / rise": charge / rise,
    }
