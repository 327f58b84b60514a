"""The book's trained models, by recipe: how chapters get a model (they never call ``fit``).

A :class:`Recipe` is the whole configuration of one trained model; :func:`trained` returns it
from the model cache (:mod:`advlib.cache`) or trains it there first. :func:`recipe` builds the
recipes the book uses by name from :data:`CATALOGUE`, whose epochs are chosen so that every
model of the book trains cold within the CI budget on two CPU cores.

    model, history = trained(recipe("maxout-adversarial", seed=1))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from advlib import models
from advlib.cache import load_or_train
from advlib.checks import check_choice
from advlib.data import DATASETS, dataset_id, load_dataset
from advlib.train import EARLY_STOPPING, FGSM_DROPOUT, OPTIMIZERS, fit

__all__ = ["Recipe", "MODELS", "TRAININGS", "CATALOGUE", "recipe", "trained", "trained_ensemble"]

MODELS = ("softmax", "maxout", "maxout-sigmoid", "rbf")
TRAININGS = ("clean", "adversarial", "noise-sign", "noise-uniform", "hidden")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a trained model's weights (the cache key), and ``curves``.

    model: "softmax" | "maxout" | "maxout-sigmoid" | "rbf"; width, pieces, dropout
      (input, hidden), max_norm: the maxout net's shape (ignored by the others).

    training: "clean" | "adversarial" (input FGSM) | "noise-sign" | "noise-uniform" |
      "hidden" (FGSM on maxout hidden layer ``layer``, 1 or 2); eps, alpha, fgsm_dropout
      ("same": 2 passes, "off": 3), clip: as in :func:`advlib.train.fit`.

    l1: first-layer L1 coefficient. optimizer, lr (None: the optimiser's default), epochs,
      batch_size. early_stopping (None | "clean" | "adversarial") on ``valid_fraction`` of the
      training data, patience, retrain (on all training data for the chosen epochs).

    curves: also log test error (clean and FGSM at .25) every epoch, for plots.

    seed: initial weights, batch order, dropout and noise. dataset: a name in
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
    clip: tuple[float, float] | None = None
    l1: float = 0.0
    optimizer: str = "adam"
    lr: float | None = None
    epochs: int = 50
    batch_size: int = 100
    early_stopping: str | None = None
    valid_fraction: float = 0.1
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
        if self.training == "hidden":
            check_choice(self.layer, where=where, name="layer", allowed=(1, 2))
        if self.model not in ("maxout", "maxout-sigmoid") and (
            self.training == "hidden" or self.l1
        ):
            raise ValueError(
                f"{where}: training='hidden' and l1 need a maxout model, got {self.model!r}"
            )
        # Tuples, not lists, so that recipes hash and compare as values.
        object.__setattr__(self, "dropout", tuple(self.dropout))
        if self.clip is not None:
            object.__setattr__(self, "clip", tuple(self.clip))

    def config(self) -> dict:
        """The recipe as a JSON-able dict: what the cache key hashes. ``curves`` only adds
        logging (the weights are the same either way), so it is hashed as False: a model
        trained with curves serves the same recipe without them."""
        return {**dataclasses.asdict(self), "curves": False}

    def build(self) -> torch.nn.Module:
        """The untrained model, its weights drawn from ``seed``."""
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

    def fit_options(self) -> dict:
        """Keyword arguments of :func:`advlib.train.fit` for this recipe (data aside)."""
        adversarial = self.training != "clean"
        return dict(
            epochs=self.epochs,
            eps=self.eps,
            seed=self.seed,
            alpha=self.alpha if adversarial else None,
            perturbation=self.training if self.training.startswith("noise") else "fgsm",
            fgsm_dropout=self.fgsm_dropout,
            layer=self.layer if self.training == "hidden" else 0,
            clip=self.clip,
            l1=self.l1,
            optimizer=self.optimizer,
            lr=self.lr,
            batch_size=self.batch_size,
            valid=self.valid_fraction if self.early_stopping else None,
            early_stopping=self.early_stopping,
            patience=self.patience,
            retrain=self.retrain,
        )


# Epochs are chosen for the CI budget: one seed of every recipe here trains cold in about 8
# minutes on 2 idle cores. An epoch on the 4,000 embedded digits (2 threads) takes about .3 s
# for the 240-unit net clean, .5 s adversarial with 2 passes, .6 s with 3; 5.6 s and 10.4 s for
# the 1600-unit net. 50 epochs bring the 240-unit net to about 4% test error, and the
# adversarial ones to a plateau of their FGSM error; the 1600-unit net gets 10 (its adversarial
# recipe: up to 10 with early stopping, then the chosen number again on all training digits).
# The RBF net uses Adam's lr .01: 12.8% test error at 50 epochs, against 13.6% with .003.
CATALOGUE: dict[str, dict] = {
    "softmax": dict(model="softmax", epochs=50),
    "maxout": dict(),
    "maxout-adversarial": dict(training="adversarial"),
    "maxout-adversarial-dropout-off": dict(training="adversarial", fgsm_dropout="off"),
    "maxout-noise-sign": dict(training="noise-sign"),
    "maxout-noise-uniform": dict(training="noise-uniform"),
    "maxout-hidden": dict(training="hidden", layer=1),
    "maxout-1600": dict(width=1600, epochs=10),
    "maxout-1600-adversarial": dict(
        width=1600, training="adversarial", epochs=10, early_stopping="adversarial", retrain=True
    ),
    "maxout-l1": dict(l1=0.0025),
    "maxout-l1-small": dict(l1=0.0005),
    "maxout-sigmoid": dict(model="maxout-sigmoid"),
    "rbf": dict(model="rbf", epochs=50, lr=0.01),
}
"""Name → the fields that differ from :class:`Recipe`'s defaults."""


