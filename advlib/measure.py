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
    "rate_noise",
    "train_test_errors",
    "typical_digit",
    "line_classes",
    "error_along_line",
    "fooled_summary",
    "AGREEMENT_RATES",
    "agreement_rates",
    "line_points",
    "ensemble_attacks",
    "PIXEL_RULES",
    "attack_loss",
    "attack_study",
    "attack_table",
]

ATTACKS = ("fgsm", "pgd", "bim")
Clip = tuple[float, float] | None


def _probs(model, scores):
    probs = getattr(model, "probs", None)
    return probs(scores) if probs is not None else torch.softmax(scores, dim=-1)


def _check_models(models, where):
    """``models``: a non-empty dict of name → torch module."""
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            f"{where}: models must be a non-empty dict of name → torch module, got "
            f"{type(models).__name__}"
        )
    for name, model in models.items():
        check_model(model, where=where, name=f"models[{name!r}]")


def _check_grid(grid, where, name="eps_grid", low=0.0):
    """A non-empty list of finite numbers >= ``low`` (None: any sign), as floats."""
    grid = grid.tolist() if isinstance(grid, np.ndarray) else grid
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Sequence) or not grid:
        raise TypeError(f"{where}: {name} must be a non-empty list of numbers, got {grid!r}")
    span = "" if low is None else f" >= {low:g}"
    for v in grid:
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float, np.number))
            or not math.isfinite(v)
            or (low is not None and v < low)
        ):
            raise ValueError(
                f"{where}: every value of {name} must be a finite number{span}, got {v!r}"
            )
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
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    clip: Clip = DEFAULT_CLIP,
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
    return {
        f"{prefix}_error": _rates(model, clean, y)["error"],
        f"{prefix}_adv_error": _rates(model, _scores(model, x_adv), y)["error"],
    }


def fgsm_summary(
    models: Mapping[str, torch.nn.Module],
    x: Any,
    y: Any,
    eps: float,
    *,
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
    return torch.cat(
        [
            bim(
                model,
                xb,
                yb,
                eps,
                step,
                steps,
                clip=clip,
                random_start=attack == "pgd",
                generator=gen,
            )
            for xb, yb in zip(x.split(1000), y.split(1000), strict=True)
        ]
    ).cpu()


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
            x_eps = (
                x
                if eps == 0
                else adversarial(model, x, y, eps, attack=attack, clip=clip, **attack_options)
            )
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

    Returns :func:`evaluate`'s dict for ``target`` on those examples, plus
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
        "clean": clean,
        "adversarial": adv,
        "labels": y[picked],
        "clean_pred": clean_pred,
        "clean_confidence": clean_conf,
        "adv_pred": adv_pred,
        "adv_confidence": adv_conf,
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
        raise TypeError(
            f"agreement: predictions must be a non-empty dict of model name → "
            f"predicted classes (n,), got {type(predictions).__name__}"
        )
    y = np.asarray(y)
    preds = {name: np.asarray(p) for name, p in predictions.items()}
    for name, p in preds.items():
        if p.shape != y.shape:
            raise ValueError(
                f"agreement: predictions of {name!r} have shape {p.shape}, "
                f"labels {y.shape}; they must have one per label"
            )
    rows = []
    for a, pa in preds.items():
        for b, pb in preds.items():
            if a == b:
                continue
            a_wrong, both = pa != y, (pa != y) & (pb != y)
            same = pa == pb
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "a_mistakes": int(a_wrong.sum()),
                    "b_predicts_a": float(same[a_wrong].mean()) if a_wrong.any() else np.nan,
                    "both_wrong": int(both.sum()),
                    "agree_both_wrong": float(same[both].mean()) if both.any() else np.nan,
                }
            )
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
    eps = torch.as_tensor(
        np.asarray(_check_grid(eps_grid, "scores_along_fgsm", low=None), dtype=np.float32)
    )
    batch_size = check_int(batch_size, where="scores_along_fgsm", name="batch_size", low=1)
    x = as_model_inputs(model, x, where="scores_along_fgsm")
    s = fgsm_direction(model, x, y)
    out = []
    with frozen(model), torch.no_grad():
        for xi, si in zip(x, s, strict=True):
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
        raise ValueError(
            f"piecewise_linear_fit: {t.shape[0]} points t but values {v.shape}; "
            "values must have one row per point"
        )
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
    return {
        "r2": float(1.0 - residual.sum() / total.sum()),
        "r2_columns": r2_columns,
        "knots": list(map(float, knots)),
        "fitted": fitted,
    }


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
        rows.append(
            {
                "wrong_fraction": float(wrong[i].mean()),
                "wrong_fraction_positive": float(wrong[i, eps > 0].mean()),
                "correct_low": lo,
                "correct_high": hi,
                "correct_width": hi - lo,
                "class_changes": int((pred[i, 1:] != pred[i, :-1]).sum()),
            }
        )
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
        summary.append(
            {
                "model": name,
                "rate": float(fooled.mean()),
                "confidence": float(confidence[fooled].mean()) if fooled.any() else np.nan,
                "mean_confidence": float(confidence.mean()),
                "n": n,
            }
        )
        for k, c in enumerate(counts):
            classes.append(
                {
                    "model": name,
                    "class": k,
                    "count": int(c),
                    "share": float(c / counts.sum()) if counts.sum() else 0.0,
                }
            )
    return pd.DataFrame(summary), pd.DataFrame(classes)


