"""Training the paper's networks, clean or adversarially (Sec. 6): the recipe and one loop.

A :class:`Recipe` is everything that decides a trained model's weights: the model, the
objective, the optimiser and its schedule, early stopping, the seed and the data set. It is
defined and validated here, once; :func:`fit` trains a model by it and :mod:`advlib.zoo`
caches the result under a hash of it.

With ``training="adversarial"`` each step minimises the paper's objective

    alpha·J(θ, x, y) + (1 − alpha)·J(θ, x + eta, y),  eta = eps·sign(∇ₓJ(θ, x, y))     (C13)

with ``eta`` regenerated against the current parameters at every step. ``fgsm_dropout="same"``
takes the FGSM direction from the clean half's own backward pass (two passes per step, the
direction under that pass's dropout mask); ``"off"`` takes it from the deterministic net (dropout
off) in a pass of its own: three passes, and the attack is the one the model is tested against.
The same loop trains the paper's baselines: ``"noise-sign"`` (eta = ±eps at random),
``"noise-uniform"`` (eta ~ U(−eps, eps)) (C21), ``"hidden"`` (FGSM on hidden layer ``layer``
instead of the input, C22), and an L1 penalty on the first layer's weights (C12).

Optimisers: Adam (lr 1e-3, constant), or the maxout paper's SGD: learning rate .1 divided by
1.000004 after every step (down to 1e-6) and momentum rising linearly from .5 to .7 over 250
epochs. ``lr_end`` instead decays the rate exponentially to ``lr_end`` at the epoch cap, and
``momentum_epochs=None`` spreads the momentum ramp over the cap: the maxout paper's schedule
scaled to a shorter budget.

Early stopping holds out ``valid`` of the training digits (stratified, seeded), keeps the epoch
with the lowest clean or FGSM validation error and, with ``retrain``, trains afresh from the same
initial weights on every training digit for that many epochs (the paper's protocol for its
1600-unit nets, C15).
"""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import os
import sys
import time
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from advlib import models
from advlib.attacks import DEFAULT_CLIP, frozen, model_loss
from advlib.checks import (
    as_model_inputs,
    check_bool,
    check_choice,
    check_clip,
    check_eps,
    check_finite_model,
    check_int,
    check_positive,
    check_seed,
    resolve_device,
)
from advlib.data import DATASETS, validation_split
from advlib.measure import monitor
from advlib.paths import write_atomic

__all__ = [
    "Recipe",
    "fit",
    "MODELS",
    "TRAININGS",
    "TRAIN_VERSION",
]

TRAIN_VERSION = "3"
"""The training code's version, which every cache key includes. Bump it when a change to this
module or to :mod:`advlib.models` changes what a given recipe trains to. 2: the recipe became
the one training configuration (numerically the same loop as 1). 3: training at the hardware's
floor (fused optimisers, dropout masks from uniform draws, piece-major maxout, the two halves of
a 3-pass or noise objective as one batch): same objective and schedule, another random stream."""

