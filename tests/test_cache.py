"""advlib.cache: trained models stored by configuration, data and code version."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch

from advlib import cache

CONFIG = {"model": "toy", "epochs": 3, "eps": 0.25}


def _make():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 3)


class _Trainer:
    """A stand-in for fit: changes the weights, returns a history, counts its calls and keeps
    the checkpoint paths it was given."""

    def __init__(self, shift=1.0):
        self.calls, self.checkpoints, self.shift = 0, [], shift

    def __call__(self, model, checkpoint):
        self.calls += 1
        self.checkpoints.append(checkpoint)
        with torch.no_grad():
            model.weight.add_(self.shift)
        return {"epochs": [{"epoch": 1, "loss": 0.5}], "best_epoch": None, "seconds": 0.1}


def _same_weights(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_cache_returns_the_stored_weights_without_training(tmp_path):
    trainer = _Trainer()
    first, history = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    again, history_again = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    assert trainer.calls == 1
    assert _same_weights(first, again) and not _same_weights(again, _make())
    assert history_again == history
    name = f"model-{cache.model_key(CONFIG, 'data1')}"
    assert [p.name for p in tmp_path.glob("*.pt")] == [f"{name}.pt"]
    # the training run may checkpoint beside the entry, under the same key
    assert trainer.checkpoints == [tmp_path / f"{name}.ckpt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file
    (path,) = tmp_path.glob("*.pt")
    assert path.stat().st_mode & 0o777 == 0o644  # readable by whoever builds the book


def test_a_changed_configuration_data_or_code_version_trains_again(tmp_path):
    trainer = _Trainer()
    cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    cache.load_or_train({**CONFIG, "eps": 0.1}, "data1", _make, trainer, folder=tmp_path)
    cache.load_or_train(CONFIG, "data2", _make, trainer, folder=tmp_path)
    assert trainer.calls == 3
    keys = {
        cache.model_key(CONFIG, "data1"),
        cache.model_key({**CONFIG, "eps": 0.1}, "data1"),
        cache.model_key(CONFIG, "data2"),
        cache.model_key(CONFIG, "data1", version="another"),
    }
    assert len(keys) == 4
    # key order in the configuration does not matter
    assert cache.model_key(dict(reversed(CONFIG.items())), "data1") == cache.model_key(
        CONFIG, "data1"
    )


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "other-model"])
def test_an_unreadable_cache_entry_is_retrained_with_a_warning(tmp_path, damage):
    trainer = _Trainer()
    model, _ = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    (path,) = tmp_path.glob("*.pt")
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file" * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a file of the right name holding another architecture's weights
        entry = torch.load(path, weights_only=True)
        entry["state_dict"] = torch.nn.Linear(5, 2).state_dict()
        torch.save(entry, path)
    with pytest.warns(cache.CacheWarning, match="training it again"):
        again, _ = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    assert trainer.calls == 2
    assert _same_weights(model, again)
    # and the entry is whole again: no warning, no training
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    assert trainer.calls == 2


def test_a_stored_history_the_caller_refuses_is_trained_again_and_replaced(tmp_path):
    trainer = _Trainer()

    def has_curves(history):
        return "test_error" in history["epochs"][0]

    def train_with_curves(model, checkpoint):
        history = trainer(model, checkpoint)
        history["epochs"][0]["test_error"] = 0.1
        return history

    cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    _, history = cache.load_or_train(
        CONFIG, "data1", _make, train_with_curves, folder=tmp_path, accept=has_curves
    )
    assert trainer.calls == 2 and has_curves(history)
    # the replacement serves both kinds of caller from now on
    for accept in (has_curves, None):
        _, history = cache.load_or_train(
            CONFIG, "data1", _make, trainer, folder=tmp_path, accept=accept
        )
        assert has_curves(history)
    assert trainer.calls == 2


def test_weights_that_are_not_finite_are_never_stored(tmp_path):
    model = _make()
    with torch.no_grad():
        model.weight[0, 0] = math.nan
    path = cache.model_path(CONFIG, "data1", folder=tmp_path)
    with pytest.raises(ValueError, match="refusing to store .*NaN or inf .*nothing was written"):
        cache.store(path, "key", CONFIG, model.state_dict(), {"seconds": 1.0})
    assert list(tmp_path.iterdir()) == []

    def diverging(model, checkpoint):
        with torch.no_grad():
            model.bias.fill_(math.inf)
        return {"seconds": 1.0}

    with pytest.raises(ValueError, match="refusing to store"):
        cache.load_or_train(CONFIG, "data1", _make, diverging, folder=tmp_path)
    assert list(tmp_path.glob("*.pt")) == []


def test_a_cached_entry_with_weights_that_are_not_finite_is_retrained_with_a_warning(tmp_path):
    trainer = _Trainer()
    model, _ = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    (path,) = tmp_path.glob("*.pt")
    entry = torch.load(path, weights_only=True)  # written by an older advlib, say, unchecked
    entry["state_dict"]["weight"][1, 2] = math.nan
    torch.save(entry, path)
    with pytest.warns(cache.CacheWarning, match="its weights hold NaN or inf values"):
        again, _ = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    assert trainer.calls == 2
    assert _same_weights(model, again) and torch.isfinite(again.weight).all()


def test_models_live_under_the_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path))
    assert cache.models_dir() == Path(tmp_path).resolve() / "models"