# --------------------------------------------------------------------------------------------
# Tables the chapters report


def rate_noise(rate: float, n: int) -> float:
    """Two standard errors of a rate measured on ``n`` examples, 2·sqrt(rate(1 − rate)/n): the
    difference below which two rates on test sets of that size are not told apart."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"rate_noise: n must be a count >= 1, got {n!r}")
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate_noise: rate must lie in [0, 1], got {rate!r}")
    return 2 * math.sqrt(rate * (1 - rate) / n)


def train_test_errors(
    models: Mapping[str, torch.nn.Module],
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    eps: float,
) -> pd.DataFrame:
    """Each model's ``train error`` (on its training set), ``test error`` and ``FGSM test
    error`` (its own FGSM examples of the test set at ``eps``, unclipped as in the paper): one
    row per model (the index). x (n, 784) float32, y (n,) int64."""
    rows = {
        name: {
            "train error": evaluate(model, x_train, y_train)["error"],
            "test error": evaluate(model, x_test, y_test)["error"],
            "FGSM test error": evaluate(model, x_test, y_test, eps, clip=None)["error"],
        }
        for name, model in models.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def typical_digit(ranges: pd.DataFrame) -> int:
    """The input to draw as a typical one, from :func:`fooled_range`'s table: of the inputs
    classified right at eps = 0, the first whose ``wrong_fraction`` is nearest the median over
    all inputs (its index, a row label of ``ranges``)."""
    right = ranges[ranges["correct_width"].notna()]
    if right.empty:
        raise ValueError("typical_digit: no input is classified right at eps = 0")
    return int((right["wrong_fraction"] - ranges["wrong_fraction"].median()).abs().idxmin())


def line_classes(scores: Any, label: int) -> dict[str, Any]:
    """The classes along one FGSM line, from the scores (m, k) of one input at m eps values
    (:func:`scores_along_fgsm`'s row): ``class_changes`` (how often the predicted class
    changes), ``classes`` (how many classes are predicted) and ``correct_fraction`` (the share
    of the line predicted ``label``)."""
    pred = np.asarray(scores).argmax(axis=1)
    return {
        "class_changes": int((pred[1:] != pred[:-1]).sum()),
        "classes": len(set(pred.tolist())),
        "correct_fraction": float((pred == label).mean()),
    }


def error_along_line(
    lines: Mapping[str, Any], y: Any, eps_grid: Sequence[float], *, every: int = 1
) -> pd.DataFrame:
    """The fraction of inputs each model misclassifies at each eps along its own FGSM line:
    ``lines`` maps a model name to :func:`scores_along_fgsm`'s (n, m, k) scores, y (n,) the
    true classes, ``eps_grid`` the m eps values; ``every`` keeps every k-th eps (for a chart).
    One row per (model, kept eps): ``model``, ``eps``, ``error``."""
    y, eps = np.asarray(y), np.asarray(eps_grid)[::every]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "model": name,
                    "eps": eps,
                    "error": (np.asarray(s)[:, ::every].argmax(axis=-1) != y[:, None]).mean(axis=0),
                }
            )
            for name, s in lines.items()
        ],
        ignore_index=True,
    )


def fooled_summary(ranges: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Medians over the inputs of :func:`fooled_range`'s tables, one column per model: the
    share of the line misclassified, of its eps > 0 half, the width of the correct interval
    around 0, and the number of class changes."""
    return pd.DataFrame(
        {
            name: {
                "median share of the line misclassified": r["wrong_fraction"].median(),
                "… of its eps > 0 half": r["wrong_fraction_positive"].median(),
                "median width of the correct interval around 0": r["correct_width"].median(),
                "median number of class changes": r["class_changes"].median(),
            }
            for name, r in ranges.items()
        }
    )


