"""Rotations as adversarial perturbations (Sec. 4, claim C8).

The paper remarks that the gradient is not the only direction that fools a model: "rotating x
by a small angle in the direction of the gradient reliably produces adversarial examples".
Here the angle θ is the one-dimensional perturbation. The loss along it is J(θ, rotate(x, θ), y);
its derivative at θ = 0 says which way of turning each digit raises the loss, and
:func:`rotation_attack` turns every digit that way by a fixed angle. The control is the same
angle in a random direction per digit (:func:`rotation_curve`).

Rotation is about the image centre, by sampling the 28×28 image at rotated coordinates with
``torch.nn.functional.affine_grid`` / ``grid_sample``; positive angles turn the digit
counter-clockwise as it is displayed. Interpolation is bilinear, so a turned digit is a convex
combination of pixels (and the black outside the frame) and stays in [0, 1] with no clipping.
At θ = 0 every sample falls exactly on a pixel centre, where bilinear interpolation has a kink:
the loss has different slopes to the left and to the right of 0, and autograd at exactly 0
returns one of them, picked by floating-point rounding. :func:`rotation_gradient` therefore
takes both one-sided slopes by autograd, just either side of 0, and averages them. To first
order, J(a) − J(−a) = a·(right slope + left slope), so the sign of that average is exactly what
decides which of the two turns by ``a`` raises the loss more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from advlib.attacks import frozen, model_loss
from advlib.checks import (
    as_model_inputs,
    as_tensor,
    check_choice,
    check_labels,
    check_model,
    check_seed,
    check_x,
)
from advlib.measure import evaluate, predict

__all__ = ["DIRECTIONS", "rotate", "rotation_gradient", "rotation_attack", "rotation_curve"]

DIRECTIONS = ("gradient", "random")
SIDE = 28
ONE_SIDED = 1e-5
"""Radians either side of 0 where the one-sided slopes are taken. Sample points move by .00001
to .0002 pixel: far from the next pixel centre (no kink in between), clear of float32 rounding
of the coordinates, and close enough to 0 that the slopes' curvature bias is about .2%."""


def _angles(theta: Any, n: int, like: torch.Tensor, where: str) -> torch.Tensor:
    """θ as an (n,) tensor in x's dtype: a float for every image, or one angle per image."""
    if isinstance(theta, bool) or not isinstance(theta, (Real, torch.Tensor, np.ndarray)):
        raise TypeError(
            f"{where}: theta must be a number of radians or a (n,) tensor of them, "
            f"got {type(theta).__name__} {theta!r}"
        )
    if isinstance(theta, np.ndarray):
        theta = as_tensor(theta, where=where, name="theta")
    if isinstance(theta, torch.Tensor) and (theta.is_complex() or theta.dtype == torch.bool):
        raise TypeError(f"{where}: theta must be real-valued, got dtype {theta.dtype}")
    theta = torch.as_tensor(theta, dtype=like.dtype, device=like.device)
    if theta.dim() == 0:
        theta = theta.expand(n)
    if tuple(theta.shape) != (n,):
        raise ValueError(
            f"{where}: theta must be a number or have shape ({n},), got {tuple(theta.shape)}"
        )
    if not torch.isfinite(theta).all():
        raise ValueError(f"{where}: theta must be finite")
    return theta


def _as_images(x: Any, where: str) -> torch.Tensor:
    x = as_tensor(x, where=where)
    check_x(x, where=where, ndim=2, features=SIDE * SIDE, clip=None)
    return x