MODELS = ("softmax", "maxout", "maxout-sigmoid", "rbf")
TRAININGS = ("clean", "adversarial", "noise-sign", "noise-uniform", "hidden")
FGSM_DROPOUT = ("same", "off")
OPTIMIZERS = ("adam", "sgd")
EARLY_STOPPING = (None, "clean", "adversarial")
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.1}
CHECKPOINT_SECONDS = 2.0
"""Least seconds of training between two checkpoints of a run (see :func:`fit`)."""
SGD_DECAY, SGD_MIN_LR = 1.000004, 1e-6  # the maxout paper's per-step decay and its floor


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a trained model's weights (the cache key hashes it), and
    ``curves``, which only adds logging.

    The model: ``model`` ("softmax" | "maxout" | "maxout-sigmoid" | "rbf"); ``width``,
    ``pieces``, ``dropout`` (input, hidden drop probabilities) and ``max_norm``: the maxout
    net's shape (ignored by the others).

    The objective: ``training`` ("clean" | "adversarial" | "noise-sign" | "noise-uniform" |
    "hidden"); ``eps`` and ``alpha`` of the perturbed objective; ``fgsm_dropout`` ("same": 2
    passes per step, "off": 3); ``layer`` (1 or 2) for "hidden"; ``clip``: the range x + eta is
    clipped to (None, the default: unclipped, as the paper trained); ``l1``: coefficient of
    Σ|W| over the first layer's weights (C12: .0025).

    The optimiser: ``optimizer`` ("adam" | "sgd"), ``lr`` (None: 1e-3 for Adam, .1 for SGD),
    ``lr_end`` (None: Adam constant, SGD the maxout paper's per-step decay; a number: the rate
    decays exponentially to it at the epoch cap), ``momentum`` (SGD: first, last) rising
    linearly over ``momentum_epochs`` (None: the epoch cap), ``epochs`` (the epoch cap),
    ``batch_size``.

    Early stopping: ``early_stopping`` (None | "clean" | "adversarial") on ``valid`` of the
    training digits (a fraction in (0, 1) or a count), FGSM at ``valid_eps`` for the
    adversarial error; stop after ``patience`` epochs without improvement (None: run the cap);
    ``retrain``: then train afresh on all training digits for the chosen number of epochs.

    ``curves``: also log test error (clean and FGSM at ``valid_eps``) every epoch, for plots.
    ``seed``: initial weights, batch order, dropout and noise. ``dataset``: a name in
    :data:`advlib.data.DATASETS`.
    """

    model: str = "maxout"
    width: int = 240
    pieces: int = 5
    dropout: tuple[float, float] = (0.2, 0.5)
    max_norm: float | None = models.MAX_NORM
    training: str = "clean"
    eps: float = 0.25
    alpha: float = 0.5
    fgsm_dropout: str = "same"
    layer: int = 1
    clip: tuple[float, float] | None = DEFAULT_CLIP
    l1: float = 0.0
    optimizer: str = "adam"
    lr: float | None = None
    lr_end: float | None = None
    momentum: tuple[float, float] = (0.5, 0.7)
    momentum_epochs: int | None = 250
    epochs: int = 50
    batch_size: int = 100
    early_stopping: str | None = None
    valid: float | int = 0.1
    valid_eps: float = 0.25
    patience: int | None = None
    retrain: bool = False
    curves: bool = False
    seed: int = 0
    dataset: str = "mnist-embedded"

    def __post_init__(self) -> None:
        where = "Recipe"
        check_choice(self.model, where=where, name="model", allowed=MODELS)
        check_choice(self.training, where=where, name="training", allowed=TRAININGS)
        check_choice(self.fgsm_dropout, where=where, name="fgsm_dropout", allowed=FGSM_DROPOUT)
        check_choice(self.optimizer, where=where, name="optimizer", allowed=OPTIMIZERS)
        check_choice(
            self.early_stopping, where=where, name="early_stopping", allowed=EARLY_STOPPING
        )
        check_choice(self.dataset, where=where, name="dataset", allowed=DATASETS)
        for name in ("width", "pieces", "epochs", "batch_size"):
            check_int(getattr(self, name), where=where, name=name, low=1)
        for name in ("patience", "momentum_epochs"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), where=where, name=name, low=1)
        check_seed(self.seed, where=where)
        for name in ("eps", "valid_eps", "l1"):  # one number each: a recipe is hashed as JSON
            check_eps(getattr(self, name), where=where, name=name, scalar=True)
        for name in ("lr", "lr_end"):
            if getattr(self, name) is not None:
                check_positive(getattr(self, name), where=where, name=name)
        if self.max_norm is not None:
            check_positive(self.max_norm, where=where, name="max_norm")
        if isinstance(self.alpha, bool) or not (
            isinstance(self.alpha, Real) and 0 < self.alpha < 1
        ):
            raise ValueError(
                f"{where}: alpha must be a number in (0, 1) (the paper: .5), got {self.alpha!r}"
            )
        if not isinstance(self.retrain, bool) or not isinstance(self.curves, bool):
            raise TypeError(f"{where}: retrain and curves must be True or False")
        _check_pair(self.dropout, where, "dropout", lambda p: 0 <= p < 1, "in [0, 1)")
        _check_pair(self.momentum, where, "momentum", lambda m: 0 <= m < 1, "in [0, 1)")
        object.__setattr__(self, "clip", check_clip(self.clip, where=where))
        # Tuples, not lists, so that recipes hash and compare as values.
        object.__setattr__(self, "dropout", tuple(float(p) for p in self.dropout))
        object.__setattr__(self, "momentum", tuple(float(m) for m in self.momentum))
        _check_valid(self.valid, where)
        check_choice(self.layer, where=where, name="layer", allowed=(1, 2))
        if self.patience is not None and not self.early_stopping:
            raise ValueError(
                f"{where}: patience={self.patience!r} needs early_stopping "
                "('clean' or 'adversarial'); without it every epoch runs"
            )
        if self.training == "hidden":
            if self.clip is not None:
                raise ValueError(f"{where}: clip applies to input perturbations, not 'hidden'")
        if self.model not in ("maxout", "maxout-sigmoid") and (
            self.training == "hidden" or self.l1
        ):
            raise ValueError(
                f"{where}: training='hidden' and l1 are only for the maxout models ('maxout', "
                f"'maxout-sigmoid'), got model={self.model!r}"
            )
        if self.retrain and not self.early_stopping:
            raise ValueError(
                f"{where}: retrain=True needs early_stopping to choose the number of epochs"
            )

    # -- what the recipe decides ------------------------------------------------------------

    @property
    def adversarial(self) -> bool:
        """True when the objective has a perturbed half (every training but "clean")."""
        return self.training != "clean"

    @property
    def passes_per_step(self) -> int:
        """The number of forward and backward passes per step (1 clean, 3 for FGSM with dropout
        off, else 2)."""
        if not self.adversarial:
            return 1
        fgsm_off = self.training in ("adversarial", "hidden") and self.fgsm_dropout == "off"
        return 3 if fgsm_off else 2

    def config(self) -> dict:
        """The recipe as a JSON-able dict: what the cache key hashes. ``curves`` only adds
        logging (the weights are the same either way), so it is hashed as False: a model
        trained with curves serves the same recipe without them."""
        return {**dataclasses.asdict(self), "curves": False}

    def replace(self, **fields: Any) -> Recipe:
        """A copy with ``fields`` changed, validated again."""
        return dataclasses.replace(self, **fields)

    def build(self) -> torch.nn.Module:
        """The untrained model, its weights drawn from ``seed`` (the global RNG is untouched)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            if self.model == "softmax":
                return models.softmax_regression()
            if self.model == "rbf":
                return models.rbf_network()
            return models.maxout_mlp(
                self.width,
                self.pieces,
                self.dropout,
                self.max_norm,
                output="sigmoid" if self.model == "maxout-sigmoid" else "softmax",
            )

    def describe(self) -> str:
        """One sentence of what trains: optimiser, schedule, epochs, early stopping."""
        lr = self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]
        if self.optimizer == "adam":
            opt = f"Adam (lr {lr:g}" + (f" decaying to {self.lr_end:g})" if self.lr_end else ")")
        else:
            decay = (
                f"decaying to {self.lr_end:g} at the cap"
                if self.lr_end
                else f"divided by {SGD_DECAY} per step"
            )
            ramp = self.momentum_epochs or self.epochs
            opt = (
                f"SGD (lr {lr:g} {decay}, momentum {self.momentum[0]:g} → "
                f"{self.momentum[1]:g} over {ramp} epochs)"
            )
        text = f"{opt}, batch {self.batch_size}, "
        if self.early_stopping:
            text += (
                f"at most {self.epochs} epochs with early stopping on {self.early_stopping} "
                f"validation error ({_valid_words(self.valid)} held out)"
            )
            text += ", then retrained on every training digit" if self.retrain else ""
        else:
            text += f"{self.epochs} epochs"
        return text


