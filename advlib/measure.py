"""Measurements on trained models that several chapters make: attacks over a grid of eps,
transfer between models, and the examples shown in digit grids.

All take NumPy arrays or tensors ``x`` float (n, 784) and ``y`` int64 (n,), and models from
:mod:`advlib.zoo` (anything with ``probs``, or plain logits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from advlib.attacks import bim, fgsm
from advlib.checks import check_choice, check_eps
from advlib.train import evaluate, predict

__all__ = [
    "ATTACKS",
    "adversarial",
    "robustness_curve",
    "transfer",
    "example_digits",
]

ATTACKS = ("fgsm", "pgd", "bim")
Clip = tuple[float, float] | None


def adversarial(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    eps: float,
    *,
    attack: str = "fgsm",
    clip: Clip = None,
    steps: int = 20,
    step: float | None = None,
    seed: int = 0,
    batch_size: int = 1000,
) -> torch.Tensor:
    """Adversarial examples (n, 784) against ``model`` at max-norm ``eps``.

    attack: "fgsm" (one step, the paper's), "bim" (``steps`` signed-gradient steps of size
    ``step``, each projected to the eps-ball; default step 2.5·eps/steps, Madry et al.'s rule)
    or "pgd" (bim from a random start drawn with ``seed``).
    clip: None for the paper's unclipped examples, or (0, 1).
    """
    check_choice(attack, where="adversarial", name="attack", allowed=ATTACKS)
    eps = check_eps(eps, where="adversarial")
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if attack == "fgsm":
        return torch.cat([fgsm(model, xb, yb, eps, clip=clip)
                          for xb, yb in zip(x.split(batch_size), y.split(batch_size))])
    step = 2.5 * eps / steps if step is None else step
    gen = torch.Generator().manual_seed(seed)
    return torch.cat([
        bim(model, xb, yb, eps, step, steps, clip=clip, random_start=attack == "pgd",
            generator=gen)
        for xb, yb in zip(x.split(batch_size), y.split(batch_size))
    ])


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
    FGSM versions, with the model's predictions: for :func:`advlib.charts.digit_grid`.

    Returns NumPy arrays: clean (n, 784), adversarial (n, 784), labels, and pred/confidence for
    both (``clean_pred``, ``clean_confidence``, ``adv_pred``, ``adv_confidence``).
    """
    x, y = np.asarray(x), np.asarray(y)
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