AGREEMENT_RATES = {
    "rbf_on_maxout_mistakes": (
        "maxout",
        "rbf",
        "b_predicts_a",
        "RBF predicts maxout's class | maxout wrong",
    ),
    "softmax_on_maxout_mistakes": (
        "maxout",
        "softmax",
        "b_predicts_a",
        "softmax predicts maxout's class | maxout wrong",
    ),
    "softmax_agrees_maxout": (
        "maxout",
        "softmax",
        "agree_both_wrong",
        "softmax = maxout | both wrong",
    ),
    "rbf_agrees_maxout": ("maxout", "rbf", "agree_both_wrong", "RBF = maxout | both wrong"),
    "rbf_agrees_softmax": ("softmax", "rbf", "agree_both_wrong", "RBF = softmax | both wrong"),
}
"""The paper's five agreement rates of claim C25, by name → (model a, model b, column of
:func:`agreement`'s table, what it measures)."""


def agreement_rates(pairs: pd.DataFrame) -> pd.DataFrame:
    """The paper's five agreement rates (Sec. 8, C25) from :func:`agreement`'s table of
    predictions keyed "maxout", "softmax" and "rbf" (indexed by ("a", "b") or not).

    One row per rate of :data:`AGREEMENT_RATES` (the index): ``what`` it measures, ``rate``,
    and ``n``, the examples it is a rate over (a's mistakes for ``b_predicts_a``, the examples
    both get wrong for ``agree_both_wrong``).
    """
    pairs = pairs if list(pairs.index.names) == ["a", "b"] else pairs.set_index(["a", "b"])
    rows = {}
    for name, (a, b, column, what) in AGREEMENT_RATES.items():
        if (a, b) not in pairs.index:
            raise ValueError(
                f"agreement_rates: no pair ({a!r}, {b!r}); predictions must be "
                "keyed 'maxout', 'softmax' and 'rbf'"
            )
        row = pairs.loc[(a, b)]
        n = row["a_mistakes"] if column == "b_predicts_a" else row["both_wrong"]
        rows[name] = {"what": what, "rate": float(row[column]), "n": int(n)}
    return pd.DataFrame.from_dict(rows, orient="index")


def line_points(model: torch.nn.Module, x: Any, y: Any, eps_values: Sequence[float]):
    """One input x (1, 784) with label y (1,) moved to x + eps·sign(∇ₓJ) for each eps of
    ``eps_values`` (unclipped; negative eps go against the gradient), and the model's answers
    there: ``(images (m, 784) float32, pred (m,), confidence (m,))``."""
    x = np.asarray(x, dtype=np.float32)
    direction = fgsm_direction(model, x, y).numpy()
    images = (x[0] + np.asarray(eps_values)[:, None] * direction).astype(np.float32)
    pred, confidence, _ = predict(model, images)
    return images, pred, confidence


def ensemble_attacks(
    members: Sequence[torch.nn.Module], x: Any, y: Any, eps: float
) -> pd.DataFrame:
    """Ensembles of the first k of ``members`` (k = 1 … M; :class:`advlib.models.Ensemble`,
    the mean of their probabilities) attacked three ways (Sec. 9, C27): ``FGSM on the whole
    ensemble``, ``FGSM on member 1 only`` (examples made on the first member alone) and
    ``none (clean)``; FGSM at ``eps``, unclipped. One row per (members, attack) with
    :func:`evaluate`'s ``error``, ``confidence``, ``mistake_confidence`` and ``n``."""
    from advlib.models import Ensemble

    members = list(members)
    if not members:
        raise ValueError("ensemble_attacks: needs at least one member")
    x_member = adversarial(members[0], x, y, eps, clip=None)  # made on member 1 alone
    rows = []
    for k in range(1, len(members) + 1):
        sub = Ensemble(members[:k]).eval()
        for attack, r in (
            ("FGSM on the whole ensemble", evaluate(sub, x, y, eps, clip=None)),
            ("FGSM on member 1 only", evaluate(sub, x_member, y, clip=None)),
            ("none (clean)", evaluate(sub, x, y, clip=None)),
        ):
            rows.append({"members": k, "attack": attack, **r})
    return pd.DataFrame(rows)


