"""Measurements on trained models: error and confidence, clean and under attack (the
numbers every chapter reports), attacks over a grid of eps, transfer between models, the
examples shown in digit grids; agreement between models' mistakes, the scores along the FGSM
line and where it fools a model, and noise ("rubbish") inputs.

All take NumPy arrays or tensors ``x`` float32 (n, 784) and ``y`` int64 (n,), and models from
:mod:`advlib.zoo` (anything with ``probs``, or plain logits), on any device: inputs go to the
model's device, results come back on the CPU. Batches are cut in one place,
:func:`advlib.attacks.chunk_rows`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from advlib.attacks import DEFAULT_CLIP, bim, chunk_rows, fgsm_with_scores, frozen, input_gradient
from advlib.checks import (
    as_model_inputs,
    check_choice,
    check_clip,
    check_eps,
    check_int,
    check_model,
    check_real,
    check_seed,
)

__all__ = [
    "ATTACKS",
    "predict",
    "evaluate",
    "monitor",
    "fgsm_summary",
    "adversarial",
    "robustness_curve",
    "transfer",
    "example_digits",
    "agreement",
    "fgsm_direction",
    "scores_along_fgsm",
    "piecewise_linear_fit",
    "fooled_range",
    "rubbish",
]

ATTACKS = ("fgsm", "pgd", "bim")
Clip = tuple[float, float] | None


def _probs(model, scores):
    probs = getattr(model, "probs", None)
    return probs(scores) if probs is not None else torch.softmax(scores, dim=-1)


def _check_models(models, where):
    """``models``: a non-empty dict of name → torch module."""
    if not isinstance(models, Mapping) or not models:
        raise TypeError(f"{where}: models must be a non-empty dict of name → torch module, got "
                        f"{type(models).__name__}")
    for name, model in models.items():
        check_model(model, where=where, name=f"models[{name!r}]")


def _check_grid(grid, where, name="eps_grid", low=0.0):
    """A non-empty list of finite numbers >= ``low`` (None: any sign), as floats."""
    grid = grid.tolist() if isinstance(grid, np.ndarray) else grid
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Sequence) or not grid:
        raise TypeError(f"{where}: {name} must be a non-empty list of numbers, got {grid!r}")
    span = "" if low is None else f" >= {low:g}"
    for v in grid:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(
                v) or (low is not None and v < low):
            raise ValueError(f"{where}: every value of {name} must be a finite number{span}, "
                             f"got {v!r}")
    return [float(v) for v in grid]


def _scores(model, x):
    """The model's scores of x (n, k), dropout off, chunk by chunk."""
    with frozen(model), torch.no_grad():
        return torch.cat([model(xb) for xb in x.split(chunk_rows(x))])


def predict(model: torch.nn.Module, x: Any):
    """``(pred, confidence, probs)`` as NumPy: int64 (n,), float32 (n,) and (n, k), dropout off.

    ``pred`` is the argmax of ``model.probs(scores)`` and ``confidence`` its max.
    """
    x = as_model_inputs(model, x, where="predict")
    probs = _probs(model, _scores(model, x))
    confidence, pred = probs.max(dim=1)
    return pred.cpu().numpy(), confidence.cpu().numpy(), probs.cpu().numpy()


def _rates(model, scores, y) -> dict:
    """Error, mean confidence, mean confidence over the mistakes (nan if none), count."""
    confidence, pred = _probs(model, scores).max(dim=1)
    wrong, confidence = pred != y, confidence.double()
    return {
        "error": float(wrong.double().mean()),
        "confidence": float(confidence.mean()),
        "mistake_confidence": float(confidence[wrong].mean()) if wrong.any() else math.nan,
        "n": len(y),
    }


def evaluate(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float = 0.0,
    *,
    clip: Clip = DEFAULT_CLIP,
) -> dict:
    """Error and confidence of ``model`` on ``x`` (n, 784), ``y`` (n,), or on their FGSM
    examples at ``eps`` when eps > 0 (``clip``: None, the default, for the paper's unclipped
    examples, or a range such as (0, 1)).

    Returns ``{"error", "confidence", "mistake_confidence", "n"}``: error rate, mean max
    probability, mean max probability over the mistakes only (nan when there are none), count.
    """
    x, y = as_model_inputs(model, x, y, where="evaluate")
    eps = check_eps(eps, where="evaluate", scalar=True)
    clip = check_clip(clip, where="evaluate")
    if eps > 0:
        x = fgsm_with_scores(model, x, y, eps, clip=clip)[0]
    return _rates(model, _scores(model, x), y)


