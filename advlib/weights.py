"""How localised a layer's weight images are (Sec. 6, Fig. 3: adversarially trained weights are
"more localized and interpretable", claim C20).

Each row of a first-layer weight matrix (units, 784) is a 28×28 image. Two numbers per image,
both computed from its energy w² (so the sign of a weight does not matter):

- :func:`top_share`: the share of the energy held by the image's largest ``fraction`` of pixels.
  For weights drawn independently of position it is about .27 at ``fraction=.1`` (uniform
  weights); a unit that looks at a few strokes has most of its energy in few pixels.
- :func:`spread`: the root-mean-square distance, in pixels, of the energy from its centre of
  mass: the radius of the blob a unit looks at. About 11.4 for energy spread evenly over the
  28×28 image, small for a unit that looks at one part of the digit.

:func:`energy_share` gives the share of each image's energy on chosen pixels (e.g. those that are
blank in every training digit, which only a perturbation ever changes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from advlib.checks import check_real

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["weight_images", "top_share", "spread", "energy_share", "localisation"]

SIDE = 28


def weight_images(layer: Any) -> np.ndarray:
    """The weight images (units, 784) of a linear layer (a torch ``nn.Linear`` with weight
    (out, 784), e.g. ``model.first_layer``) or of an array of that shape, as float64 NumPy."""
    where = "weight_images"
    weight = getattr(layer, "weight", layer)
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    if not isinstance(weight, np.ndarray) or weight.dtype.kind not in "iuf":
        raise TypeError(
            f"{where}: expects a linear layer or a real array of weights (units, {SIDE * SIDE}), "
            f"got {type(layer).__name__}"
            + (f" of dtype {weight.dtype}" if isinstance(weight, np.ndarray) else "")
        )
    w = weight.astype(np.float64)
    if w.ndim != 2 or w.shape[1] != SIDE * SIDE or w.shape[0] == 0:
        raise ValueError(
            f"{where}: expects weights (units, {SIDE * SIDE}) with units >= 1, got shape {w.shape}"
        )
    if not np.isfinite(w).all():
        raise ValueError(f"{where}: the weights must be finite, but they hold NaN or inf values")
    return w


def top_share(weights: Any, fraction: float = 0.1) -> np.ndarray:
    """(units,) share of each weight image's energy Σw² in its top ``fraction`` of pixels."""
    check_real(fraction, where="top_share", name="fraction", low=0.0, high=1.0, open_low=True)
    energy = weight_images(weights) ** 2
    k = max(1, int(round(fraction * energy.shape[1])))
    top = -np.sort(-energy, axis=1)[:, :k].sum(axis=1)
    return top / np.maximum(energy.sum(axis=1), np.finfo(float).tiny)


def spread(weights: Any) -> np.ndarray:
    """(units,) RMS distance in pixels of each weight image's energy from its centre of mass."""
    energy = weight_images(weights) ** 2
    p = energy / np.maximum(energy.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    rows, cols = np.divmod(np.arange(SIDE * SIDE), SIDE)
    mean_r, mean_c = p @ rows, p @ cols
    var = p @ rows**2 - mean_r**2 + p @ cols**2 - mean_c**2
    return np.sqrt(np.maximum(var, 0.0))


def energy_share(weights: Any, pixels: Any) -> np.ndarray:
    """(units,) share of each weight image's energy Σw² on ``pixels``, a boolean mask (784,)."""
    if hasattr(pixels, "detach"):
        pixels = pixels.detach().cpu().numpy()
    pixels = np.asarray(pixels)
    if pixels.dtype != bool:
        raise TypeError(
            f"energy_share: pixels must be a boolean mask ({SIDE * SIDE},), got "
            f"dtype {pixels.dtype}"
        )
    if pixels.shape != (SIDE * SIDE,):
        raise ValueError(
            f"energy_share: pixels must be a boolean mask ({SIDE * SIDE},), "
            f"got shape {pixels.shape}"
        )
    energy = weight_images(weights) ** 2
    return energy[:, pixels].sum(axis=1) / np.maximum(energy.sum(axis=1), np.finfo(float).tiny)


def localisation(weights: Any, fraction: float = 0.1) -> dict[str, float]:
    """Means over units of :func:`top_share` and :func:`spread`: ``{"top_share", "spread"}``."""
    return {
        "top_share": float(top_share(weights, fraction).mean()),
        "spread": float(spread(weights).mean()),
    }


def unit_images(model: Any, units: int, *, piece: int = 0) -> np.ndarray:
    """The first-layer weight images of piece ``piece`` of the first ``units`` maxout units of
    ``model`` (a :class:`advlib.models.MaxoutMLP`), float64 (units, 784)."""
    layer = model.hidden[0]
    if not 0 <= piece < layer.pieces or not 1 <= units <= layer.width:
        raise ValueError(
            f"unit_images: piece must be in 0..{layer.pieces - 1} and units in "
            f"1..{layer.width}, got piece={piece!r}, units={units!r}"
        )
    return weight_images(layer.piece_weights()[piece, :units])


def localisation_table(models: dict, blank: Any, fraction: float = 0.1) -> pd.DataFrame:
    """For each model (a dict name → maxout net), over its first-layer weight images: the mean
    ``top-{fraction} energy share``, the mean ``spread (pixels)`` and the mean ``energy on blank
    pixels`` (``blank``: a (784,) bool mask, e.g. pixels blank in every training digit).
    One row per model (the index)."""
    import pandas as pd

    rows = {}
    for name, model in models.items():
        w = model.first_layer.weight
        rows[name] = {
            f"top-{fraction:.0%} energy share": float(top_share(w, fraction).mean()),
            "spread (pixels)": float(spread(w).mean()),
            "energy on blank pixels": float(energy_share(w, blank).mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")