PIXEL_RULES = {False: "unclipped", True: "clipped to [0, 1]"}
"""How the pixels of an adversarial example are treated, by ``clip``: the labels of the tables."""


def attack_loss(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    attack: str = "fgsm",
    clip: Clip = None,
    steps: int = 20,
    seed: int = 0,
) -> float:
    """The mean attack objective J(θ, x_adv, y) (the model's own loss, e.g. −log p_y for RBF
    units) after :func:`adversarial`'s ``attack`` at ``eps``: which attack climbed J higher."""
    from advlib.attacks import model_loss

    x_adv = adversarial(model, x, y, eps, attack=attack, clip=clip, steps=steps, seed=seed)
    with frozen(model), torch.no_grad():
        return float(model_loss(model, model(x_adv), torch.as_tensor(np.asarray(y))))


def attack_study(
    models: Mapping[str, torch.nn.Module],
    x: Any,
    y: Any,
    eps_grid: Sequence[float],
    sizes: Mapping[str, float],
    *,
    keys: Mapping[str, str],
    clean: str,
    trained: str,
    clip: bool = False,
    steps: int = 20,
    seed: int = 0,
    loss_of: str | None = None,
) -> dict[str, Any]:
    """FGSM against PGD on a set of models, and what an adversarially trained one kept (the
    book's chapter 12; Madry et al. 2018, Kurakin et al. 2017, Tramèr et al. 2018).

    models: name → model (names as charts colour them); keys: name → a short key for the
    numbers ("maxout"). clean, trained: the names of the network trained clean and of the one
    adversarially trained. sizes: a label → eps, in increasing order (e.g. {"small": .1,
    "large": .25}). clip: whether the headline attacks clip to [0, 1] (the other rule is shown
    beside them). PGD: ``steps`` steps, random start from ``seed``.

    Returns ``curve`` (:func:`robustness_curve`'s FGSM table over ``eps_grid`` and the sizes,
    headline pixels), ``attacks`` (FGSM and PGD at the sizes under both pixel rules, headline
    first; columns model, eps, attack, pixels, error, ...) and ``numbers``:
    ``<key>_clean``, ``<key>_top_confidence`` (at the largest eps of the curve),
    ``<key>_<attack>_<size>`` and the same ``_beside`` (the other pixel rule); ``gain_<attack>_
    <size>`` (the clean network's error minus the trained one's) and ``gain_kept_<size>``
    (PGD's gain over FGSM's; None when FGSM shows none), with ``_beside``; ``adv_peak_error``
    and ``adv_peak_eps`` (the trained network's highest FGSM error below the largest size);
    ``transfer_<size>`` (the trained network's error on FGSM examples made on the clean one);
    ``large_verdict`` (in words, from the largest size's gain kept); and, for the model
    ``loss_of``, ``rbf_loss_<attack>_<size>`` (:func:`attack_loss`).
    """
    eps_values = [float(e) for e in sizes.values()]
    if not (
        eps_values
        and eps_values[0] > 0
        and all(a < b for a, b in zip(eps_values, eps_values[1:], strict=False))
    ):
        raise ValueError(f"attack_study: sizes must be positive and increasing, got {dict(sizes)}")
    for name in (clean, trained, *([loss_of] if loss_of else [])):
        if name not in models:
            raise ValueError(f"attack_study: no model {name!r}; models are {list(models)}")
    headline, beside = PIXEL_RULES[clip], PIXEL_RULES[not clip]
    headline_clip = (0.0, 1.0) if clip else None
    grid = sorted({float(e) for e in eps_grid} | {0.0, *eps_values})
    curve = robustness_curve(models, x, y, grid, clip=headline_clip)
    attacks = _attacks_both_rules(
        models, x, y, eps_values, curve, clip=clip, steps=steps, seed=seed
    )

    def error(name, attack, e, pixels):
        row = attacks[
            (attacks["model"] == name)
            & (attacks["attack"] == attack)
            & (attacks["eps"] == e)
            & (attacks["pixels"] == pixels)
        ]
        return float(row["error"].iloc[0])

    out: dict[str, Any] = {}
    for name, key in keys.items():
        mine = curve[curve["model"] == name].set_index("eps")
        out[f"{key}_clean"] = float(mine.loc[0.0, "error"])
        out[f"{key}_top_confidence"] = float(mine["confidence"].iloc[-1])
        for size, e in sizes.items():
            for attack in ("fgsm", "pgd"):
                out[f"{key}_{attack}_{size}"] = error(name, attack, e, headline)
                out[f"{key}_{attack}_{size}_beside"] = error(name, attack, e, beside)
    out.update(_gains(out, keys[clean], keys[trained], sizes))
    top = eps_values[-1]
    below = curve[(curve["model"] == trained) & (curve["eps"] > 0) & (curve["eps"] < top)]
    peak = below.loc[below["error"].idxmax()] if len(below) else None
    out["adv_peak_error"] = float(peak["error"]) if peak is not None else None
    out["adv_peak_eps"] = float(peak["eps"]) if peak is not None else None
    largest = list(sizes)[-1]
    kept = out[f"gain_kept_{largest}"]
    out["large_verdict"] = (
        "no more robust than the network trained without adversarial examples"
        if out[f"gain_pgd_{largest}"] <= 0 or kept is None
        else "only a little more robust than the network trained clean"
        if kept < 0.5
        else "still clearly more robust than the clean one"
    )
    for size, e in sizes.items():
        # black-box: FGSM examples made on the clean network, shown to the trained one
        out[f"transfer_{size}"] = transfer(
            models[clean], models[trained], x, y, e, clip=headline_clip
        )["error"]
        if loss_of:
            for attack in ("fgsm", "pgd"):
                out[f"rbf_loss_{attack}_{size}"] = attack_loss(
                    models[loss_of],
                    x,
                    y,
                    e,
                    attack=attack,
                    clip=headline_clip,
                    steps=steps,
                    seed=seed,
                )
    return {"curve": curve, "attacks": attacks, "numbers": out}