def _valid_words(valid: float | int) -> str:
    return f"{valid:,}" if isinstance(valid, Integral) else f"{valid:.0%}"


def _check_pair(value, where, name, ok, allowed):
    try:
        first, second = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a pair of numbers, got {value!r}") from None
    if not (ok(first) and ok(second)):
        raise ValueError(f"{where}: {name} values must lie {allowed}, got {value!r}")


def _check_valid(valid, where):
    if isinstance(valid, bool) or not isinstance(valid, Real):
        raise TypeError(
            f"{where}: valid must be a fraction in (0, 1) or a count >= 1, got {valid!r}"
        )
    if isinstance(valid, Integral):
        if valid < 1:
            raise ValueError(f"{where}: valid as a count must be >= 1, got {valid!r}")
    elif not 0 < valid < 1:
        raise ValueError(f"{where}: valid as a fraction must lie in (0, 1), got {valid!r}")


# --------------------------------------------------------------------------------------------
# The training loop


def fit(
    model: torch.nn.Module,
    x: Any,
    y: Any,
    recipe: Recipe,
    *,
    test: tuple | None = None,
    device: str = "auto",
    progress: bool | None = None,
    checkpoint: str | Path | None = None,
) -> dict:
    """Train ``model`` in place by ``recipe`` on ``x`` float32 (n, 784) in [0, 1] and ``y``
    int64 (n,) in 0..9.

    test: (x, y) logged every epoch (clean and FGSM error), for curves only.

    device: "auto" (CUDA when available, else the CPU), "cpu" or "cuda"; the model ends on the
    CPU. progress: a tqdm bar of epoch, loss and validation error (default: on a terminal).

    checkpoint: a file that holds the run's state after every epoch (at most one write per
    :data:`CHECKPOINT_SECONDS`, atomically); when it holds this recipe's run at the start, the
    run resumes from it and ends exactly as an uninterrupted run would, given the same initial
    model. It is removed when training ends.

    Seeded: the same call gives bit-identical weights on the same machine, device and thread
    count. The model's initial weights come from the caller; the global torch RNG is left as it
    was. Returns a JSON-able dict: ``epochs`` (one row per epoch: phase ("fit" or "retrain"),
    epoch, loss, seconds of training (logging aside), ``valid_``/``test_`` ``error`` and
    ``adv_error`` where logged), ``best_epoch``, ``passes_per_step``, ``device``, ``seconds``.
    """
    where = "fit"
    if not isinstance(recipe, Recipe):
        raise TypeError(
            f"{where}: recipe must be an advlib.train.Recipe, got {type(recipe).__name__}"
        )
    _check_model_fits(model, recipe, where)
    check_finite_model(model, where=where)
    x, y = as_model_inputs(model, x, y, where=where, pixels=True, classes=2, device="cpu")
    dev = resolve_device(device, where=where)
    if progress is not None:
        check_bool(progress, where=where, name="progress (or None)")
    if checkpoint is not None:
        _check_checkpoint(checkpoint, where)
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")

    x_fit, y_fit, monitored = x, y, {}
    if recipe.early_stopping:
        xf, yf, xv, yv = validation_split(x.numpy(), y.numpy(), recipe.valid, seed=recipe.seed)
        x_fit, y_fit = torch.from_numpy(xf), torch.from_numpy(yf)
        monitored["valid"] = (torch.from_numpy(xv), torch.from_numpy(yv))
    if test is not None:
        monitored["test"] = as_model_inputs(model, *_pair(test, "test", where), where=where)

    run = _Run(model, recipe, dev, progress, checkpoint, logs=sorted(monitored))
    run.start()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        run.phase("fit", x_fit, y_fit, recipe.epochs, monitored)
        if recipe.retrain:
            # Afresh, from the same initial weights, on every training digit (C15).
            x_all = torch.cat([x_fit, monitored["valid"][0]])
            y_all = torch.cat([y_fit, monitored["valid"][1]])
            rest = {k: v for k, v in monitored.items() if k != "valid"}
            run.phase("retrain", x_all, y_all, run.history["best_epoch"], rest)
    return run.finish()