def recipe(name: str, *, dataset: str = "mnist-embedded", seed: int = 0, **overrides) -> Recipe:
    """The catalogue's recipe ``name`` on ``dataset`` with ``seed``; ``overrides`` set fields."""
    check_choice(name, where="recipe", name="name", allowed=tuple(CATALOGUE))
    fields = {f.name for f in dataclasses.fields(Recipe)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"recipe: unknown Recipe fields {unknown}; fields are {sorted(fields)}")
    return Recipe(**{**CATALOGUE[name], "dataset": dataset, "seed": seed, **overrides})


def trained(recipe: Recipe) -> tuple[torch.nn.Module, dict]:
    """``(model, history)`` of ``recipe``: from the model cache, else trained and stored.

    The model is in eval mode; the history is :func:`advlib.train.fit`'s.
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(
            f"trained: expects a Recipe (see advlib.zoo.recipe), got {type(recipe).__name__}"
        )
    x, y = load_dataset(recipe.dataset, "train")
    test = load_dataset(recipe.dataset, "test") if recipe.curves else None
    model, history = load_or_train(
        recipe.config(),
        dataset_id(x, y),
        recipe.build,
        lambda m: fit(m, x, y, test=test, **recipe.fit_options()),
        name=f"{recipe.model}-{recipe.training}",
        # A model stored without test curves is trained again, with them, when they are asked for.
        accept=lambda history: not recipe.curves or "test_error" in history["epochs"][0],
    )
    return model.eval(), history


def trained_ensemble(recipes) -> tuple[models.Ensemble, list[dict]]:
    """An :class:`advlib.models.Ensemble` of the trained models of ``recipes`` (e.g. one recipe
    over several seeds), in eval mode, and their histories."""
    pairs = [trained(r) for r in recipes]
    if not pairs:
        raise ValueError("trained_ensemble: needs at least one recipe")
    return models.Ensemble([m for m, _ in pairs]).eval(), [h for _, h in pairs]