def _attacks_both_rules(models, x, y, eps_values, curve, *, clip, steps, seed) -> pd.DataFrame:
    """FGSM and PGD at ``eps_values`` under both pixel rules, the headline rule (``clip``)
    first; the headline FGSM rows come from ``curve``."""
    parts = []
    for clipped in (clip, not clip):
        for attack in ("fgsm", "pgd"):
            if clipped == clip and attack == "fgsm":  # the curve has these
                part = curve[curve["eps"].isin(eps_values)]
            else:
                part = robustness_curve(
                    models,
                    x,
                    y,
                    eps_values,
                    attack=attack,
                    clip=(0.0, 1.0) if clipped else None,
                    steps=steps,
                    seed=seed,
                )
            parts.append(part.assign(attack=attack, pixels=PIXEL_RULES[clipped]))
    return pd.concat(parts, ignore_index=True)


def _gains(out: Mapping[str, float], ck: str, tk: str, sizes: Mapping[str, float]) -> dict:
    """``gain_<attack>_<size>`` (clean key ``ck``'s error minus trained key ``tk``'s) and
    ``gain_kept_<size>`` (PGD's gain over FGSM's, None when FGSM shows none), each also with
    ``_beside``, from :func:`attack_study`'s numbers ``out``."""
    gains: dict[str, float | None] = {}
    for size in sizes:
        for tail in ("", "_beside"):
            for attack in ("fgsm", "pgd"):
                gains[f"gain_{attack}_{size}{tail}"] = (
                    out[f"{ck}_{attack}_{size}{tail}"] - out[f"{tk}_{attack}_{size}{tail}"]
                )
            fgsm_gain = gains[f"gain_fgsm_{size}{tail}"]  # no share of a gain FGSM does not show
            gains[f"gain_kept_{size}{tail}"] = (
                gains[f"gain_pgd_{size}{tail}"] / fgsm_gain if fgsm_gain > 0 else None
            )
    return gains


def attack_table(attacks: pd.DataFrame, *, headline: str = "unclipped") -> pd.DataFrame:
    """:func:`attack_study`'s ``attacks`` as a table: one row per (model, eps), columns
    (pixels, attack) with the ``headline`` pixel rule first; error rates."""
    a = attacks.assign(attack=attacks["attack"].str.upper())
    table = a.pivot_table(
        index=["model", "eps"], columns=["pixels", "attack"], values="error", sort=False
    )
    rules = [headline] + [p for p in dict.fromkeys(a["pixels"]) if p != headline]
    return table[[(p, k) for p in rules for k in ("FGSM", "PGD")]]