def rotate(x: Any, theta: Any) -> torch.Tensor:
    """The 28×28 images ``x`` (n, 784) turned by ``theta`` radians about their centre.

    theta: a number, or a (n,) tensor (one angle per image; differentiable). Positive angles
    turn counter-clockwise as displayed; pixels that come from outside the frame are 0.
    Bilinear interpolation: the result stays within [min(x, 0), max(x)]. Returns (n, 784) in
    x's dtype; ``theta = 0`` returns x (up to rounding).
    """
    where = "rotate"
    x = _as_images(x, where)
    n = x.shape[0]
    theta = _angles(theta, n, x, where)
    c, s, zero = torch.cos(theta), torch.sin(theta), torch.zeros_like(theta)
    # affine_grid maps each output pixel to the input point it samples; with y pointing down
    # the image, this matrix turns the picture counter-clockwise by theta.
    matrix = torch.stack([torch.stack([c, -s, zero], -1), torch.stack([s, c, zero], -1)], 1)
    grid = F.affine_grid(matrix, [n, 1, SIDE, SIDE], align_corners=False)
    out = F.grid_sample(
        x.reshape(n, 1, SIDE, SIDE),
        grid,
        mode="bilinear",
        padding_mode="zeros",
        align_corners=False,
    )
    return out.reshape(n, SIDE * SIDE)


def rotation_gradient(model: torch.nn.Module, x: Any, y: Any) -> torch.Tensor:
    """dJᵢ/dθ at θ = 0 for every image: the loss's slope along a rotation, (n,), float.

    Jᵢ = J(θ, rotate(xᵢ, θ), yᵢ), J the model's loss (:func:`advlib.attacks.model_loss`),
    dropout off: the mean of the slopes by autograd at θ = ±:data:`ONE_SIDED` (the two sides of
    bilinear interpolation's kink at 0; see the module's note). The model's mode and its
    parameters' ``requires_grad`` are restored; no ``.grad`` is left on them.
    """
    where = "rotation_gradient"
    check_model(model, where=where)
    x, y = as_model_inputs(model, _as_images(x, where), y, where=where)
    x = x.detach()
    slopes = []
    with frozen(model), torch.enable_grad():
        for side in (1.0, -1.0):
            theta = torch.full(
                (x.shape[0],), side * ONE_SIDED, dtype=x.dtype, device=x.device, requires_grad=True
            )
            # J is a batch mean, so n·dJ/dθᵢ is image i's own slope.
            loss = model_loss(model, model(rotate(x, theta)), y) * x.shape[0]
            slopes.append(torch.autograd.grad(loss, theta)[0])
    return (slopes[0] + slopes[1]) / 2


def _signs(model, x, y, direction, seed):
    """(n,) of ±1: the side each image is turned to."""
    if direction == "gradient":
        return torch.where(rotation_gradient(model, x, y) >= 0, 1.0, -1.0).to(x.dtype)
    check_labels(
        as_tensor(y, where="rotation_attack", name="y"),
        where="rotation_attack",
        n=x.shape[0],
        num_classes=None,
    )
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.choice([-1.0, 1.0], size=x.shape[0])).to(x.dtype)


def _check_degrees(degrees, where):
    if isinstance(degrees, bool) or not isinstance(degrees, Real):
        raise TypeError(
            f"{where}: degrees must be a number >= 0, got {type(degrees).__name__} {degrees!r}"
        )
    if not (math.isfinite(degrees) and degrees >= 0):
        raise ValueError(f"{where}: degrees must be a finite number >= 0, got {degrees!r}")
    return float(degrees)


def rotation_attack(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    degrees: float,
    *,
    direction: str = "gradient",
    seed: int = 0,
) -> torch.Tensor:
    """Every image turned by ``degrees`` in the direction that raises the loss, or at random.

    direction: "gradient" (θᵢ = degrees·sign(dJᵢ/dθ), a zero slope counts as +) or "random"
    (θᵢ = ±degrees, the sign drawn with ``seed``). x (n, 784), y (n,); returns (n, 784),
    detached.
    """
    where = "rotation_attack"
    check_model(model, where=where)
    check_choice(direction, where=where, name="direction", allowed=DIRECTIONS)
    degrees = _check_degrees(degrees, where)
    seed = check_seed(seed, where=where)
    x = _as_images(x, where)
    theta = math.radians(degrees) * _signs(model, x, y, direction, seed)
    return rotate(x, theta).detach()