class _Run:
    """One call of :func:`fit`: the model, its optimiser and generators, the history, and the
    checkpoint that lets an interrupted run go on where it stopped."""

    def __init__(self, model, recipe, device, progress, checkpoint, logs):
        self.model, self.recipe, self.device, self.progress = model, recipe, device, progress
        self.logs = logs  # the sets logged every epoch: a checkpoint of other logs is not ours
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.history = {
            "epochs": [],
            "best_epoch": None,
            "passes_per_step": recipe.passes_per_step,
            "device": device.type,
            "seconds": 0.0,
        }
        self.resume = None

    def start(self):
        self.model.to(self.device)
        # The caller's model holds the initial weights, on a resumed call as on the first one.
        self.initial = copy.deepcopy(self.model.state_dict())
        self.saved_at = time.perf_counter()
        self.resume = _read_checkpoint(self.checkpoint, self.recipe, self.logs, self.device)
        if self.resume is not None:
            self.history = self.resume["history"]

    def phase(self, name, x, y, epochs, monitored):
        """Train for up to ``epochs`` epochs; under early stopping in the "fit" phase, end with
        the best epoch's weights."""
        r, model = self.recipe, self.model
        stop_on = r.early_stopping if name == "fit" else None
        done = [row for row in self.history["epochs"] if row["phase"] == name]
        if self.resume is not None and self.resume["phase"] != name:
            return  # resuming a later phase: this one is over
        if name == "retrain" and not done:
            model.load_state_dict(self.initial)
        torch.manual_seed(r.seed)  # dropout masks
        order = np.random.default_rng(r.seed)  # minibatch order
        noise = torch.Generator(device=self.device).manual_seed(r.seed)  # noise perturbations
        opt = _optimizer(model, r)
        best, stopped = (math.inf, None), False
        if self.resume is not None:  # the checkpoint of this phase
            state, self.resume = self.resume, None
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            _set_rng(state["rng"], order, noise, self.device)
            best, stopped = (state["best_error"], state["best"]), state["stopped"]
        x, y = x.to(self.device), y.to(self.device)
        monitored = {
            k: (xm.to(self.device), ym.to(self.device)) for k, (xm, ym) in monitored.items()
        }
        steps = math.ceil(len(x) / r.batch_size)
        bar = tqdm(
            range(len(done) + 1, 1 if stopped else epochs + 1),
            desc=name,
            disable=not self.progress,
            leave=False,
            unit="epoch",
        )
        for epoch in bar:
            tic = time.perf_counter()
            _set_momentum(opt, r, epoch)
            model.train()
            # One gather per epoch into contiguous tensors; every minibatch is then a view.
            perm = torch.from_numpy(order.permutation(len(x))).to(self.device)
            xs, ys = x[perm], y[perm]
            total, start = 0.0, 0
            for i, size in enumerate(_batch_sizes(len(x), steps)):
                _set_lr(opt, r, epoch, i, steps)
                rows = slice(start, start + size)
                total += _step(model, opt, xs[rows], ys[rows], noise, r) * size
                start += size
            row = {
                "phase": name,
                "epoch": epoch,
                "loss": total / len(x),
                "seconds": time.perf_counter() - tic,
            }
            tic = time.perf_counter()
            for set_name, (xm, ym) in monitored.items():
                row.update(monitor(model, xm, ym, r.valid_eps, clip=r.clip, prefix=set_name))
            if monitored:
                row["monitor_seconds"] = time.perf_counter() - tic
            self.history["epochs"].append(row)
            bar.set_postfix(
                {
                    k: round(v, 4) if isinstance(v, float) else v
                    for k, v in row.items()
                    if k in ("epoch", "loss") or k.startswith("valid")
                }
            )
            if stop_on:
                error = row["valid_error" if stop_on == "clean" else "valid_adv_error"]
                if error < best[0]:
                    best = (error, (epoch, copy.deepcopy(model.state_dict())))
                elif best[1] is not None and r.patience is not None:
                    stopped = epoch - best[1][0] >= r.patience
            self._save(name, opt, order, noise, best, stopped)
            if stopped:
                break
        if stop_on:
            self.history["best_epoch"], state = best[1]
            model.load_state_dict(state)

    def _save(self, phase, opt, order, noise, best, stopped):
        """Checkpoint the run after an epoch: always when it stopped early, else when
        :data:`CHECKPOINT_SECONDS` have passed since the last one (every epoch at paper scale;
        at the quick scale an epoch takes a fraction of a second and writes would dominate)."""
        if self.checkpoint is None:
            return
        if not stopped and time.perf_counter() - self.saved_at < CHECKPOINT_SECONDS:
            return
        state = {
            "recipe": self.recipe.config(),
            "logs": self.logs,
            "phase": phase,
            "history": self.history,
            "model": self.model.state_dict(),
            "optimizer": opt.state_dict(),
            "best_error": best[0],
            "best": best[1],
            "stopped": stopped,
            "rng": _get_rng(order, noise, self.device),
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        write_atomic(self.checkpoint, buffer.getvalue())
        self.saved_at = time.perf_counter()

    def finish(self):
        rows = self.history["epochs"]
        self.history["seconds"] = sum(r["seconds"] + r.get("monitor_seconds", 0.0) for r in rows)
        self.model.eval().to("cpu")
        if self.checkpoint is not None:
            self.checkpoint.unlink(missing_ok=True)
        return self.history


def _batch_sizes(n: int, steps: int) -> list[int]:
    """Sizes of ``steps`` minibatches covering n rows, as ``np.array_split`` cuts them."""
    return [len(part) for part in np.array_split(np.empty(n, dtype=np.int8), steps)]


def _read_checkpoint(
    path: Path | None, recipe: Recipe, logs: list[str], device: torch.device
) -> dict | None:
    """The saved state of an interrupted run of ``recipe`` that logged the same sets (``logs``)
    on the same kind of device, or None (no file, unreadable, another run's: those are ignored
    and overwritten at the next epoch)."""
    if path is None or not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001  (a torn or foreign file: start afresh)
        return None
    same = (
        isinstance(state, dict)
        and state.get("recipe") == recipe.config()
        and state.get("logs") == logs
        and state.get("history", {}).get("device") == device.type
    )
    return state if same else None


def _get_rng(order, noise, device):
    rng = {
        "torch": torch.get_rng_state(),
        "order": order.bit_generator.state,
        "noise": noise.get_state(),
    }
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def _set_rng(rng, order, noise, device):
    torch.set_rng_state(rng["torch"])
    order.bit_generator.state = rng["order"]
    noise.set_state(rng["noise"])
    if device.type == "cuda":
        torch.cuda.set_rng_state(rng["cuda"], device)


def _step(model, opt, x, y, noise, r: Recipe) -> float:
    """One optimiser step on a minibatch; returns the objective's value."""
    opt.zero_grad(set_to_none=True)
    penalty = r.l1 * model.first_layer.weight.abs().sum() if r.l1 else 0.0

    if not r.adversarial:  # clean training: J(θ, x, y)
        loss = _objective(model, model(x), y)
        (loss + penalty).backward()
        _update(model, opt, r)
        return float(loss.detach())

    alpha = r.alpha
    layer = r.layer if r.training == "hidden" else 0
    if r.passes_per_step == 2 and r.training in ("adversarial", "hidden"):
        return _step_same_mask(model, opt, x, y, layer, penalty, r)

    # The perturbation is known before the clean half: the FGSM direction from the net with
    # dropout off (a pass of its own), or noise. Then both halves are one batch of 2n rows, each
    # row with its own dropout mask, and one forward and backward serve both.
    if r.training in ("adversarial", "hidden"):
        eta = r.eps * _eval_gradient(model, x, y, layer).sign()
    else:
        h_shape = _features(model, x[:1], layer).shape[1:]
        eta = r.eps * _noise((len(x), *h_shape), r.training, noise, x)
    n = len(x)
    if layer == 0:
        x_adv = x + eta
        if r.clip is not None:
            x_adv = x_adv.clamp(*r.clip)
        scores = model(torch.cat([x, x_adv]))
    else:
        h = _features(model, torch.cat([x, x]), layer)
        scores = model.forward_from(layer, h + torch.cat([torch.zeros_like(eta), eta]))
    clean, adv = _objective(model, scores[:n], y), _objective(model, scores[n:], y)
    (alpha * clean + (1 - alpha) * adv + penalty).backward()
    _update(model, opt, r)
    return float(alpha * clean.detach() + (1 - alpha) * adv.detach())


def _step_same_mask(model, opt, x, y, layer, penalty, r: Recipe) -> float:
    """FGSM training with the direction under the clean half's dropout mask: the clean half's
    backward gives the parameter gradients and ∇_h J at the perturbed layer together, then the
    adversarial half is a pass of its own (two passes per step)."""
    h = _features(model, x.requires_grad_(layer == 0), layer)
    if layer:
        h.retain_grad()
    clean = _objective(model, _forward_from(model, h, layer), y)
    (r.alpha * clean + penalty).backward()
    eta = r.eps * h.grad.sign()
    # Adversarial half: a fresh forward (new dropout mask) from the perturbed representation.
    if layer == 0:
        x_adv = x.detach() + eta
        if r.clip is not None:
            x_adv = x_adv.clamp(*r.clip)
        scores = model(x_adv)
    else:
        scores = model.forward_from(layer, model.features(x, layer) + eta)
    adv = _objective(model, scores, y)
    ((1 - r.alpha) * adv).backward()
    _update(model, opt, r)
    return float(r.alpha * clean.detach() + (1 - r.alpha) * adv.detach())


def _noise(shape, kind, generator, like):
    """±1 at random ("noise-sign") or U(−1, 1) ("noise-uniform"), of ``shape``, like ``like``."""
    if kind == "noise-sign":
        bits = torch.randint(0, 2, shape, generator=generator, dtype=like.dtype, device=like.device)
        return bits * 2 - 1
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device) * 2 - 1


