"""Training the paper's networks, clean or adversarially (Sec. 6), and measuring them.

:func:`fit` is one plain loop. With ``alpha`` set, each step minimises the paper's objective

    alpha·J(θ, x, y) + (1 − alpha)·J(θ, x + eta, y),  eta = eps·sign(∇ₓJ(θ, x, y))     (C13)

with ``eta`` regenerated against the current parameters at every step. By default the clean
half's backward pass yields the input gradient and the parameter gradients together, so a step
costs two forward+backward passes, not three; the FGSM direction then sees the same dropout mask
as the clean half. ``fgsm_dropout="off"`` takes the direction from the deterministic net (dropout
off) in a pass of its own: three passes, and the attack is the one the model is tested against.

The same loop trains the paper's baselines: ``perturbation="noise-sign"`` (eta = ±eps at random)
and ``"noise-uniform"`` (eta ~ U(−eps, eps)) (C21), a perturbation of hidden layer ``layer``
instead of the input (C22), and an L1 penalty on the first layer's weights (C12).

Optimiser: Adam (lr 1e-3, batch 100) by default, to fit a CPU budget. The maxout paper used SGD
with batch 100, learning rate .1 divided by 1.000004 after every step (down to 1e-6) and momentum
rising linearly from .5 to .7 over 250 epochs: ``optimizer="sgd"`` does that.
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from numbers import Real
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from advlib.attacks import fgsm, frozen, model_loss
from advlib.checks import check_choice, check_clip, check_eps, check_labels, check_x
from advlib.data import validation_split

__all__ = ["fit", "evaluate", "predict", "PERTURBATIONS", "TRAIN_VERSION"]

TRAIN_VERSION = "1"
"""The training code's version, which every cache key includes. Bump it when a change to this
module or to advlib.models changes what a given configuration trains to."""

PERTURBATIONS = ("fgsm", "noise-sign", "noise-uniform")
FGSM_DROPOUT = ("same", "off")
OPTIMIZERS = ("adam", "sgd")
EARLY_STOPPING = (None, "clean", "adversarial")
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.1}


# --------------------------------------------------------------------------------------------
# The training loop


def fit(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    *,
    epochs: int,
    eps: float = 0.25,
    alpha: float | None = None,
    seed: int = 0,
    perturbation: str = "fgsm",
    fgsm_dropout: str = "same",
    layer: int = 0,
    clip: tuple[float, float] | None = None,
    l1: float = 0.0,
    optimizer: str = "adam",
    lr: float | None = None,
    batch_size: int = 100,
    valid: float | tuple | None = None,
    test: tuple | None = None,
    valid_eps: float = 0.25,
    early_stopping: str | None = None,
    patience: int | None = None,
    retrain: bool = False,
    progress: bool | None = None,
) -> dict:
    """Train ``model`` in place on ``x`` float (n, 784) in [0, 1] and ``y`` int64 (n,).

    alpha: None trains on J(θ, x, y) alone; a value in (0, 1) (the paper: .5) trains on
      alpha·J(x) + (1 − alpha)·J(x + eta), eta of max-norm ``eps`` made by ``perturbation``
      ("fgsm", "noise-sign" or "noise-uniform") at representation ``layer`` (0: the input;
      1, 2: the maxout net's hidden layers, see :meth:`advlib.models.MaxoutMLP.features`).

    fgsm_dropout: "same" (2 passes per step, the direction under the clean half's dropout mask)
      or "off" (3 passes, the direction from the net with dropout off).

    clip: range x + eta is clipped to; None (default) leaves it unclipped, as the paper did.

    l1: coefficient of Σ|W| over the first layer's weights, added to the loss (C12: .0025).

    valid: (x, y), or a fraction of the training data held out (stratified, seeded), on which
      clean and FGSM error (at ``valid_eps``, clipped like training) are logged every epoch;
      ``test`` (x, y) is logged the same way, for curves only.

    early_stopping: None, "clean" or "adversarial": keep the weights of the epoch with the lowest
      validation error of that kind; stop after ``patience`` epochs without improvement (None:
      run all ``epochs``). retrain: then train afresh on training + validation data for the
      chosen number of epochs, as the paper did for its 1600-unit nets (C15).

    Seeded: the same call gives bit-identical weights on the same machine and thread count. The
    model's initial weights come from the caller; the global torch RNG is left as it was.
    Returns a JSON-able dict: ``epochs`` (one row per epoch: phase ("fit" or "retrain"), epoch,
    loss, seconds of training (logging aside), and ``valid_``/``test_`` ``error``/``adv_error``
    where logged), ``best_epoch``, ``passes_per_step``, ``seconds`` (all of it).
    """
    where = "fit"
    x, y = _as_tensors(model, x, y, where)
    epochs = _check_int(epochs, where=where, name="epochs", low=1)
    batch_size = _check_int(batch_size, where=where, name="batch_size", low=1)
    eps = check_eps(eps, where=where)
    valid_eps = check_eps(valid_eps, where=where, name="valid_eps")
    l1 = check_eps(l1, where=where, name="l1")
    clip = check_clip(clip, where=where)
    if alpha is not None and not (isinstance(alpha, Real) and 0 < alpha < 1):
        raise ValueError(
            f"{where}: alpha must be None (clean training) or a number in (0, 1) (the paper: .5), "
            f"got {alpha!r}"
        )
    check_choice(perturbation, where=where, name="perturbation", allowed=PERTURBATIONS)
    check_choice(fgsm_dropout, where=where, name="fgsm_dropout", allowed=FGSM_DROPOUT)
    check_choice(optimizer, where=where, name="optimizer", allowed=OPTIMIZERS)
    check_choice(early_stopping, where=where, name="early_stopping", allowed=EARLY_STOPPING)
    layer = _check_int(layer, where=where, name="layer", low=0)
    if layer > getattr(model, "hidden_layers", 0):
        raise ValueError(
            f"{where}: layer={layer} is not a layer of {type(model).__name__}: 0 is the input, "
            "1..hidden_layers the hidden layers of a model with features/forward_from (maxout)"
        )
    if layer > 0 and clip is not None:
        raise ValueError(f"{where}: clip applies to input perturbations only; got layer={layer}")
    if l1 and not hasattr(model, "first_layer"):
        raise ValueError(
            f"{where}: l1 needs a model with a first_layer; {type(model).__name__} has none"
        )
    lr = DEFAULT_LR[optimizer] if lr is None else check_eps(lr, where=where, name="lr")
    if patience is not None:
        patience = _check_int(patience, where=where, name="patience", low=1)
    if (early_stopping or retrain) and valid is None:
        raise ValueError(f"{where}: early_stopping and retrain need a validation set (valid=)")
    if retrain and not early_stopping:
        raise ValueError(
            f"{where}: retrain=True needs early_stopping to choose the number of epochs"
        )
    x_fit, y_fit, monitored = x, y, {}
    if valid is not None:
        if isinstance(valid, Real):
            if not 0 < valid < 1:
                raise ValueError(f"{where}: valid as a fraction must lie in (0, 1), got {valid!r}")
            xf, yf, xv, yv = validation_split(x.numpy(), y.numpy(), float(valid), seed=seed)
            x_fit, y_fit = torch.from_numpy(xf), torch.from_numpy(yf)
            monitored["valid"] = (torch.from_numpy(xv), torch.from_numpy(yv))
        else:
            monitored["valid"] = _as_tensors(model, *_pair(valid, "valid", where), where)
    if test is not None:
        monitored["test"] = _as_tensors(model, *_pair(test, "test", where), where)

    settings = dict(
        eps=eps, alpha=alpha, perturbation=perturbation, fgsm_dropout=fgsm_dropout, layer=layer,
        clip=clip, l1=l1, optimizer=optimizer, lr=lr, batch_size=batch_size, seed=seed,
        valid_eps=valid_eps, patience=patience,
        progress=sys.stderr.isatty() and not os.environ.get("CI") if progress is None else progress,
    )  # fmt: skip
    history = {
        "epochs": [],
        "best_epoch": None,
        "passes_per_step": _passes_per_step(alpha, perturbation, fgsm_dropout),
        "seconds": 0.0,
    }
    initial = copy.deepcopy(model.state_dict())
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        best = _run(
            model, x_fit, y_fit, epochs, monitored, early_stopping, "fit", history, settings
        )
        if early_stopping:
            history["best_epoch"], best_state = best
            model.load_state_dict(best_state)
        if retrain:
            # Afresh, from the same initial weights, on every training digit (C15).
            model.load_state_dict(initial)
            x_all = torch.cat([x_fit, monitored["valid"][0]])
            y_all = torch.cat([y_fit, monitored["valid"][1]])
            rest = {k: v for k, v in monitored.items() if k != "valid"}
            _run(
                model, x_all, y_all, history["best_epoch"], rest, None, "retrain", history, settings
            )
    history["seconds"] = time.perf_counter() - start
    model.eval()
    return history


def _run(model, x, y, epochs, monitored, early_stopping, phase, history, settings):
    """Train for up to ``epochs`` epochs, logging rows into ``history``; returns
    (best epoch, its state dict) under ``early_stopping``, else None."""
    seed = settings["seed"]
    torch.manual_seed(seed)  # dropout masks
    order = np.random.default_rng(seed)  # minibatch order
    noise = torch.Generator().manual_seed(seed)  # noise-training perturbations
    opt = _optimizer(model, settings["optimizer"], settings["lr"])
    best_error, best = math.inf, None
    bar = tqdm(range(1, epochs + 1), desc=phase, disable=not settings["progress"], leave=False)
    for epoch in bar:
        tic = time.perf_counter()
        _set_momentum(opt, epoch)
        model.train()
        total, n = 0.0, len(x)
        for idx in np.array_split(order.permutation(n), math.ceil(n / settings["batch_size"])):
            idx = torch.from_numpy(idx)
            loss = _step(model, opt, x[idx], y[idx], noise, **settings)
            total += loss * len(idx)
        row = {
            "phase": phase,
            "epoch": epoch,
            "loss": total / n,
            "seconds": time.perf_counter() - tic,
        }
        for name, (xm, ym) in monitored.items():
            row[f"{name}_error"] = evaluate(model, xm, ym, clip=None)["error"]
            attacked = evaluate(model, xm, ym, settings["valid_eps"], clip=settings["clip"])
            row[f"{name}_adv_error"] = attacked["error"]
        history["epochs"].append(row)
        bar.set_postfix(
            {k: round(v, 4) for k, v in row.items() if k.endswith("error") or k == "loss"}
        )
        if early_stopping:
            error = row["valid_error" if early_stopping == "clean" else "valid_adv_error"]
            if error < best_error:
                best_error, best = error, (epoch, copy.deepcopy(model.state_dict()))
            elif settings["patience"] is not None and epoch - best[0] >= settings["patience"]:
                break
    return best


def _step(model, opt, x, y, noise, *, eps, alpha, perturbation, fgsm_dropout, layer, clip, l1, **_):
    """One optimiser step on a minibatch; returns the objective's value."""
    opt.zero_grad(set_to_none=True)
    penalty = l1 * model.first_layer.weight.abs().sum() if l1 else 0.0

    if alpha is None:  # clean training: J(θ, x, y)
        loss = _objective(model, model(x), y)
        (loss + penalty).backward()
        _update(model, opt)
        return float(loss.detach())

    direction = None
    if perturbation == "fgsm" and fgsm_dropout == "off":
        direction = _eval_gradient(model, x, y, layer)  # the third pass
    # Clean half. Its backward gives the parameter gradients and, when the FGSM direction is
    # taken under this same dropout mask, ∇_h J at the perturbed layer as well: one pass for both.
    need_grad = perturbation == "fgsm" and direction is None
    h = _features(model, x.requires_grad_(need_grad and layer == 0), layer)
    if need_grad and layer:
        h.retain_grad()
    clean = _objective(model, _forward_from(model, h, layer), y)
    (alpha * clean + penalty).backward()
    if perturbation == "fgsm":
        eta = eps * (direction if direction is not None else h.grad).sign()
    elif perturbation == "noise-sign":
        eta = eps * (torch.randint(0, 2, h.shape, generator=noise, dtype=h.dtype) * 2 - 1)
    else:  # noise-uniform
        eta = eps * (torch.rand(h.shape, generator=noise, dtype=h.dtype) * 2 - 1)

    # Adversarial half: a fresh forward (new dropout mask) from the perturbed representation.
    if layer == 0:
        x_adv = x.detach() + eta
        if clip is not None:
            x_adv = x_adv.clamp(*clip)
        scores = model(x_adv)
    else:
        scores = model.forward_from(layer, model.features(x, layer) + eta)
    adv = _objective(model, scores, y)
    ((1 - alpha) * adv).backward()
    _update(model, opt)
    return float(alpha * clean.detach() + (1 - alpha) * adv.detach())


def _objective(model, scores, y):
    """J used for training: the model's ``train_loss`` if it has one (RBF), else its loss."""
    train_loss = getattr(model, "train_loss", None)
    return train_loss(scores, y) if train_loss is not None else model_loss(model, scores, y)


def _features(model, x, layer):
    return x if layer == 0 else model.features(x, layer)


def _forward_from(model, h, layer):
    return model(h) if layer == 0 else model.forward_from(layer, h)


def _eval_gradient(model, x, y, layer):
    """∇_h J at ``layer`` with dropout off (one forward and backward, no parameter gradients)."""
    with frozen(model):
        h = _features(model, x, layer).detach().requires_grad_(True)
        loss = _objective(model, _forward_from(model, h, layer), y)
        (grad,) = torch.autograd.grad(loss, h)
    return grad


def _update(model, opt):
    opt.step()
    constrain = getattr(model, "apply_constraints", None)
    if constrain is not None:
        constrain()
    decay = getattr(opt, "lr_decay", None)
    if decay is not None:  # the maxout paper's per-step exponential decay
        for group in opt.param_groups:
            group["lr"] = max(group["lr"] / decay, 1e-6)


def _optimizer(model, name, lr):
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    opt.lr_decay = 1.000004
    return opt


def _set_momentum(opt, epoch):
    # The maxout paper's MomentumAdjustor: .5 at epoch 1 rising linearly to .7 at epoch 250.
    if isinstance(opt, torch.optim.SGD):
        for group in opt.param_groups:
            group["momentum"] = 0.5 + 0.2 * min(epoch - 1, 249) / 249


def _passes_per_step(alpha, perturbation, fgsm_dropout):
    if alpha is None:
        return 1
    return 3 if perturbation == "fgsm" and fgsm_dropout == "off" else 2


# --------------------------------------------------------------------------------------------
# Measuring a trained model


def predict(model: torch.nn.Module, x: Any, *, batch_size: int = 1000):
    """``(pred, confidence, probs)`` as NumPy: int64 (n,), float32 (n,) and (n, k), dropout off.

    ``pred`` is the argmax of ``model.probs(scores)`` and ``confidence`` its max.
    """
    where = "predict"
    x = _as_x(model, x, where)
    batch_size = _check_int(batch_size, where=where, name="batch_size", low=1)
    with frozen(model), torch.no_grad():
        probs = torch.cat([_probs(model, model(xb)) for xb in x.split(batch_size)])
    confidence, pred = probs.max(dim=1)
    return pred.numpy(), confidence.numpy(), probs.numpy()


def evaluate(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float = 0.0,
    *,
    clip: tuple[float, float] | None = (0.0, 1.0),
    batch_size: int = 1000,
) -> dict:
    """Error and confidence of ``model`` on ``x`` (n, 784), ``y`` (n,), or on their FGSM
    examples at ``eps`` when eps > 0 (``clip=None``: the paper's unclipped examples).

    Returns ``{"error", "confidence", "mistake_confidence", "n"}``: error rate, mean max
    probability, mean max probability over the mistakes only (nan when there are none), count.
    """
    where = "evaluate"
    x, y = _as_tensors(model, x, y, where)
    eps = check_eps(eps, where=where)
    clip = check_clip(clip, where=where)
    batch_size = _check_int(batch_size, where=where, name="batch_size", low=1)
    confidence, wrong = [], []
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        if eps > 0:
            xb = fgsm(model, xb, yb, eps, clip=clip)
        with frozen(model), torch.no_grad():
            conf, pred = _probs(model, model(xb)).max(dim=1)
        confidence.append(conf)
        wrong.append(pred != yb)
    confidence, wrong = torch.cat(confidence).double(), torch.cat(wrong)
    return {
        "error": float(wrong.double().mean()),
        "confidence": float(confidence.mean()),
        "mistake_confidence": float(confidence[wrong].mean()) if wrong.any() else math.nan,
        "n": len(y),
    }


def _probs(model, scores):
    probs = getattr(model, "probs", None)
    return probs(scores) if probs is not None else torch.softmax(scores, dim=-1)


# --------------------------------------------------------------------------------------------
# Argument checks


def _as_x(model, x, where):
    x = torch.as_tensor(x)
    return check_x(x, where=where, ndim=2, features=getattr(model, "in_features", None))


def _as_tensors(model, x, y, where):
    x = _as_x(model, x, where)
    y = torch.as_tensor(y)
    k = getattr(model, "num_classes", None)
    check_labels(y, where=where, n=x.shape[0], num_classes=int(k) if k is not None else None)
    return x, y


def _pair(data, name, where):
    try:
        xs, ys = data
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: {name} must be a pair (x, y), got {type(data).__name__}"
        ) from None
    return xs, ys


def _check_int(value, *, where, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{where}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)
