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
    "check_int",
    "check_seed",
    "check_bool",
    "check_real",
    "check_model",
    "check_finite_model",
    "check_scores",
    "check_folder",
    "check_file",
    "as_tensor",
    "as_labels",
    "resolve_device",
    "model_device",
    "model_dtype",
    "as_model_inputs",
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

    One pass with torch's ``aminmax`` (which propagates NaN), so a finite pair also proves every
    value finite: validation costs one read of the input, no more.
    """
    if _is_torch(a):
        import torch

        lo, hi = torch.aminmax(a)
        return float(lo), float(hi)
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


def check_eps(
    eps: Any, *, where: str, n: int | None = None, name: str = "eps", scalar: bool = False
) -> Any:
    """Check a perturbation size: a finite real >= 0, or a per-example vector of them.

    A vector (1-d tensor/array) must have length ``n`` (the batch size) when ``n`` is given;
    ``scalar=True`` (where one number is documented) refuses vectors. Returns ``eps`` unchanged
    (a Python float for real scalars and 0-d tensors/arrays).
    """
    if isinstance(eps, bool):
        raise TypeError(f"{where}: {name} must be a real number >= 0, got the bool {eps!r}")
    if isinstance(eps, Real):
        value = float(eps)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{where}: {name} must be finite and >= 0, got {eps!r}")
        return value
    if not (hasattr(eps, "shape") and hasattr(eps, "dtype")):
        kind = "a float >= 0" if scalar else "a float or a 1-d tensor/array of per-example values"
        raise TypeError(f"{where}: {name} must be {kind}, got {_describe(eps)}")
    if len(eps.shape) == 0:
        if not (_is_floating(eps) or _is_integer(eps)):
            raise TypeError(f"{where}: {name} must be a real number >= 0, got dtype {eps.dtype}")
        return check_eps(float(eps), where=where, n=n, name=name)
    if scalar:
        raise TypeError(
            f"{where}: {name} must be one number (a float >= 0) for every example, got "
            f"{_describe(eps)}; per-example values are not taken here"
        )
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
        raise ValueError(f"{where}: {name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if features is not None and (len(x.shape) == 0 or x.shape[-1] != features):
        raise ValueError(
            f"{where}: {name} must have {features} features in its last dimension "
            f"(the model's input size), got shape {tuple(x.shape)}"
        )
    if len(x.shape) and x.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} is empty (shape {tuple(x.shape)}); it must hold at least one row"
        )
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


def check_labels(y: Any, *, where: str, n: int, num_classes: int | None, name: str = "y") -> Any:
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
        raise TypeError(
            f"{where}: {name} must be a tensor or array of ±1 labels, got {_describe(y)}"
        )
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
    """Check that ``value`` is one of ``allowed`` (compared by type and value: 1.0 is not "1")."""
    try:
        ok = any(value is a or (type(value) is type(a) and value == a) for a in allowed)
    except (TypeError, ValueError):  # an array compared with a string
        ok = False
    if not ok:
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

    # Scalars and other non-arrays are left to the checks of their own argument.
    arrays = tuple(a for a in arrays if hasattr(a, "shape") and hasattr(a, "dtype"))
    if not arrays:
        raise TypeError(f"{where}: needs NumPy or CuPy arrays, got none")
    try:
        return array_namespace(*arrays)
    except TypeError:
        kinds = ", ".join(
            sorted({type(a).__module__.split(".")[0] + "." + type(a).__name__ for a in arrays})
        )
        raise TypeError(
            f"{where}: the arrays must all be NumPy or all CuPy arrays, got {kinds}"
        ) from None


def check_weights(w: Any, b: Any, *, where: str, features: int, multiclass: bool) -> int | None:
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
    if (
        len(shape) != (2 if multiclass else 1)
        or shape[0] != features
        or (multiclass and shape[1] < 2)
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
        b_ok = (
            len(b.shape) == 0 and math.isfinite(float(b)) or (len(b.shape) == 1 and _all_finite(b))
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
        raise ValueError(f"{where}: {name} must be an integer in [0, 2**63), got {seed!r}")
    return seed


def check_bool(value: Any, *, where: str, name: str) -> bool:
    """Check a flag: exactly True or False (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be True or False, got {_describe(value)}")
    return value


def check_real(
    value: Any,
    *,
    where: str,
    name: str,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Check a finite real number (not a bool, not an array) in the interval from ``low`` to
    ``high`` (closed unless ``open_low`` / ``open_high``). Returns a float."""
    left, right = "(" if open_low else "[", ")" if open_high else "]"
    span = f"in {left}{low:g}, {high:g}{right}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{where}: {name} must be a real number {span}, got {_describe(value)}")
    v = float(value)
    ok = (
        math.isfinite(v)
        and (v > low if open_low else v >= low)
        and (v < high if open_high else v <= high)
    )
    if not ok:
        raise ValueError(f"{where}: {name} must be a finite number {span}, got {value!r}")
    return v


def check_model(model: Any, *, where: str, name: str = "model") -> Any:
    """Check that ``model`` is a torch module (a classifier: x (n, d) to scores (n, k))."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"{where}: {name} must be a torch.nn.Module mapping x (n, d) to scores (n, k), "
            f"got {_describe(model)}"
        )
    return model


def check_finite_model(model: Any, *, where: str, name: str = "model") -> Any:
    """Check that every floating parameter and buffer of ``model`` is finite."""
    check_model(model, where=where, name=name)
    for key, tensor in model.state_dict().items():
        if tensor.is_floating_point() and tensor.numel() and not _all_finite(tensor.reshape(-1)):
            raise ValueError(
                f"{where}: {name}'s weights must be finite, but {key} holds NaN or inf values "
                "(a diverged training run?)"
            )
    return model


def check_scores(scores: Any, *, where: str, n: int, top_label: int | None) -> Any:
    """Check a model's output: a floating tensor (n, k), one row of k >= 2 scores per example,
    with k above the largest label ``top_label`` (so that every label names a score)."""
    import torch

    if not isinstance(scores, torch.Tensor):
        raise TypeError(
            f"{where}: the model must return a tensor of scores (n, k), got {_describe(scores)}"
        )
    if scores.dim() != 2 or scores.shape[0] != n:
        raise ValueError(
            f"{where}: the model must return scores of shape ({n}, k), one row per example, "
            f"got shape {tuple(scores.shape)}"
        )
    if not scores.is_floating_point():
        raise TypeError(f"{where}: the model must return floating scores, got {scores.dtype}")
    if top_label is not None and scores.shape[1] <= top_label:
        raise ValueError(
            f"{where}: the model returns {scores.shape[1]} scores per example, but y holds the "
            f"label {top_label}; labels must lie in 0..{scores.shape[1] - 1}"
        )
    return scores


def as_tensor(a: Any, *, where: str, name: str = "x") -> Any:
    """``a`` as a torch tensor: tensors as they are, NumPy arrays shared without a copy
    (``torch.from_numpy``); anything else is a TypeError."""
    import numpy as np
    import torch

    if isinstance(a, torch.Tensor):
        return a
    if isinstance(a, np.ndarray):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{where}: {name} must be numeric, got a NumPy array of {a.dtype}")
        return torch.from_numpy(np.ascontiguousarray(a))
    raise TypeError(f"{where}: {name} must be a torch tensor or a NumPy array, got {_describe(a)}")


def as_labels(
    y: Any, *, where: str, n: int, num_classes: int | None, device: Any = None, name: str = "y"
) -> Any:
    """``y`` as an int64 tensor of class labels (n,) in 0..num_classes-1 (>= 0 when None):
    NumPy arrays are converted; another integer dtype is a TypeError saying how to convert."""
    import torch

    y = as_tensor(y, where=where, name=name)
    if y.dtype != torch.int64:
        raise TypeError(
            f"{where}: {name} must hold int64 class labels, got dtype {y.dtype}; convert with "
            f"{name}.long() (or {name}.astype('int64') for NumPy)"
        )
    check_labels(y, where=where, n=n, num_classes=num_classes, name=name)
    return y if device is None else y.to(device)


def check_folder(path: Any, *, where: str, name: str, create: bool = False):
    """``path`` (a str or os.PathLike) as a ``Path`` naming a readable folder; ``create=True``
    makes a missing one (and its parents). A missing path, a file or an unreadable folder is a
    ValueError naming ``name`` (e.g. ``$ADVLIB_DATA``)."""
    import os
    from pathlib import Path

    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{where}: {name} must be a path (str or os.PathLike), got {_describe(path)}"
        )
    folder = Path(path).expanduser()
    if not folder.exists() and create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(
                f"{where}: {name} names {folder}, which does not exist and cannot be created "
                f"({exc.strerror or exc}); it must be a folder advlib may write to"
            ) from None
    if not folder.exists():
        raise ValueError(
            f"{where}: {name} names {folder}, which does not exist; it must be a folder"
        )
    if not folder.is_dir():
        raise ValueError(f"{where}: {name} names {folder}, which is a file; it must be a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise ValueError(
            f"{where}: {name} names the folder {folder}, which cannot be read "
            "(permission denied); it must be a folder advlib may read"
        )
    return folder


