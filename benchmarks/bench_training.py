"""Time of one clean epoch against one adversarial epoch of the maxout net (embedded MNIST).

The paper's objective alpha·J(x) + (1 − alpha)·J(x + eps·sign(∇ₓJ)) costs two forward+backward
passes per step when the clean half's backward also yields ∇ₓJ (advlib's default), three when the
FGSM direction is a pass of its own (``fgsm_dropout="off"``, what calling ``fgsm`` first and then
training on both halves would do). Target: adversarial epoch <= 2.05 × clean epoch. The third
pass needs no parameter gradients, so it costs less than the other two: about 2.2-2.4×, not 3×.

Epochs of the three kinds are interleaved and repeated, and each adversarial epoch is divided by
the clean epoch next to it, so that load from other processes on the machine falls on both.

    python benchmarks/bench_training.py [--reps 7] [--threads 2] [--width 240]

On a machine other processes keep busy, two OpenMP threads that spin while they wait for each
other lose most of their time slices: set OMP_WAIT_POLICY=PASSIVE, or use --threads 1.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from advlib import models, train
from advlib.data import load_dataset

KINDS = {
    "clean (1 pass)": dict(alpha=None),
    "adversarial, 2 passes (default)": dict(alpha=0.5),
    "adversarial, 3 passes (fgsm_dropout='off')": dict(alpha=0.5, fgsm_dropout="off"),
}
TARGET = 2.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="epochs of each kind (default 7)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument(
        "--width", type=int, default=240, help="maxout units per layer (default 240)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, y = load_dataset("mnist-embedded", "train")
    torch.manual_seed(0)
    nets = {kind: models.maxout_mlp(width=args.width) for kind in KINDS}
    seconds = {kind: [] for kind in KINDS}
    for rep in range(args.reps + 1):  # the first round warms up and is not counted
        for kind, options in KINDS.items():
            history = train.fit(nets[kind], x, y, epochs=1, seed=rep, progress=False, **options)
            if rep:
                seconds[kind].append(history["epochs"][0]["seconds"])

    clean = seconds["clean (1 pass)"]
    threads = torch.get_num_threads()
    print(
        f"maxout {args.width}x5, {len(x)} digits, batch 100, Adam, {threads} thread(s), "
        f"{args.reps} interleaved epochs of each kind"
    )
    print(f"{'kind':44s} {'median s/epoch':>14s} {'ratio to clean (median of paired)':>34s}")
    ratios = {}
    for kind, times in seconds.items():
        ratios[kind] = statistics.median(t / c for t, c in zip(times, clean))
        print(f"{kind:44s} {statistics.median(times):14.3f} {ratios[kind]:34.2f}")
    ratio = ratios["adversarial, 2 passes (default)"]
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"target: adversarial epoch <= {TARGET}x clean: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
