"""Training at the hardware's floor: epochs of the paper's maxout nets on 60,000 digits.

A script, not a test: ``.venv/bin/python benchmarks/bench_training.py [--reps 5]``.

In one run, interleaved (every repetition times every kind once, in turn, so that load from
other processes falls on all of them), with medians and ratios:

- a clean epoch of the 240×5 maxout net (batch 100, dropout .2/.5, max-norm 1.9365, the paper's
  SGD) against its floor: the same forward and backward matrix products (three forward
  ``addmm``; the weight gradients of all three layers and the input gradients of the top two),
  on tensors of the same shapes, timed alone;
- the two-pass (FGSM direction under the clean half's dropout mask) and three-pass (direction
  from the net with dropout off) adversarial epochs against the clean one;
- the same for the 1600-unit net (``--wide 0`` skips it);
- the libraries a user would pick instead, on the same model, data and optimiser: ART's
  ``AdversarialTrainer`` (FGSM at eps .25, ratio .5) and a loop that makes its examples with
  torchattacks' FGSM and trains on α·J(x) + (1 − α)·J(x_adv). Their epoch time against ours
  (the three-pass objective, whose FGSM direction is the deterministic net's, as theirs is).

Data: full MNIST's 60,000 training digits when ``$ADVLIB_DATA`` holds them, else the 4,000
embedded digits tiled to 60,000 (said so in the output). Each timed epoch is one call of
``advlib.train.fit`` (``epochs=1``): its history's training seconds, monitoring aside.
The comparison libraries are optional (requirements-bench.txt); one that fails to import is
skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from advlib.data import load_dataset
from advlib.train import TRAIN_VERSION, Recipe, fit

N = 60_000
BATCH = 100
EPS, ALPHA = 0.25, 0.5
TARGETS = {"clean / floor": 1.3, "2-pass / clean": 2.05, "3-pass / clean": 3.05}


def digits() -> tuple[np.ndarray, np.ndarray, str]:
    """60,000 training digits: full MNIST if on disk, else the embedded ones tiled."""
    if os.environ.get("ADVLIB_DATA"):
        x, y = load_dataset("mnist", "train")
        return x, y, f"full MNIST from {os.environ['ADVLIB_DATA']}"
    x, y = load_dataset("mnist-embedded", "train")
    reps = -(-N // len(x))
    return (
        np.tile(x, (reps, 1))[:N],
        np.tile(y, reps)[:N],
        f"the {len(x):,} embedded digits tiled to {N:,} (no $ADVLIB_DATA)",
    )


def recipe(width: int, training: str = "clean", fgsm_dropout: str = "same") -> Recipe:
    return Recipe(
        width=width,
        training=training,
        fgsm_dropout=fgsm_dropout,
        optimizer="sgd",
        lr_end=1e-3,
        momentum_epochs=None,
        epochs=1,
        seed=0,
        dataset="mnist",
    )


def ours(width: int, training: str, fgsm_dropout: str, x, y):
    r = recipe(width, training, fgsm_dropout)
    model = r.build()

    def epoch() -> float:
        return fit(model, x, y, r, device="cpu", progress=False)["epochs"][0]["seconds"]

    return epoch


def floor(width: int, pieces: int = 5):
    """The matrix products of one clean epoch, alone: per minibatch, forward x·W1ᵀ, h1·W2ᵀ,
    h2·W3ᵀ (with bias), backward the three weight gradients and the input gradients of the top
    two layers (no gradient for x), into preallocated outputs."""
    g = torch.Generator().manual_seed(0)
    wide = width * pieces
    x = torch.rand(BATCH, 784, generator=g)
    h1, h2 = torch.rand(BATCH, width, generator=g), torch.rand(BATCH, width, generator=g)
    w1, b1 = torch.randn(wide, 784, generator=g), torch.zeros(wide)
    w2, b2 = torch.randn(wide, width, generator=g), torch.zeros(wide)
    w3, b3 = torch.randn(10, width, generator=g), torch.zeros(10)
    g1, g2, g3 = (
        torch.randn(BATCH, wide, generator=g),
        torch.randn(BATCH, wide, generator=g),
        torch.randn(BATCH, 10, generator=g),
    )
    z1, z2, z3 = torch.empty(BATCH, wide), torch.empty(BATCH, wide), torch.empty(BATCH, 10)
    gw1, gw2, gw3 = torch.empty_like(w1), torch.empty_like(w2), torch.empty_like(w3)
    gh1, gh2 = torch.empty(BATCH, width), torch.empty(BATCH, width)

    def epoch() -> float:
        tic = time.perf_counter()
        for _ in range(N // BATCH):
            torch.addmm(b1, x, w1.T, out=z1)
            torch.addmm(b2, h1, w2.T, out=z2)
            torch.addmm(b3, h2, w3.T, out=z3)
            torch.mm(g3.T, h2, out=gw3)
            torch.mm(g3, w3, out=gh2)
            torch.mm(g2.T, h1, out=gw2)
            torch.mm(g2, w2, out=gh1)
            torch.mm(g1.T, x, out=gw1)
        return time.perf_counter() - tic

    return epoch


def torchattacks_loop(width: int, x, y):
    try:
        from torchattacks.attacks.fgsm import FGSM
    except Exception as exc:  # noqa: BLE001  (optional library; any import failure skips it)
        return None, f"torchattacks: {type(exc).__name__}: {exc}"
    r = recipe(width)
    model = r.build()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    attack = FGSM(model, eps=EPS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch() -> float:
        tic = time.perf_counter()
        for idx in torch.randperm(N, generator=torch.Generator().manual_seed(0)).split(BATCH):
            xb, yb = xt[idx], yt[idx]
            x_adv = attack(xb, yb)  # eval mode inside, training mode restored
            model.train()
            opt.zero_grad()
            loss = ALPHA * F.cross_entropy(model(xb), yb) + (1 - ALPHA) * F.cross_entropy(
                model(x_adv), yb
            )
            loss.backward()
            opt.step()
            model.apply_constraints()
        return time.perf_counter() - tic

    return epoch, "torchattacks FGSM loop (3 passes, clipped to [0, 1] as torchattacks does)"


def art_trainer(width: int, x, y):
    try:
        from art.attacks.evasion import FastGradientMethod
        from art.defences.trainer import AdversarialTrainer
        from art.estimators.classification import PyTorchClassifier
    except Exception as exc:  # noqa: BLE001  (optional library; any import failure skips it)
        return None, f"ART: {type(exc).__name__}: {exc}"
    model = recipe(width).build()
    classifier = PyTorchClassifier(
        model=model,
        loss=torch.nn.CrossEntropyLoss(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5),
        input_shape=(784,),
        nb_classes=10,
        device_type="cpu",
    )
    trainer = AdversarialTrainer(classifier, FastGradientMethod(classifier, eps=EPS), ratio=0.5)
    labels = np.eye(10, dtype=np.float32)[y]

    def epoch() -> float:
        tic = time.perf_counter()
        trainer.fit(x, labels, nb_epochs=1, batch_size=BATCH)
        return time.perf_counter() - tic

    return epoch, "ART AdversarialTrainer (FGSM eps .25, ratio .5, no max-norm)"


def interleaved(kinds: dict, reps: int) -> dict[str, list[float]]:
    """Seconds of each kind's epoch over ``reps`` rounds, every round timing every kind once in
    turn (a first round warms up and is not counted)."""
    seconds: dict[str, list[float]] = {k: [] for k in kinds}
    for rep in range(reps + 1):
        for kind, epoch in kinds.items():
            t = epoch()
            if rep:
                seconds[kind].append(t)
            print(f"  rep {rep} {kind:34s} {t:7.2f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed epochs of each kind")
    parser.add_argument("--wide", type=int, default=1600, help="the wide net's width (0: skip)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--no-libraries", action="store_true", help="skip ART and torchattacks")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, y, source = digits()
    kinds: dict[str, object] = {}
    for width in (240, args.wide) if args.wide else (240,):
        kinds[f"{width} floor"] = floor(width)
        kinds[f"{width} clean"] = ours(width, "clean", "same", x, y)
        kinds[f"{width} 2-pass"] = ours(width, "adversarial", "same", x, y)
        kinds[f"{width} 3-pass"] = ours(width, "adversarial", "off", x, y)
    notes = []
    if not args.no_libraries:
        for make in (art_trainer, torchattacks_loop):
            epoch, note = make(240, x, y)
            notes.append(note)
            if epoch is not None:
                kinds[note.split(" (")[0]] = epoch
    seconds = interleaved(kinds, args.reps)

    def ratio(a: str, b: str) -> float:
        return statistics.median(p / q for p, q in zip(seconds[a], seconds[b], strict=True))

    print(
        f"\n{N:,} digits: {source}; batch {BATCH}; advlib TRAIN_VERSION {TRAIN_VERSION}; "
        f"{torch.get_num_threads()} torch thread(s); {platform.processor() or platform.machine()}"
        f"; {args.reps} interleaved repetitions; medians"
    )
    print(f"{'kind':44s} {'s/epoch':>8s}")
    for kind, times in seconds.items():
        print(f"{kind:44s} {statistics.median(times):8.2f}")
    for note in notes:
        print("  note:", note)
    print("\nratios (median of paired ratios in the same repetition)")
    rows = []
    for width in (240, args.wide) if args.wide else (240,):
        rows += [
            (
                f"{width}: clean / floor",
                ratio(f"{width} clean", f"{width} floor"),
                TARGETS["clean / floor"],
            ),
            (
                f"{width}: 2-pass / clean",
                ratio(f"{width} 2-pass", f"{width} clean"),
                TARGETS["2-pass / clean"],
            ),
            (
                f"{width}: 3-pass / clean",
                ratio(f"{width} 3-pass", f"{width} clean"),
                TARGETS["3-pass / clean"],
            ),
        ]
    for lib in ("ART AdversarialTrainer", "torchattacks FGSM loop"):
        if lib in seconds:
            rows.append((f"{lib} / ours (240, 3-pass)", ratio(lib, "240 3-pass"), None))
    for name, value, target in rows:
        verdict = "" if target is None else ("  met" if value <= target else "  NOT met")
        bound = f" (target <= {target})" if target is not None else ""
        print(f"  {name:44s} {value:6.2f}{bound}{verdict}")


if __name__ == "__main__":
    main()