def check_file(path: Any, *, where: str, name: str):
    """``path`` (a str or os.PathLike) as a ``Path`` naming a readable file (not a folder)."""
    import os
    from pathlib import Path

    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{where}: {name} must be a path (str or os.PathLike), got {_describe(path)}"
        )
    file = Path(path).expanduser()
    if file.is_dir():
        raise ValueError(f"{where}: {name} {file} is a folder; it must be a file")
    if not file.exists():
        raise ValueError(f"{where}: {name} {file} does not exist")
    if not os.access(file, os.R_OK):
        raise ValueError(f"{where}: {name} {file} cannot be read (permission denied)")
    return file


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: Any, *, where: str):
    """``"auto"`` (CUDA when torch sees a GPU, else the CPU), ``"cpu"`` or ``"cuda"`` (or a
    ``torch.device``) as a ``torch.device``; asking for CUDA without a GPU is an error."""
    import torch

    if isinstance(device, torch.device):
        device = device.type if device.index is None else str(device)
    if (
        not isinstance(device, str)
        or device.split(":")[0] not in DEVICES
        or (":" in device and not device.startswith("cuda:"))
    ):
        raise ValueError(
            f"{where}: device must be one of {', '.join(DEVICES)} (or 'cuda:N'); got {device!r}"
        )
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"{where}: device {device!r} asked for, but torch sees no GPU; use 'cpu' or 'auto'"
        )
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"{where}: device must be 'cuda' or 'cuda:N' with N a GPU index, got {device!r}"
        ) from None