def _objective(model, scores, y):
    """J used for training: the model's ``train_loss`` if it has one (RBF), else its loss."""
    train_loss = getattr(model, "train_loss", None)
    return train_loss(scores, y) if train_loss is not None else model_loss(model, scores, y)


def _features(model, x, layer):
    return x if layer == 0 else model.features(x, layer)


def _forward_from(model, h, layer):
    return model(h) if layer == 0 else model.forward_from(layer, h)


def _eval_gradient(model, x, y, layer):
    """∇_h J at ``layer`` with dropout off (one forward and backward, no parameter gradients)."""
    with frozen(model):
        h = _features(model, x, layer).detach().requires_grad_(True)
        loss = _objective(model, _forward_from(model, h, layer), y)
        (grad,) = torch.autograd.grad(loss, h)
    return grad


def _update(model, opt, r: Recipe):
    opt.step()
    constrain = getattr(model, "apply_constraints", None)
    if constrain is not None:
        constrain()
    if r.optimizer == "sgd" and r.lr_end is None:  # the maxout paper's per-step decay
        for group in opt.param_groups:
            group["lr"] = max(group["lr"] / SGD_DECAY, SGD_MIN_LR)


def _optimizer(model, r: Recipe):
    # fused: one kernel per step for all parameters (torch's default for-each Adam costs as
    # much as the step's matrix products on the CPU; fused is four times faster)
    lr = r.lr if r.lr is not None else DEFAULT_LR[r.optimizer]
    if r.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=r.momentum[0], fused=True)