def monitor(
    model: torch.nn.Module, x: Any, y: Any, eps: float, *, clip: Clip = DEFAULT_CLIP,
    prefix: str = "valid",
) -> dict:
    """Clean and FGSM error at ``eps`` from one attack pass (the clean scores are the attack's
    own forward pass): ``{prefix}_error`` and ``{prefix}_adv_error``, for training curves and
    early stopping."""
    x, y = as_model_inputs(model, x, y, where="monitor")
    eps = check_eps(eps, where="monitor", scalar=True)
    if not isinstance(prefix, str) or not prefix:
        raise TypeError(f"monitor: prefix must be a non-empty string, got {prefix!r}")
    x_adv, clean = fgsm_with_scores(model, x, y, eps, clip=clip, scores=True)
    return {f"{prefix}_error": _rates(model, clean, y)["error"],
            f"{prefix}_adv_error": _rates(model, _scores(model, x_adv), y)["error"]}


def fgsm_summary(
    models: Mapping[str, torch.nn.Module], x: Any, y: Any, eps: float, *,
    clipped: Clip = (0.0, 1.0),
) -> pd.DataFrame:
    """Each model on clean inputs and on its own FGSM examples at ``eps``, unclipped (the
    paper's) and clipped to ``clipped``: one row per model (the index), columns
    ``clean error``, ``clean confidence``, ``FGSM error``, ``FGSM confidence``, ``FGSM
    confidence on mistakes`` and the same three for the clipped examples (``... (clipped)``)."""
    _check_models(models, "fgsm_summary")
    eps = check_eps(eps, where="fgsm_summary", scalar=True)
    clipped = check_clip(clipped, where="fgsm_summary")
    rows = {}
    for name, model in models.items():
        xm, ym = as_model_inputs(model, x, y, where="fgsm_summary")
        adv, scores = fgsm_with_scores(model, xm, ym, eps, clip=None, scores=True)
        clean = _rates(model, scores, ym)
        row = {"clean error": clean["error"], "clean confidence": clean["confidence"]}
        for suffix, x_adv in (("", adv), (" (clipped)", None)):
            if x_adv is None:
                x_adv = fgsm_with_scores(model, xm, ym, eps, clip=clipped)[0]
            r = _rates(model, _scores(model, x_adv), ym)
            row[f"FGSM error{suffix}"] = r["error"]
            row[f"FGSM confidence{suffix}"] = r["confidence"]
            row[f"FGSM confidence on mistakes{suffix}"] = r["mistake_confidence"]
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def adversarial(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    attack: str = "fgsm",
    clip: Clip = DEFAULT_CLIP,
    steps: int = 20,
    step: float | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Adversarial examples (n, 784) against ``model`` at max-norm ``eps``, on the CPU.

    attack: "fgsm" (one step, the paper's), "bim" (``steps`` signed-gradient steps of size
    ``step``, each projected to the eps-ball; default step 2.5·eps/steps, Madry et al.'s rule)
    or "pgd" (bim from a random start drawn with ``seed``).
    clip: None (the default) for the paper's unclipped examples, or (0, 1).
    """
    check_choice(attack, where="adversarial", name="attack", allowed=ATTACKS)
    eps = check_eps(eps, where="adversarial", scalar=True)
    seed = check_seed(seed, where="adversarial")
    x, y = as_model_inputs(model, x, y, where="adversarial")
    if attack == "fgsm":
        return fgsm_with_scores(model, x, y, eps, clip=clip)[0].cpu()
    steps = check_int(steps, where="adversarial", name="steps", low=1)
    step = 2.5 * eps / steps if step is None else step
    gen = torch.Generator(device=x.device).manual_seed(seed)
    return torch.cat([
        bim(model, xb, yb, eps, step, steps, clip=clip, random_start=attack == "pgd",
            generator=gen)
        for xb, yb in zip(x.split(1000), y.split(1000))
    ]).cpu()


def robustness_curve(
    models: Mapping[str, torch.nn.Module],
    x: Any,
    y: Any,
    eps_grid: Sequence[float],
    *,
    attack: str = "fgsm",
    clip: Clip = None,
    **attack_options: Any,
) -> pd.DataFrame:
    """Error and confidence of each model on its own adversarial examples, for each eps.

    Returns one row per (model, eps): model, eps, attack, error, confidence (mean max
    probability), mistake_confidence (over the mistakes), n. eps = 0 is the clean test set.
    """
    _check_models(models, "robustness_curve")
    eps_grid = _check_grid(eps_grid, "robustness_curve")
    rows = []
    for name, model in models.items():
        for eps in eps_grid:
            x_eps = x if eps == 0 else adversarial(model, x, y, eps, attack=attack, clip=clip,
                                                   **attack_options)
            r = evaluate(model, x_eps, y, clip=None)
            rows.append({"model": name, "eps": float(eps), "attack": attack, **r})
    return pd.DataFrame(rows)


def transfer(
    source: torch.nn.Module,
    target: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    clip: Clip = None,
) -> dict:
    """How ``target`` fares on FGSM examples made against ``source`` (Sec. 6 and 8).

    Returns :func:`advlib.train.evaluate`'s dict for ``target`` on those examples, plus
    ``source_error``: the source's own error on them.
    """
    check_model(target, where="transfer", name="target")
    x_adv = adversarial(source, x, y, eps, clip=clip)
    result = evaluate(target, x_adv, y, clip=None)
    result["source_error"] = evaluate(source, x_adv, y, clip=None)["error"]
    return result


def example_digits(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    n: int = 10,
    clip: Clip = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``n`` test digits (one per class while classes last, chosen with ``seed``) and their
    FGSM versions, with the model's predictions: for :func:`advlib.book.charts.digit_grid`.

    Returns NumPy arrays: clean (n, 784), adversarial (n, 784), labels, and pred/confidence for
    both (``clean_pred``, ``clean_confidence``, ``adv_pred``, ``adv_confidence``).
    """
    n = check_int(n, where="example_digits", name="n", low=1)
    seed = check_seed(seed, where="example_digits")
    x, y = as_model_inputs(model, x, y, where="example_digits")
    x, y = x.cpu().numpy(), y.cpu().numpy()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    picked, seen = [], set()
    for i in order:  # one digit of each class first, then any
        if y[i] not in seen:
            picked.append(i)
            seen.add(y[i])
        if len(picked) == n:
            break
    picked += [i for i in order if i not in picked][: n - len(picked)]
    picked = np.array(sorted(picked, key=lambda i: y[i]))
    clean = x[picked]
    adv = adversarial(model, clean, y[picked], eps, clip=clip).numpy()
    clean_pred, clean_conf, _ = predict(model, clean)
    adv_pred, adv_conf, _ = predict(model, adv)
    return {
        "clean": clean, "adversarial": adv, "labels": y[picked],
        "clean_pred": clean_pred, "clean_confidence": clean_conf,
        "adv_pred": adv_pred, "adv_confidence": adv_conf,
    }


# --------------------------------------------------------------------------------------------
# Sections 8, 9 and Appendix A: agreement between models, the FGSM line, noise inputs


def agreement(predictions: Mapping[str, Any], y: Any) -> pd.DataFrame:
    """How often models make the same mistake on the same inputs (Sec. 8, claim C25).

    predictions: model name → predicted classes (n,) on one set of inputs (e.g. FGSM examples
    made on one of the models); y: the true classes (n,).
    Returns one row per ordered pair (a, b) of different models: ``a_mistakes`` (count),
    ``b_predicts_a`` (over a's mistakes, the fraction where b predicts a's wrong class),
    ``both_wrong`` (count) and ``agree_both_wrong`` (over the inputs both get wrong, the
    fraction where they give the same class; symmetric in a and b). Rates are nan on no inputs.
    Two models that err at random among the nine wrong classes agree 1/9 of the time.
    """
    if not isinstance(predictions, Mapping) or not predictions:
        raise TypeError(f"agreement: predictions must be a non-empty dict of model name → "
                        f"predicted classes (n,), got {type(predictions).__name__}")
    y = np.asarray(y)
    preds = {name: np.asarray(p) for name, p in predictions.items()}
    for name, p in preds.items():
        if p.shape != y.shape:
            raise ValueError(f"agreement: predictions of {name!r} have shape {p.shape}, "
                             f"labels {y.shape}; they must have one per label")
    rows = []
    for a, pa in preds.items():
        for b, pb in preds.items():
            if a == b:
                continue
            a_wrong, both = pa != y, (pa != y) & (pb != y)
            same = pa == pb
            rows.append({
                "a": a, "b": b,
                "a_mistakes": int(a_wrong.sum()),
                "b_predicts_a": float(same[a_wrong].mean()) if a_wrong.any() else np.nan,
                "both_wrong": int(both.sum()),
                "agree_both_wrong": float(same[both].mean()) if both.any() else np.nan,
            })
    return pd.DataFrame(rows)


def scores_along_fgsm(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps_grid: Sequence[float],
    *,
    batch_size: int = 10_000,
) -> np.ndarray:
    """The model's scores along the FGSM line through each input (Sec. 8, Fig. 4, claim C24).

    For x (n, d) and y (n,): the direction s = sign(∇ₓJ(θ, x, y)) (dropout off, see
    :func:`fgsm_direction`), then the scores (logits; log p_k for RBF units) at x + eps·s for
    every eps of ``eps_grid`` (negative eps go the other way), unclipped. Returns float
    (n, len(eps_grid), k); the prediction at each point is the argmax over the last axis.
    """
    eps = torch.as_tensor(np.asarray(_check_grid(eps_grid, "scores_along_fgsm", low=None),
                                     dtype=np.float32))
    batch_size = check_int(batch_size, where="scores_along_fgsm", name="batch_size", low=1)
    x = as_model_inputs(model, x, where="scores_along_fgsm")
    s = fgsm_direction(model, x, y)
    out = []
    with frozen(model), torch.no_grad():
        for xi, si in zip(x, s):
            line = xi[None, :] + eps[:, None] * si[None, :]  # (m, d)
            out.append(torch.cat([model(b) for b in line.split(batch_size)]))
    return torch.stack(out).numpy()


def fgsm_direction(model: torch.nn.Module, x: Any, y: Any) -> torch.Tensor:
    """sign(∇ₓJ(θ, x, y)) (n, d), dropout off: the FGSM direction, in which x + eps·s is the
    FGSM example for eps > 0 and the line through x for any eps (unclipped)."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    with frozen(model):
        return input_gradient(model, x, y).sign()


def piecewise_linear_fit(
    t: Any, values: Any, *, pieces: int = 2, candidates: int = 61
) -> dict[str, Any]:
    """The best continuous fit with ``pieces`` linear segments to every column of ``values``.

    t: (m,) increasing; values: (m, c) (e.g. the ten logits of :func:`scores_along_fgsm` for one
    input). The ``pieces − 1`` knots are shared by all columns (in a maxout net every logit
    bends where a hidden unit switches piece) and chosen by exhaustive search over
    ``candidates`` evenly spaced points inside t's range; least squares for the rest.
    Returns ``r2`` (all columns together: 1 − residual / total sum of squares), ``r2_columns``
    (c,), ``knots`` and ``fitted`` (m, c).
    """
    from itertools import combinations

    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape[0] != t.shape[0]:
        raise ValueError(f"piecewise_linear_fit: {t.shape[0]} points t but values {v.shape}; "
                         "values must have one row per point")
    if not (isinstance(pieces, int) and 1 <= pieces <= 4):
        raise ValueError(f"piecewise_linear_fit: pieces must be an int in 1..4, got {pieces!r}")
    grid = np.linspace(t.min(), t.max(), candidates + 2)[1:-1]
    total = ((v - v.mean(axis=0)) ** 2).sum(axis=0)
    best = (np.inf, None, None)
    for knots in combinations(grid, pieces - 1):
        basis = np.column_stack([np.ones_like(t), t] + [np.maximum(t - k, 0.0) for k in knots])
        coef, *_ = np.linalg.lstsq(basis, v, rcond=None)
        fitted = basis @ coef
        residual = ((v - fitted) ** 2).sum(axis=0)
        if residual.sum() < best[0]:
            best = (residual.sum(), knots, (fitted, residual))
    _, knots, (fitted, residual) = best
    with np.errstate(invalid="ignore", divide="ignore"):
        r2_columns = 1.0 - residual / total
    return {"r2": float(1.0 - residual.sum() / total.sum()), "r2_columns": r2_columns,
            "knots": list(map(float, knots)), "fitted": fitted}


def fooled_range(scores: Any, y: Any, eps_grid: Sequence[float]) -> pd.DataFrame:
    """Where along the FGSM line each input is misclassified, from
    :func:`scores_along_fgsm`'s (n, m, k) scores, true classes y (n,) and the m eps values.

    One row per input: ``wrong_fraction`` (of the eps values, the fraction misclassified),
    ``wrong_fraction_positive`` (the same over eps > 0, the FGSM side), ``correct_low`` and
    ``correct_high`` (the ends of the run of correctly classified eps values around the eps
    nearest 0; nan when that point itself is wrong), ``correct_width`` and ``class_changes``
    (how often the predicted class changes along the line).
    """
    scores, y = np.asarray(scores), np.asarray(y)
    eps = np.asarray(_check_grid(eps_grid, "fooled_range", low=None), dtype=np.float64)
    if scores.ndim != 3 or y.shape != (scores.shape[0],) or scores.shape[1] != len(eps):
        raise ValueError(
            f"fooled_range: scores must be (n, m, k) with y (n,) and m = {len(eps)} eps values, "
            f"got scores {scores.shape} and y {y.shape}"
        )
    pred = scores.argmax(axis=-1)  # (n, m)
    wrong = pred != y[:, None]
    zero = int(np.abs(eps).argmin())
    rows = []
    for i in range(len(y)):
        lo = hi = np.nan
        if not wrong[i, zero]:
            j = zero
            while j > 0 and not wrong[i, j - 1]:
                j -= 1
            k = zero
            while k < len(eps) - 1 and not wrong[i, k + 1]:
                k += 1
            lo, hi = eps[j], eps[k]
        rows.append({
            "wrong_fraction": float(wrong[i].mean()),
            "wrong_fraction_positive": float(wrong[i, eps > 0].mean()),
            "correct_low": lo, "correct_high": hi, "correct_width": hi - lo,
            "class_changes": int((pred[i, 1:] != pred[i, :-1]).sum()),
        })
    return pd.DataFrame(rows)


def rubbish(
    models: Mapping[str, torch.nn.Module],
    *,
    n: int = 10_000,
    seed: int = 0,
    threshold: float = 0.5,
    num_classes: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rubbish-class inputs (Appendix A, claim C28): ``n`` draws of N(0, I) — not images, and
    not in [0, 1] — classified by every model; the same draws (``seed``) for all.

    A draw counts as a false positive when some class gets probability above ``threshold``
    (the paper: .5); its class is the most probable one. Returns ``(summary, classes)``:
    summary has one row per model with ``rate`` (fraction of false positives),
    ``confidence`` (mean probability of their class; nan when none), ``mean_confidence`` (over
    all draws) and ``n``; classes has one row per (model, class) with ``count`` and ``share``
    of that model's false positives.
    """
    where = "rubbish"
    _check_models(models, where)
    n = check_int(n, where=where, name="n", low=1)
    seed = check_seed(seed, where=where)
    threshold = check_real(threshold, where=where, name="threshold", low=0.0, high=1.0)
    num_classes = check_int(num_classes, where=where, name="num_classes", low=1)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 784, generator=gen)
    summary, classes = [], []
    for name, model in models.items():
        pred, confidence, _ = predict(model, x)
        fooled = confidence > threshold
        counts = np.bincount(pred[fooled], minlength=num_classes)
        summary.append({
            "model": name, "rate": float(fooled.mean()),
            "confidence": float(confidence[fooled].mean()) if fooled.any() else np.nan,
            "mean_confidence": float(confidence.mean()), "n": n,
        })
        for k, c in enumerate(counts):
            classes.append({"model": name, "class": k, "count": int(c),
                            "share": float(c / counts.sum()) if counts.sum() else 0.0})
    return pd.DataFrame(summary), pd.DataFrame(classes)