def model_device(model: Any):
    """The device of the model's first parameter or buffer (the CPU for a model with none)."""
    import torch

    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def model_dtype(model: Any):
    """The floating dtype of the model's first floating parameter or buffer (float32 if none)."""
    import torch

    return _floating_dtype(model) or torch.float32


def _floating_dtype(model: Any):
    for p in (*model.parameters(), *model.buffers()):
        if p.is_floating_point():
            return p.dtype
    return None


def _held_by(model: Any) -> bool:
    return any(True for _ in (*model.parameters(), *model.buffers()))


def check_model_inputs(model: Any, x: Any, *, where: str, name: str = "x") -> None:
    """Check that the tensor ``x`` suits ``model``: the dtype of its weights (float32 weights
    cannot take float64 x) and the device they are on."""
    dtype = _floating_dtype(model)
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{where}: {name} has dtype {x.dtype} but the model's weights are {dtype}; "
            f"convert it first ({name}.to({dtype}))"
        )
    if _held_by(model) and x.device != model_device(model):
        raise ValueError(
            f"{where}: {name} is on {x.device} but the model on {model_device(model)}; move one "
            f"of them ({name}.to(...) or model.to(...))"
        )


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
    import torch

    check_model(model, where=where)
    x = as_tensor(x, where=where)
    check_x(
        x,
        where=where,
        ndim=2,
        features=getattr(model, "in_features", None),
        clip=(0.0, 1.0) if pixels else None,
        values=True,
    )
    dtype = _floating_dtype(model)
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{where}: x has dtype {x.dtype} but the model's weights are {dtype}; "
            f"convert it first (x.to({dtype}))"
        )
    device = model_device(model) if device is None else device
    x = x.to(device)
    if y is None:
        return x
    k = getattr(model, "num_classes", None)
    y = as_labels(y, where=where, n=x.shape[0], num_classes=int(k) if k is not None else None)
    if classes is not None and int(torch.unique(y).numel()) < classes:
        raise ValueError(
            f"{where}: y holds {int(torch.unique(y).numel())} distinct class(es); training needs "
            f"at least {classes}"
        )
    return x, y.to(device)
