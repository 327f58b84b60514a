"""The book's trained models, by name and scale: how chapters get a model (they never call ``fit``).

:func:`recipe` builds a :class:`advlib.train.Recipe` from :data:`CATALOGUE` at one of two
scales; :func:`trained` returns its model from the model cache (:mod:`advlib.cache`) or trains
it there first, checkpointing every epoch so that an interrupted build resumes.

- ``"quick"``: the 4,000 / 1,000 embedded digits and budgets chosen so that every model of the
  book trains cold within the CI budget on two CPU cores (Adam, fixed epochs).
- ``"paper"``: full MNIST and the paper's protocol (:data:`PAPER_PROTOCOL`): the maxout paper's
  SGD, a 50,000 / 10,000 split with early stopping (on adversarial validation error for
  adversarially trained nets, C15), then retraining on all 60,000 digits for the chosen number
  of epochs.

    model, history = trained(recipe("maxout-adversarial", scale="paper", seed=1))
"""

from __future__ import annotations

from typing import Any

import torch

from advlib import models
from advlib.cache import load_or_train
from advlib.checks import check_choice, check_int
from advlib.data import DATASETS, dataset_id, load_dataset
from advlib.train import Recipe, fit

__all__ = [
    "SCALES",
    "CATALOGUE",
    "PAPER_PROTOCOL",
    "PAPER_OVERRIDES",
    "recipe",
    "scale_dataset",
    "trained",
    "trained_ensemble",
]

SCALES = ("quick", "paper")
SCALE_DATASETS = {"quick": "mnist-embedded", "paper": "mnist"}

# Quick scale. Epochs are chosen for the CI budget: one seed of every recipe here trains cold
# in about 8 minutes on 2 idle cores. An epoch on the 4,000 embedded digits (2 threads) takes
# about .3 s for the 240-unit net clean, .5 s adversarial with 2 passes, .6 s with 3; 5.6 s and
# 10.4 s for the 1600-unit net. 50 epochs bring the 240-unit net to about 4% test error, and
# the adversarial ones to a plateau of their FGSM error; the 1600-unit net gets 10 (its
# adversarial recipe: up to 10 with early stopping, then the chosen number again on all training
# digits). The RBF net uses Adam's lr .01: 12.8% test error at 50 epochs, against 13.6% with .003.
CATALOGUE: dict[str, dict] = {
    "softmax": dict(model="softmax", epochs=50),
    "maxout": dict(),
    "maxout-adversarial": dict(training="adversarial"),
    "maxout-adversarial-dropout-off": dict(training="adversarial", fgsm_dropout="off"),
    "maxout-adversarial-clipped": dict(training="adversarial", fgsm_dropout="off",
                                       clip=(0.0, 1.0)),
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
"""Name → the fields that differ from :class:`~advlib.train.Recipe`'s defaults (quick scale)."""

PAPER_PROTOCOL: dict[str, Any] = dict(
    dataset="mnist",
    optimizer="sgd",
    lr=0.1,
    lr_end=0.001,
    momentum=(0.5, 0.7),
    momentum_epochs=None,
    epochs=100,
    early_stopping="clean",
    valid=10_000,
    retrain=True,
)
"""The paper's protocol, scaled to a CPU budget: the maxout paper's SGD (batch 100, lr .1,
momentum .5 → .7, max-norm 1.9365, dropout .2 / .5), its 50,000 / 10,000 validation split and
early stopping, then retraining on all 60,000 digits. The maxout paper ran until 100 epochs
passed without improvement and let its momentum rise over 250 epochs; here ``epochs`` caps the
run, the momentum rises over the cap and the learning rate decays to ``lr_end`` at it."""

PAPER_OVERRIDES: dict[str, dict] = {
    # adversarially trained nets stop on adversarial validation error (C15)
    **{name: dict(early_stopping="adversarial") for name, fields in CATALOGUE.items()
       if fields.get("training") in ("adversarial", "hidden")},
    "maxout-1600": dict(),
    "maxout-1600-adversarial": dict(early_stopping="adversarial"),
    # the linear and RBF models keep their own optimiser (Adam), early-stopped like the rest
    "softmax": dict(optimizer="adam", lr=None, lr_end=None),
    "rbf": dict(optimizer="adam", lr=0.01, lr_end=None),
}
"""Name → fields that differ from the quick recipe plus :data:`PAPER_PROTOCOL` at paper scale."""


def scale_dataset(scale: str, dataset: str = "default") -> str:
    """The data set a chapter runs on: ``dataset``, or with ``"default"`` the scale's own
    (quick: the embedded digits; paper: full MNIST)."""
    check_choice(scale, where="scale_dataset", name="scale", allowed=SCALES)
    if dataset == "default":
        return SCALE_DATASETS[scale]
    check_choice(dataset, where="scale_dataset", name="dataset", allowed=("default", *DATASETS))
    return dataset


def recipe(
    name: str,
    *,
    scale: str = "quick",
    dataset: str = "default",
    seed: int = 0,
    epoch_cap: int = 0,
    **overrides: Any,
) -> Recipe:
    """The catalogue's recipe ``name`` at ``scale`` ("quick" or "paper") on ``dataset``
    ("default": the scale's own) with ``seed``; ``epoch_cap`` > 0 caps its epochs (a test of
    the paper-scale path in minutes); ``overrides`` set other fields."""
    where = "recipe"
    check_choice(name, where=where, name="name", allowed=tuple(CATALOGUE))
    check_choice(scale, where=where, name="scale", allowed=SCALES)
    epoch_cap = check_int(epoch_cap, where=where, name="epoch_cap", low=0)
    fields = set(Recipe.__dataclass_fields__)
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(f"{where}: unknown Recipe fields {unknown}; fields are {sorted(fields)}")
    chosen = dict(CATALOGUE[name])
    if scale == "paper":
        chosen.update(PAPER_PROTOCOL)
        chosen.update(PAPER_OVERRIDES.get(name, {}))
    chosen.update(dataset=scale_dataset(scale, dataset), seed=seed, **overrides)
    if epoch_cap:
        chosen["epochs"] = min(chosen.get("epochs", Recipe.epochs), epoch_cap)
    return Recipe(**chosen)


def trained(recipe: Recipe, *, device: str = "auto") -> tuple[torch.nn.Module, dict]:
    """``(model, history)`` of ``recipe``: from the model cache, else trained (on ``device``,
    "auto": CUDA when present) and stored, with a checkpoint after every epoch.

    The model is in eval mode on the CPU; the history is :func:`advlib.train.fit`'s.
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
        lambda m, checkpoint: fit(m, x, y, recipe, test=test, device=device,
                                  checkpoint=checkpoint),
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