def perturbation_summary(x: Any, x_adv: Any, eps: float) -> dict:
    """What an attack did to the pixels of x (n, d) → x_adv (n, d) at max-norm ``eps``:
    ``eta_max_norm`` (max |x_adv − x|), ``eta_moved_share`` (share of pixels moved by more than
    eps/2), ``adv_pixel_min`` and ``adv_pixel_max`` (the range of x_adv)."""
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).cpu()
    x_adv = torch.as_tensor(x_adv).cpu()
    if x.shape != x_adv.shape:
        raise ValueError(
            f"perturbation_summary: x {tuple(x.shape)} and x_adv "
            f"{tuple(x_adv.shape)} must have one shape"
        )
    eps = check_eps(eps, where="perturbation_summary")
    eta = (x_adv - x).abs()
    return {
        "eta_max_norm": float(eta.max()),
        "eta_moved_share": float((eta > eps / 2).double().mean()),
        "adv_pixel_min": float(x_adv.min()),
        "adv_pixel_max": float(x_adv.max()),
    }


def curve_summary(curve: pd.DataFrame) -> pd.DataFrame:
    """Landmarks of :func:`robustness_curve`'s table, one row per model (the index):
    ``first_eps`` (the smallest eps > 0) and the error there (``first_error``), the clean
    confidence (eps 0; nan when the grid has no 0), the lowest mean confidence and its eps
    (``min_confidence``, ``min_confidence_eps``), and the confidence at the largest eps
    (``top_confidence``, at ``top_eps``)."""
    rows = {}
    for name, part in curve.groupby("model", sort=False):
        part = part.set_index("eps").sort_index()
        first = float(part.index[part.index > 0].min())
        rows[name] = {
            "first_eps": first,
            "first_error": float(part.loc[first, "error"]),
            "clean_confidence": float(part.loc[0.0, "confidence"])
            if 0.0 in part.index
            else math.nan,
            "min_confidence": float(part["confidence"].min()),
            "min_confidence_eps": float(part["confidence"].idxmin()),
            "top_eps": float(part.index.max()),
            "top_confidence": float(part["confidence"].iloc[-1]),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def first_order_gain(model: torch.nn.Module, x: Any, y: Any, eps: float, *, seed: int = 0) -> dict:
    """How the linear view predicts FGSM's effect (Sec. 4): the mean rise of the loss,
    J(x + η) − J(x) with η = eps·sign(∇ₓJ) unclipped (``measured``), against its first-order
    prediction eps·‖∇ₓJ‖₁ (``predicted``; ``ratio`` = measured / predicted, near 1 where the
    model is locally linear), and against the rise under random signs of the same max-norm
    (``random``, drawn with ``seed``): the sign of the gradient is the max-norm direction of
    steepest ascent to first order, so FGSM should raise the loss far more. Means over x (n, d)."""
    from advlib.attacks import model_loss

    x, y = as_model_inputs(model, x, y, where="first_order_gain")
    eps = check_eps(eps, where="first_order_gain")
    gen = torch.Generator(device=x.device).manual_seed(
        check_int(seed, where="first_order_gain", name="seed")
    )
    measured = predicted = random = 0.0
    with frozen(model):
        for xb, yb in zip(x.split(chunk_rows(x)), y.split(chunk_rows(x)), strict=True):
            grad = input_gradient(model, xb, yb)  # of the chunk's mean loss
            signs = torch.randint(0, 2, xb.shape, generator=gen, device=xb.device) * 2 - 1
            with torch.no_grad():
                before = float(model_loss(model, model(xb), yb))
                after = float(model_loss(model, model(xb + eps * grad.sign()), yb))
                noisy = float(model_loss(model, model(xb + eps * signs.to(xb.dtype)), yb))
            share = len(yb) / len(y)
            measured += share * (after - before)
            predicted += share * eps * float(grad.abs().sum())
            random += share * (noisy - before)
    return {
        "measured": measured,
        "predicted": predicted,
        "random": random,
        "ratio": measured / predicted if predicted else math.nan,
    }


def zero_gradient_share(
    model: torch.nn.Module, x: Any, y: Any, *, train: bool, seed: int = 0
) -> float:
    """The share of exactly-zero entries of ∇ₓJ on x (n, d): with ``train=True`` under one
    training-time dropout mask (drawn from ``seed``), else with dropout off. A pixel the input
    dropout drops has gradient 0, so sign(0) = 0 leaves it unperturbed."""
    x, y = as_model_inputs(model, x, y, where="zero_gradient_share")
    with torch.random.fork_rng(devices=[]), frozen(model, train=train):
        torch.manual_seed(seed)
        grad = input_gradient(model, x, y)
    return float((grad == 0).double().mean())


def spared_fgsm_error(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    spare: float,
    seed: int = 0,
    clip: Clip = DEFAULT_CLIP,
) -> float:
    """Error of ``model`` on FGSM examples at ``eps`` whose perturbation leaves a random share
    ``spare`` of the pixels alone (chosen with ``seed``): the kind of perturbation the FGSM
    direction under the clean pass's own dropout mask trains on. x (n, d), then ``clip``."""
    if not 0 <= spare < 1:
        raise ValueError(f"spared_fgsm_error: spare must lie in [0, 1), got {spare!r}")
    x_np = np.asarray(x, dtype=np.float32)
    x_adv = adversarial(model, x_np, y, eps, clip=None).numpy()
    keep = np.random.default_rng(seed).random(x_adv.shape) < 1 - spare
    x_part = x_np + (x_adv - x_np) * keep
    if clip is not None:
        x_part = np.clip(x_part, *clip)
    return evaluate(model, x_part.astype(np.float32), y)["error"]


def activation_scale(model: torch.nn.Module, x: Any, layer: int = 1) -> float:
    """Mean absolute activation of hidden ``layer`` (1 or 2) of a maxout net over x (n, 784),
    dropout off: how large the units a perturbation of that layer is added to have grown."""
    x = as_model_inputs(model, x, where="activation_scale")
    if not hasattr(model, "features"):
        raise TypeError(f"activation_scale: {type(model).__name__} has no hidden layers")
    with frozen(model), torch.no_grad():
        return float(
            torch.cat(
                [model.features(b, layer).abs().flatten() for b in x.split(chunk_rows(x))]
            ).mean()
        )


def transfer_table(
    models: Mapping[str, torch.nn.Module], x: Any, y: Any, eps: float, *, clip: Clip = DEFAULT_CLIP
) -> pd.DataFrame:
    """FGSM examples made on each model of a pair and shown to the other (Sec. 6): one row per
    direction with ``examples made on``, ``tested on``, ``error`` (of the tested model), its
    ``confidence on mistakes`` and ``source error`` (of the model that made them)."""
    if len(models) != 2:
        raise ValueError(f"transfer_table: needs two models, got {len(models)}")
    (a, ma), (b, mb) = models.items()
    rows = []
    for (src, s), (dst, d) in (((a, ma), (b, mb)), ((b, mb), (a, ma))):
        r = transfer(s, d, x, y, eps, clip=clip)
        rows.append(
            {
                "examples made on": src,
                "tested on": dst,
                "error": r["error"],
                "confidence on mistakes": r["mistake_confidence"],
                "source error": r["source_error"],
            }
        )
    return pd.DataFrame(rows)


BIM_STEPS, BIM_STEP_FACTOR = 20, 2.5
"""BIM's steps and its step size as a multiple of eps / steps (Madry et al.'s rule)."""


def bim_errors(
    models: Mapping[str, torch.nn.Module],
    x: Any,
    y: Any,
    eps: float,
    *,
    steps: int = BIM_STEPS,
    factor: float = BIM_STEP_FACTOR,
    clip: Clip = DEFAULT_CLIP,
) -> pd.Series:
    """Each model's error under BIM at ``eps``: ``steps`` signed-gradient steps of size
    ``factor``·eps/steps, each projected to the eps-ball (Kurakin et al., Madry et al.'s step
    rule). A Series by model name."""
    return pd.Series(
        {
            name: evaluate(
                model,
                adversarial(
                    model,
                    x,
                    y,
                    eps,
                    attack="bim",
                    steps=steps,
                    step=factor * eps / steps,
                    clip=clip,
                ),
                y,
            )["error"]
            for name, model in models.items()
        },
        name="BIM error",
    )
