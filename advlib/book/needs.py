"""The trained models each chapter needs, by scale: what ``python -m advlib train`` trains
(on this machine or a Dask cluster) before the chapters run, so that no chapter waits on one.

Each entry is ``(catalogue name, fields, seeds)`` for the chapter's default parameters; the
recipes are built with :func:`advlib.zoo.recipe` at the requested scale. A chapter run with
other parameters may need others (they train when the chapter asks). Every chapter records the
recipes it loaded (``recipes`` in its records, see :func:`advlib.book.results.claims_table`),
and ``tests/test_book.py`` checks after a build that this list covers them.
"""

from __future__ import annotations

from advlib.checks import check_seed
from advlib.train import Recipe
from advlib.zoo import recipe

__all__ = ["NEEDS", "book_recipes"]

CURVES = dict(curves=True)

NEEDS: dict[str, list[tuple[str, dict, int]]] = {
    "04_fgsm": [("softmax", {}, 1), ("maxout", {}, 1)],
    "05_linear_adversarial_training": [
        ("maxout", {}, 1),
        ("maxout-l1", {}, 1),
        ("maxout-l1-small", {}, 1),
        ("maxout-adversarial", {}, 1),
        ("maxout", dict(optimizer="sgd"), 1),
        ("maxout-l1", dict(optimizer="sgd"), 1),
    ],
    "06_adversarial_training": [
        ("maxout", CURVES, 1),
        ("maxout-adversarial", CURVES, 1),
        ("maxout-adversarial-dropout-off", CURVES, 1),
        ("maxout-adversarial-clipped", CURVES, 1),
        ("maxout-noise-sign", CURVES, 1),
        ("maxout-noise-uniform", CURVES, 1),
        ("maxout-hidden", dict(curves=True, fgsm_dropout="off"), 1),
        ("maxout-1600", CURVES, 1),
        ("maxout-1600-adversarial", dict(curves=True, fgsm_dropout="off"), 1),
    ],
    "07_model_capacity": [("softmax", {}, 1), ("maxout", {}, 1), ("rbf", {}, 1)],
    "08_why_generalize": [("maxout", {}, 1), ("softmax", {}, 1), ("rbf", {}, 1)],
    "09_alternative_hypotheses": [("softmax", {}, 1), ("maxout", {}, 5)],
    "10_rubbish_class": [
        ("softmax", {}, 1),
        ("maxout", {}, 1),
        ("maxout-sigmoid", {}, 1),
        ("maxout-adversarial", {}, 1),
        ("rbf", {}, 1),
    ],
    "12_beyond": [
        ("softmax", {}, 1),
        ("maxout", {}, 1),
        ("maxout-adversarial-dropout-off", {}, 1),
        ("rbf", {}, 1),
    ],
}
"""Chapter stem → (catalogue name, fields, number of seeds from the chapter's seed)."""


def book_recipes(
    scale: str = "quick",
    *,
    seed: int = 0,
    epoch_cap: int = 0,
    chapters: list[str] | None = None,
) -> list[Recipe]:
    """The recipes the chapters need at ``scale`` (each once, in chapter order): of every
    chapter, or of the chapter stems in ``chapters``."""
    if chapters is not None and (
        isinstance(chapters, str) or not all(isinstance(c, str) for c in chapters)
    ):
        raise TypeError(f"book_recipes: chapters must be a list of chapter stems, got {chapters!r}")
    seed = check_seed(seed, where="book_recipes")
    unknown = sorted(set(chapters or ()) - set(NEEDS))
    if unknown:
        raise ValueError(f"book_recipes: no chapter {unknown}; chapters are {sorted(NEEDS)}")
    found: dict[str, Recipe] = {}
    for stem, entries in NEEDS.items():
        if chapters is not None and stem not in chapters:
            continue
        for name, fields, seeds in entries:
            for k in range(seeds):
                r = recipe(name, scale=scale, seed=seed + k, epoch_cap=epoch_cap, **fields)
                key = repr(r.config())  # curves only add logging: one model serves both
                if key not in found or r.curves:
                    found[key] = r
    return list(found.values())
