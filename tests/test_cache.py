"""advlib.cache: trained models stored by configuration, data and code version."""

from __future__ import annotations

import multiprocessing
import time
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
    """A stand-in for fit: changes the weights, returns a history, counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, model):
        self.calls += 1
        with torch.no_grad():
            model.weight.add_(1.0)
        return {"epochs": [{"epoch": 1, "loss": 0.5}], "best_epoch": None}


def _same_weights(a, b):
    return all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_cache_returns_the_stored_weights_without_training(tmp_path):
    trainer = _Trainer()
    first, history = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    again, history_again = cache.load_or_train(CONFIG, "data1", _make, trainer, folder=tmp_path)
    assert trainer.calls == 1
    assert _same_weights(first, again) and not _same_weights(again, _make())
    assert history_again == history
    assert [p.name for p in tmp_path.glob("*.pt")] == [
        f"model-{cache.model_key(CONFIG, 'data1')}.pt"
    ]
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind
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

    def train_with_curves(model):
        history = trainer(model)
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


def _worker(folder: str, log: str, out) -> None:
    def slow_train(model):
        with open(log, "a") as f:
            f.write("trained\n")
        time.sleep(1.5)  # long enough for the other process to arrive while this one trains
        return _Trainer()(model)

    model, _ = cache.load_or_train(CONFIG, "data1", _make, slow_train, folder=folder)
    out.put({k: v.tolist() for k, v in model.state_dict().items()})


def test_two_processes_asking_for_one_model_train_it_once(tmp_path):
    # Two sweep workers: one trains under the lock, the other waits and reads its file.
    log = tmp_path / "trainings.log"
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(tmp_path), str(log), out)) for _ in range(2)
    ]
    for w in workers:
        w.start()
    weights = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    assert log.read_text().splitlines() == ["trained"]
    assert weights[0] == weights[1]
    assert weights[0]["weight"] == (_make().weight + 1).tolist()
    assert {p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")} == {
        "trainings.log",
        f"model-{cache.model_key(CONFIG, 'data1')}.pt",
    }


def test_models_live_under_the_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path))
    assert cache.models_dir() == Path(tmp_path).resolve() / "models"
