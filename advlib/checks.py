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
    "check_x_values",
    "check_weights",
    "check_positive",
    "check_namespace",
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


def _min_max(a: Any) -> tuple[float, float]:
    """(min, max) of a non-empty array as floats; NaN anywhere makes both NaN.

    One pass each with torch's vectorised ``amin``/``amax`` (which propagate NaN), so a finite
    pair also proves every value finite: validation costs two reads of the input, no more.
    """
    if _is_torch(a):
        import torch

        return float(torch.amin(a)), float(torch.amax(a))
    xp = _namespace(a)
    return float(xp.min(a)), float(xp.max(a))


def _all_finite(a: Any) -> bool:
    if len(a.shape) and a.shape[0] == 0:
        return True
    lo, hi = _min_max(a)
    return math.isfinite(lo) and math.isfinite(hi)


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
    values: bool = True,
) -> Any:
    """Check inputs: a floating tensor/array, finite, inside ``clip`` when a range is given.

    ``ndim`` fixes the number of dimensions; ``features`` fixes the size of the last one.
    ``values=False`` checks type and shape only; the caller then runs :func:`check_x_values`.
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
    if values:
        check_x_values(x, where=where, clip=clip, name=name)
    return x


def check_x_values(
    x: Any, *, where: str, clip: tuple[float, float] | None = None, name: str = "x"
) -> Any:
    """Check the values of ``x``: finite, and inside ``clip`` when a range is given.

    The value half of :func:`check_x`, for callers that check a batch chunk by chunk (the
    attacks do, so that the check reads each chunk while it is in cache anyway).
    """
    lo, hi = _min_max(x)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{where}: {name} must be finite, but it holds NaN or inf values")
    if clip is not None and (lo < clip[0] or hi > clip[1]):
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


def check_positive(value: Any, *, where: str, name: str, integer: bool = False) -> Any:
    """Check a hyperparameter: a finite real > 0 (an int >= 1 when ``integer``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        kind = "an integer >= 1" if integer else "a real number > 0"
        raise TypeError(f"{where}: {name} must be {kind}, got {_describe(value)}")
    if integer:
        if int(value) != value or value < 1:
            raise ValueError(f"{where}: {name} must be an integer >= 1, got {value!r}")
        return int(value)
    if not math.isfinite(float(value)) or value <= 0:
        raise ValueError(f"{where}: {name} must be finite and > 0, got {value!r}")
    return float(value)


def check_namespace(*arrays: Any, where: str):
    """The array-API namespace shared by ``arrays`` (NumPy or CuPy; Python scalars are skipped).

    Mixing libraries (a NumPy ``x`` with CuPy weights) is a TypeError naming what was passed.
    """
    from array_api_compat import array_namespace

    arrays = tuple(a for a in arrays if not isinstance(a, (int, float)))
    try:
        return array_namespace(*arrays)
    except TypeError:
        kinds = ", ".join(sorted({type(a).__module__.split(".")[0] + "." + type(a).__name__
                                  for a in arrays}))
        raise TypeError(
            f"{where}: the arrays must all be NumPy or all CuPy arrays, got {kinds}"
        ) from None


def check_weights(
    w: Any, b: Any, *, where: str, features: int, multiclass: bool
) -> int | None:
    """Check linear-model parameters against ``features`` (d, the size of a row of x).

    Logistic regression (``multiclass=False``): ``w`` of shape (d,), ``b`` a real or a 0-d array.
    Softmax regression: ``W`` of shape (d, k) with k >= 2, ``b`` of shape (k,).
    Both floating and finite. Returns k for softmax regression, None for logistic regression.
    """
    wname = "W" if multiclass else "w"
    want = f"({features}, k)" if multiclass else f"({features},)"
    if not (hasattr(w, "shape") and hasattr(w, "dtype")):
        raise TypeError(f"{where}: {wname} must be an array of shape {want}, got {_describe(w)}")
    if not _is_floating(w):
        raise TypeError(f"{where}: {wname} must have a floating dtype, got {w.dtype}")
    shape = tuple(w.shape)
    if len(shape) != (2 if multiclass else 1) or shape[0] != features or (
        multiclass and shape[1] < 2
    ):
        raise ValueError(
            f"{where}: {wname} must have shape {want}"
            + (" with k >= 2 classes" if multiclass else "")
            + f" to match x with {features} features, got shape {shape}"
        )
    k = shape[1] if multiclass else None
    if isinstance(b, bool):
        raise TypeError(f"{where}: b must be a real number or an array, got the bool {b!r}")
    if isinstance(b, Real):
        if multiclass:
            raise ValueError(f"{where}: b must have shape ({k},), one bias per class, got {b!r}")
        b_ok = math.isfinite(float(b))
    else:
        if not (hasattr(b, "shape") and hasattr(b, "dtype")):
            raise TypeError(f"{where}: b must be a real number or an array, got {_describe(b)}")
        if not (_is_floating(b) or _is_integer(b)):
            raise TypeError(f"{where}: b must be real-valued, got dtype {b.dtype}")
        bshape = (k,) if multiclass else ()
        if tuple(b.shape) != bshape:
            raise ValueError(
                f"{where}: b must have shape {bshape}"
                + (", one bias per class" if multiclass else " (a scalar)")
                + f", got shape {tuple(b.shape)}"
            )
        b_ok = len(b.shape) == 0 and math.isfinite(float(b)) or (
            len(b.shape) == 1 and _all_finite(b)
        )
    if not (_all_finite(w) and b_ok):
        raise ValueError(f"{where}: {wname} and b must be finite, but they hold NaN or inf values")
    return k


def check_int(value: Any, *, where: str, name: str, low: int = 0) -> int:
    """Check an integer argument (not a bool, not a float): ``low`` or more. Returns an int."""
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an integer >= {low}, got {_describe(value)}")
    if value < low:
        raise ValueError(f"{where}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_seed(seed: Any, *, where: str, name: str = "seed") -> int:
    """Check a seed: an integer in [0, 2**63) (what numpy and torch both accept)."""
    seed = check_int(seed, where=where, name=name, low=0)
    if seed >= 2**63:
        raise ValueError(f"{where}: {name} must be below 2**63, got {seed!r}")
    return seed


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: Any, *, where: str):
    """``"auto"`` (CUDA when torch sees a GPU, else the CPU), ``"cpu"`` or ``"cuda"`` (or a
    ``torch.device``) as a ``torch.device``; asking for CUDA without a GPU is an error."""
    import torch

    if isinstance(device, torch.device):
        device = device.type if device.index is None else str(device)
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(f"{where}: device must be one of {', '.join(DEVICES)}; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"{where}: device {device!r} asked for, but torch sees no GPU")
    return torch.device(device)


def model_device(model: Any):
    """The device of the model's first parameter or buffer (the CPU for a model with none)."""
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def model_dtype(model: Any):
    """The floating dtype of the model's first floating parameter or buffer (float32 if none)."""
    import torch

    for p in (*model.parameters(), *model.buffers()):
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def as_model_inputs(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    where: str,
    pixels: bool = False,
    classes: int | None = None,
    device: Any = None,
):
    """``x`` (and ``y``) as tensors the model can take, on ``device`` (default: the model's):
    NumPy arrays are converted; ``x`` must be (n, in_features), finite, of the model's dtype
    (pixels in [0, 1] with ``pixels``); ``y`` int64 labels in 0..num_classes-1, one per row,
    with at least ``classes`` distinct classes when given. Returns ``x`` or ``(x, y)``."""
    import numpy as np
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{where}: model must be a torch.nn.Module, got {_describe(model)}")
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x)) if x.dtype.kind == "f" else x
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: x must be a torch tensor or a NumPy array, got {_describe(x)}")
    check_x(x, where=where, ndim=2, features=getattr(model, "in_features", None),
            clip=(0.0, 1.0) if pixels else None, values=True)
    dtype = model_dtype(model)
    if x.dtype != dtype:
        raise TypeError(
            f"{where}: x has dtype {x.dtype} but the model's weights are {dtype}; "
            f"convert it first (x.to({dtype}))"
        )
    device = model_device(model) if device is None else device
    x = x.to(device)
    if y is None:
        return x
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(np.ascontiguousarray(y))
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{where}: y must be a torch tensor or a NumPy array of labels, "
                        f"got {_describe(y)}")
    if y.dtype != torch.int64:
        raise TypeError(
            f"{where}: y must hold int64 class labels, got dtype {y.dtype}; convert with "
            "y.long() (or y.astype('int64') for NumPy)"
        )
    k = getattr(model, "num_classes", None)
    check_labels(y, where=where, n=x.shape[0], num_classes=int(k) if k is not None else None)
    if classes is not None and int(torch.unique(y).numel()) < classes:
        raise ValueError(
            f"{where}: y holds {int(torch.unique(y).numel())} distinct class(es); training needs "
            f"at least {classes}"
        )
    return x, y.to(device)