def rotation_curve(
    models: Mapping[str, torch.nn.Module],
    x: Any,
    y: Any,
    degrees: Sequence[float],
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Error and confidence of each model on its test digits turned by each angle, toward the
    loss's gradient (as :func:`rotation_attack`) and in a random direction.

    Returns one row per (model, degrees, direction): model, degrees, direction ("gradient",
    "random", or "either": wrong when a turn of that size either way fools the model, the most
    any choice of direction can do), error, confidence and mistake_confidence (nan for
    "either"), n, and ``picked``: on the "gradient" rows, among the images that exactly one of
    the two turns fools, the share the gradient turned the fooling way (nan elsewhere, and when
    there are no such images).
    """
    where = "rotation_curve"
    if not isinstance(models, Mapping) or not models:
        raise TypeError(
            f"{where}: models must be a non-empty dict of name → torch module, got "
            f"{type(models).__name__}"
        )
    for name, model in models.items():
        check_model(model, where=where, name=f"models[{name!r}]")
    degrees = degrees.tolist() if isinstance(degrees, np.ndarray) else degrees
    if isinstance(degrees, (str, bytes)) or not isinstance(degrees, Sequence) or not degrees:
        raise TypeError(
            f"{where}: degrees must be a non-empty list of angles >= 0, got {degrees!r}"
        )
    degrees = [_check_degrees(deg, where) for deg in degrees]
    seed = check_seed(seed, where=where)
    x = _as_images(x, where)
    y_np = as_tensor(y, where=where, name="y").cpu().numpy()
    rows = []
    for name, model in models.items():
        signs = {d: _signs(model, x, y, d, seed) for d in DIRECTIONS}
        for deg in degrees:
            deg = _check_degrees(deg, where)
            turned = {side: rotate(x, side * math.radians(deg)).detach() for side in (1, -1)}
            wrong = {side: predict(model, t)[0] != y_np for side, t in turned.items()}
            for direction, sign in signs.items():
                chosen = torch.where(sign[:, None] > 0, turned[1], turned[-1])
                picked = math.nan
                if direction == "gradient":
                    one = wrong[1] ^ wrong[-1]
                    fooled_side = np.where(wrong[1], 1.0, -1.0)
                    if one.any():
                        picked = float((sign.cpu().numpy()[one] == fooled_side[one]).mean())
                rows.append(
                    {
                        "model": name,
                        "degrees": deg,
                        "direction": direction,
                        **evaluate(model, chosen, y, clip=None),
                        "picked": picked,
                    }
                )
            either = wrong[1] | wrong[-1]
            rows.append(
                {
                    "model": name,
                    "degrees": deg,
                    "direction": "either",
                    "error": float(either.mean()),
                    "confidence": math.nan,
                    "mistake_confidence": math.nan,
                    "n": len(either),
                    "picked": math.nan,
                }
            )
    return pd.DataFrame(rows)


def rotation_summary(turns: pd.DataFrame, shown: float) -> pd.DataFrame:
    """Landmarks of :func:`rotation_curve`'s table, one row per model (the index), at the
    largest angle (``top``) and at ``shown`` degrees (the largest angle if ``shown`` is not in
    the table): ``beats`` (the gradient's turn fools more digits than a random one at every
    angle > 0), ``gradient``, ``random`` and ``either`` error at the top angle, ``picked`` there
    and its least over the angles > 0 (``picked_min``), ``shown_gradient``, ``shown_random``,
    and the angles ``top`` and ``shown`` themselves."""
    top = float(turns["degrees"].max())
    shown = float(shown) if float(shown) in set(turns["degrees"]) else top
    rows = {}
    for name, mine in turns.groupby("model", sort=False):
        by_angle = mine.pivot(index="degrees", columns="direction", values="error")
        picked = mine[mine["direction"] == "gradient"].set_index("degrees")["picked"]
        turned = by_angle[by_angle.index > 0]
        rows[name] = {
            "beats": bool((turned["gradient"] > turned["random"]).all()),
            "gradient": float(by_angle.loc[top, "gradient"]),
            "random": float(by_angle.loc[top, "random"]),
            "either": float(by_angle.loc[top, "either"]),
            "picked": float(picked.loc[top]),
            "picked_min": float(picked[picked.index > 0].min()),
            "shown_gradient": float(by_angle.loc[shown, "gradient"]),
            "shown_random": float(by_angle.loc[shown, "random"]),
            "top": top,
            "shown": shown,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