def _set_lr(opt, r: Recipe, epoch: int, step: int, steps: int) -> None:
    """With ``lr_end``: lr·(lr_end/lr)^t at progress t in (0, 1] through the epoch cap, the
    same in epochs whatever the number of steps per epoch (so a retrain follows the schedule
    its epochs were chosen under)."""
    if r.lr_end is None:
        return
    lr = r.lr if r.lr is not None else DEFAULT_LR[r.optimizer]
    t = (epoch - 1 + step / steps) / r.epochs
    for group in opt.param_groups:
        group["lr"] = lr * (r.lr_end / lr) ** t


def _set_momentum(opt, r: Recipe, epoch: int) -> None:
    # The maxout paper's MomentumAdjustor: .5 at epoch 1 rising linearly to .7 at epoch 250
    # (or over the epoch cap, with momentum_epochs=None).
    if r.optimizer != "sgd":
        return
    span = (r.momentum_epochs or r.epochs) - 1
    first, last = r.momentum
    rise = round(last - first, 12)  # .7 − .5 is .19999999999999996 in binary; the paper's .2
    for group in opt.param_groups:
        group["momentum"] = first + rise * min(epoch - 1, span) / span if span else last


def _check_model_fits(model, recipe: Recipe, where: str) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{where}: model must be a torch.nn.Module, got {type(model).__name__}")
    if recipe.training == "hidden" and recipe.layer > getattr(model, "hidden_layers", 0):
        raise ValueError(
            f"{where}: layer={recipe.layer} is not a hidden layer of {type(model).__name__}: "
            "'hidden' training needs a model with features/forward_from (maxout)"
        )
    if recipe.l1 and not hasattr(model, "first_layer"):
        raise ValueError(
            f"{where}: l1 needs a model with a first_layer; {type(model).__name__} has none"
        )


def _check_checkpoint(checkpoint, where):
    """A checkpoint path that can be written: a str or os.PathLike, not a folder, below no
    file (checked before the first epoch, not after it)."""
    if isinstance(checkpoint, bool) or not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(
            f"{where}: checkpoint must be None or a file path (str or os.PathLike), "
            f"got {type(checkpoint).__name__}"
        )
    path = Path(checkpoint)
    if path.is_dir():
        raise ValueError(f"{where}: checkpoint {path} is a folder; it must be a file path")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(
                    f"{where}: checkpoint {path} lies under {parent}, which is a "
                    "file; it must be a path inside a folder"
                )
            break


def _pair(data, name, where):
    try:
        xs, ys = data
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: {name} must be a pair (x, y), got {type(data).__name__}"
        ) from None
    return xs, ys
