"""Trained models on disk, keyed by everything that decides their weights.

A model is stored as ``<cache>/models/<name>-<key>.pt`` (see :func:`advlib.paths.cache_dir`),
where ``key`` hashes its configuration, the identity of its training data
(:func:`advlib.data.dataset_id`) and the training code's version
(:data:`advlib.train.TRAIN_VERSION`). The file holds the state dict (CPU tensors, whatever
device trained it) and the training history (JSON), read back with
``torch.load(weights_only=True)``. While a model trains, ``<name>-<key>.ckpt`` holds its last
finished epoch, so an interrupted run resumes there.

Two processes that ask for the same key (two sweep workers) train it once: training happens
under a per-key file lock, and the file is written under a temporary name and renamed, so no
reader ever sees half a file; a writer killed mid-write leaves a temporary file that the next
``load_or_train`` of that key removes. A corrupt or unreadable entry, or one whose weights are
not all finite, is retrained with a warning.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from filelock import FileLock

from advlib.paths import cache_dir, remove_stale_temporaries, write_atomic
from advlib.train import TRAIN_VERSION

__all__ = ["CacheWarning", "models_dir", "model_key", "model_path", "load_or_train", "store"]


class CacheWarning(UserWarning):
    """A cached model could not be read (or was not finite) and is being trained again."""


def models_dir() -> Path:
    """``<cache>/models``: where trained models live."""
    return cache_dir() / "models"


def model_key(config: dict, data_id: str, version: str = TRAIN_VERSION) -> str:
    """A 20-hex-digit hash of ``config`` (JSON-able), the data's identity and the code version."""
    _check_key_parts(config, data_id, "model_key")
    text = json.dumps({"config": config, "data": data_id, "version": version}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def model_path(
    config: dict, data_id: str, *, name: str = "model", folder: str | Path | None = None
) -> Path:
    """Where the model of ``config`` trained on ``data_id`` is (or will be) stored."""
    where = "model_path"
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise ValueError(
            f"{where}: name must be a non-empty file-name prefix of letters, digits, "
            f"'.', '_' and '-' (no '/'), got {name!r}"
        )
    if folder is not None:
        if isinstance(folder, bool) or not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"{where}: folder must be None or a path, got {type(folder).__name__}")
        if Path(folder).exists() and not Path(folder).is_dir():
            raise ValueError(f"{where}: folder {folder} is a file; it must be a folder")
    folder = Path(folder) if folder is not None else models_dir()
    return folder / f"{name}-{model_key(config, data_id)}.pt"


_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _check_key_parts(config, data_id, where) -> None:
    if not isinstance(config, dict):
        raise TypeError(f"{where}: config must be a JSON-able dict, got {type(config).__name__}")
    try:
        json.dumps(config, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{where}: config must be JSON-able (numbers, strings, lists, dicts): {exc}"
        ) from None
    if not (isinstance(data_id, str) and data_id):
        raise TypeError(
            f"{where}: data_id must be a non-empty string (advlib.data.dataset_id), got {data_id!r}"
        )


def load_or_train(
    config: dict,
    data_id: str,
    make: Callable[[], torch.nn.Module],
    train: Callable[[torch.nn.Module, Path], dict],
    *,
    name: str = "model",
    folder: str | Path | None = None,
    accept: Callable[[dict], bool] | None = None,
) -> tuple[torch.nn.Module, dict]:
    """The model of ``config`` trained on data ``data_id``: from the cache, or trained and stored.

    make: builds the untrained model (deterministically: the same weights on every call).

    train: ``train(model, checkpoint)`` trains it in place and returns its JSON-able history;
      ``checkpoint`` is the path where it may keep the state of an unfinished run.

    name: a readable prefix for the file name. folder: default :func:`models_dir`.

    accept: whether a stored history will do (e.g. it must hold test curves); a stored entry it
      refuses is trained again and replaced.

    Returns ``(model, history)``, the model on the CPU.
    """
    where = "load_or_train"
    for arg, value in (("make", make), ("train", train)):
        if not callable(value):
            raise TypeError(f"{where}: {arg} must be a function, got {type(value).__name__}")
    if accept is not None and not callable(accept):
        raise TypeError(
            f"{where}: accept must be None or a function of the history, got "
            f"{type(accept).__name__}"
        )
    path = model_path(config, data_id, name=name, folder=folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    for written in (path, path.with_suffix(".ckpt")):  # what a killed writer left half-written
        remove_stale_temporaries(path.parent, written.name)
    key = path.stem.rsplit("-", 1)[-1]
    model = make()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"{where}: make() must return a torch.nn.Module, got {type(model).__name__}"
        )
    if path.exists():  # the common case needs no lock
        history = _load(path, model, key, warn=False)
        if history is not None and (accept is None or accept(history)):
            return model, history
    with FileLock(str(path) + ".lock"):
        # Another process may have trained it while this one waited for the lock.
        if path.exists():
            history = _load(path, model, key, warn=True)
            if history is not None and (accept is None or accept(history)):
                return model, history
            model = make()  # a failed or refused load has filled some of the weights
        history = train(model, path.with_suffix(".ckpt"))
        if not isinstance(history, dict):
            raise TypeError(
                f"{where}: train(model, checkpoint) must return the history, a dict; "
                f"got {type(history).__name__} (nothing was stored)"
            )
        store(path, key, config, model.state_dict(), history)
    return model, history


def store(path: Path, key: str, config: dict, state_dict: dict, history: dict) -> None:
    """Write one cache entry atomically: CPU copies of the weights, the config, the history."""
    if not (
        isinstance(state_dict, dict)
        and all(isinstance(v, torch.Tensor) for v in state_dict.values())
    ):
        raise TypeError(
            f"store: state_dict must be a dict of name → tensor (model.state_dict()), "
            f"got {type(state_dict).__name__}"
        )
    _check_key_parts(config, key, "store")
    try:
        json.dumps(history)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"store: history must be JSON-able (numbers, strings, lists, dicts): "
            f"{exc}; nothing was written"
        ) from None
    if not _finite(state_dict):
        raise ValueError(
            f"cache: refusing to store {path.name}: its weights hold NaN or inf values "
            "(the training diverged); a stored model must be finite, nothing was written"
        )
    entry = {
        "key": key,
        "config": json.dumps(config, sort_keys=True),
        "state_dict": {k: v.detach().cpu() for k, v in state_dict.items()},
        "history": json.dumps(history),
    }
    buffer = io.BytesIO()
    torch.save(entry, buffer)
    write_atomic(path, buffer.getvalue())


def _finite(state_dict: dict) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in state_dict.values() if v.is_floating_point())


def _load(path: Path, model: torch.nn.Module, key: str, *, warn: bool) -> dict | None:
    """Fill ``model`` from ``path`` and return the history; None (and a warning) when the entry
    is unreadable, another key's, or holds weights that are not finite."""
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True)
        if entry["key"] != key:
            raise ValueError(f"it holds key {entry['key']}, not {key}")
        if not _finite(entry["state_dict"]):
            raise ValueError("its weights hold NaN or inf values")
        model.load_state_dict(entry["state_dict"])
        history = json.loads(entry["history"])
        if not isinstance(history, dict) or not math.isfinite(float(history.get("seconds", 0))):
            raise ValueError("its history is not a training history")
        return history
    except Exception as exc:  # noqa: BLE001  (truncated zip, bad pickle, wrong tensors alike)
        if warn:
            warnings.warn(
                f"cached model {path} is unusable ({type(exc).__name__}: {exc}); training it again",
                CacheWarning,
                stacklevel=3,
            )
        return None
