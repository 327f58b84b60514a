"""Argument checks shared by every public function of advlib.

Each check raises one ``ValueError`` or ``TypeError`` that names the function, the argument,
what was passed and what is allowed, before any work is done. They accept torch tensors and
NumPy/CuPy arrays alike (anything with ``shape``, ``dtype`` and array-API reductions).
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

__all__ = [
    "check_eps",
    "check_clip",
    "check_x",
    "check_labels",
    "check_pm1_labels",
    "check_choice",
]


def _is_torch(a: Any) -> bool:
    return type(a).__module__.startswith("torch")


def _describe(a: Any) -> str:
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return f"{type(a).__name__} of shape {tuple(a.shape)} and dtype {a.dtype}"
    return f"{type(a).__name__} {a!r}"


def _is_floating(a: Any) -> bool:
    if _is_torch(a):
        return a.is_floating_point()
    return getattr(a.dtype, "kind", None) == "f"


def _is_integer(a: Any) -> bool:
    if _is_torch(a):
        return not a.is_floating_point() and not a.is_complex() and a.dtype != _torch_bool()
    return getattr(a.dtype, "kind", None) in ("i", "u")


def _torch_bool():
    import torch

    return torch.bool


def _all_finite(a: Any) -> bool:
    if _is_torch(a):
        import torch

        return bool(torch.isfinite(a).all())
    xp = _namespace(a)
    return bool(xp.all(xp.isfinite(a)))


def _min_max(a: Any) -> tuple[float, float]:
    if _is_torch(a):
        return float(a.min()), float(a.max())
    xp = _namespace(a)
    return float(xp.min(a)), float(xp.max(a))


def _namespace(a: Any):
    from array_api_compat import array_namespace

    return array_namespace(a)


def check_eps(eps: Any, *, where: str, n: int | None = None, name: str = "eps") -> Any:
    """Check a perturbation size: a finite real >= 0, or a per-example vector of them.

    A vector (1-d tensor/array) must have length ``n`` (the batch size) when ``n`` is given.
    Returns ``eps`` unchanged (a Python float for real scalars).
    """
    if isinstance(eps, bool):
        raise TypeError(f"{where}: {name} must be a real number >= 0, got the bool {eps!r}")
    if isinstance(eps, Real):
        value = float(eps)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{where}: {name} must be finite and >= 0, got {eps!r}")
        return value
    if not (hasattr(eps, "shape") and hasattr(eps, "dtype")):
        raise TypeError(
            f"{where}: {name} must be a float or a 1-d tensor/array of per-example values, "
            f"got {_describe(eps)}"
        )
    if len(eps.shape) == 0:
        return check_eps(float(eps), where=where, n=n, name=name)
    if len(eps.shape) != 1 or (n is not None and eps.shape[0] != n):
        want = f"({n},)" if n is not None else "(n,)"
        raise ValueError(
            f"{where}: a per-example {name} must have shape {want}, got shape {tuple(eps.shape)}"
        )
    if not (_is_floating(eps) or _is_integer(eps)):
        raise TypeError(f"{where}: {name} must be real-valued, got dtype {eps.dtype}")
    if not _all_finite(eps) or (eps.shape[0] and _min_max(eps)[0] < 0):
        raise ValueError(f"{where}: every {name} must be finite and >= 0, got {eps!r}")
    return eps


def check_clip(clip: Any, *, where: str) -> tuple[float, float] | None:
    """Check a clip range: ``None`` (no clipping) or ``(lo, hi)`` finite reals with lo < hi."""
    if clip is None:
        return None
    try:
        lo, hi = clip
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: clip must be None or a pair (lo, hi) of numbers, got {clip!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{where}: clip must be a finite range with lo < hi, got {clip!r}")
    return lo, hi


def check_x(
    x: Any,
    *,
    where: str,
    clip: tuple[float, float] | None = None,
    ndim: int | None = None,
    features: int | None = None,
    name: str = "x",
) -> Any:
    """Check inputs: a floating tensor/array, finite, inside ``clip`` when a range is given.

    ``ndim`` fixes the number of dimensions; ``features`` fixes the size of the last one.
    """
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        raise TypeError(f"{where}: {name} must be a tensor or array, got {_describe(x)}")
    if not _is_floating(x):
        raise TypeError(
            f"{where}: {name} must have a floating dtype (float32 or float64), got {x.dtype}"
        )
    if ndim is not None and len(x.shape) != ndim:
        raise ValueError(
            f"{where}: {name} must have {ndim} dimensions, got shape {tuple(x.shape)}"
        )
    if features is not None and (len(x.shape) == 0 or x.shape[-1] != features):
        raise ValueError(
            f"{where}: {name} must have {features} features in its last dimension "
            f"(the model's input size), got shape {tuple(x.shape)}"
        )
    if len(x.shape) and x.shape[0] == 0:
        raise ValueError(f"{where}: {name} is empty (shape {tuple(x.shape)})")
    if not _all_finite(x):
        raise ValueError(f"{where}: {name} must be finite, but it holds NaN or inf values")
    if clip is not None:
        lo, hi = _min_max(x)
        if lo < clip[0] or hi > clip[1]:
            raise ValueError(
                f"{where}: {name} must lie in the clip range [{clip[0]}, {clip[1]}] "
                f"(pixels in [0, 1]), got values in [{lo:.4g}, {hi:.4g}]; "
                "pass clip=None to attack inputs on another scale"
            )
    return x


def check_labels(
    y: Any, *, where: str, n: int, num_classes: int | None, name: str = "y"
) -> Any:
    """Check class labels: 1-d integers in ``0..num_classes-1`` (>= 0 when ``num_classes`` is
    None), one per example."""
    if not (hasattr(y, "shape") and hasattr(y, "dtype")):
        raise TypeError(f"{where}: {name} must be a tensor or array of labels, got {_describe(y)}")
    if not _is_integer(y):
        raise TypeError(
            f"{where}: {name} must hold integer class labels (int64), got dtype {y.dtype}"
        )
    if tuple(y.shape) != (n,):
        raise ValueError(
            f"{where}: {name} must have shape ({n},), one label per example, "
            f"got shape {tuple(y.shape)}"
        )
    lo, hi = _min_max(y)
    top = float("inf") if num_classes is None else num_classes
    if lo < 0 or hi >= top:
        allowed = "labels >= 0" if num_classes is None else f"labels in 0..{num_classes - 1}"
        raise ValueError(
            f"{where}: {name} must hold {allowed}, got values in [{int(lo)}, {int(hi)}]"
        )
    return y


def check_pm1_labels(y: Any, *, where: str, n: int, name: str = "y") -> Any:
    """Check binary labels for logistic regression: 1-d, one per example, every value -1 or +1."""
    if not (hasattr(y, "shape") and hasattr(y, "dtype")):
        raise TypeError(f"{where}: {name} must be a tensor or array of ±1 labels, got {_describe(y)}")
    if not (_is_integer(y) or _is_floating(y)):
        raise TypeError(f"{where}: {name} must be numeric ±1 labels, got dtype {y.dtype}")
    if tuple(y.shape) != (n,):
        raise ValueError(
            f"{where}: {name} must have shape ({n},), one label per example, "
            f"got shape {tuple(y.shape)}"
        )
    if _is_torch(y):
        ok = bool(((y == 1) | (y == -1)).all())
    else:
        xp = _namespace(y)
        ok = bool(xp.all((y == 1) | (y == -1)))
    if not ok:
        raise ValueError(
            f"{where}: {name} must hold labels -1 or +1 (the paper's y ∈ {{-1, 1}}), "
            f"got values {sorted(set(map(float, _unique(y))))[:6]}"
        )
    return y


def _unique(y: Any):
    if _is_torch(y):
        return y.unique().tolist()
    xp = _namespace(y)
    return [float(v) for v in xp.unique_values(y)]


def check_choice(value: Any, *, where: str, name: str, allowed: tuple) -> Any:
    """Check that ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(
            f"{where}: {name} must be one of {', '.join(map(repr, allowed))}; got {value!r}"
        )
    return value
