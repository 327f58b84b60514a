"""The paper's linear-model math in closed form, on NumPy or CuPy arrays (array-API style).

The namespace follows the input arrays (``array_api_compat.array_namespace``): pass CuPy
arrays and the same code runs on the GPU; CuPy is never required. :func:`backend` picks CuPy
when it is installed and a GPU is present, else NumPy.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace

from advlib.checks import check_eps, check_x

__all__ = [
    "backend",
    "backend_name",
    "to_numpy",
    "sign_perturbation",
    "activation_change",
    "quantize_8bit",
]

BACKENDS = ("auto", "numpy", "cupy")


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
            raise ValueError("backend: 'cupy' needs CuPy installed and a visible GPU; neither "
                             "is available here (use 'numpy' or 'auto')")
        return np
    return cupy


def backend_name(xp: ModuleType) -> str:
    """``"cupy"`` or ``"numpy"`` for an array module or array-API namespace."""
    return "cupy" if is_cupy_namespace(xp) or getattr(xp, "__name__", "") == "cupy" else "numpy"


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (for charts and tables)."""
    if hasattr(a, "get"):
        return a.get()
    return np.asarray(a)


# --------------------------------------------------------------------------------------------
# Sec. 3: the linear explanation


def sign_perturbation(w: Any, eps: float) -> Any:
    """η = eps·sign(w), the max-norm-eps perturbation that most increases wᵀx; shape of ``w``."""
    eps = check_eps(eps, where="sign_perturbation")
    xp = array_namespace(w)
    return eps * xp.sign(w)


def activation_change(w: Any, eps: float) -> Any:
    """wᵀη for η = eps·sign(w): exactly eps·‖w‖₁, a scalar (or (k,) for w of shape (d, k))."""
    eps = check_eps(eps, where="activation_change")
    xp = array_namespace(w)
    return eps * xp.sum(xp.abs(w), axis=0)


def quantize_8bit(x: Any) -> Any:
    """Store ``x`` in [0, 1] as an 8-bit image and read it back: round(255·x)/255, clipped."""
    check_x(x, where="quantize_8bit", clip=None)
    xp = array_namespace(x)
    return xp.round(xp.clip(x, 0.0, 1.0) * 255.0) / 255.0
