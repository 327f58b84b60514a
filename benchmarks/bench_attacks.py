"""How close advlib's FGSM comes to the cost floor, beside torchattacks, foolbox and ART.

A script, not a test: ``.venv/bin/python benchmarks/bench_attacks.py [--reps 15]``.

The floor is the least work any FGSM must do: one forward pass and one backward pass with
respect to the input only (parameters frozen, eval mode, no weight gradients), timed both on
the whole batch and in 1,000-example chunks whose gradients are thrown away, and the faster of
the two taken. Every method is timed in the same run, round-robin over the repetitions (the
machine is shared and noisy), and reported as its median time and ratio to the floor. Models:
the paper's MNIST maxout MLP (2 maxout layers, 240 units x 5 pieces, softmax output; built here
with torch.nn, randomly initialised: the cost does not depend on the weights) and softmax
regression (nn.Linear(784, 10)), on a batch of 10,000 MNIST digits (or uniform noise), CPU.
For softmax regression the NumPy closed form of advlib.linear is timed too.

The comparison libraries are optional (requirements-bench.txt); one that fails to import is
skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from advlib import attacks, linear
from advlib.data import load_mnist

EPS = 0.25
CHUNK = 1_000
TARGETS = {"maxout MLP": 1.05, "softmax regression": 1.2}


class Maxout(nn.Module):
    """max over ``pieces`` affine maps: (n, d) -> (n, units)."""

    def __init__(self, d: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(d, units * pieces)

    def forward(self, x):
        return self.linear(x).view(-1, self.units, self.pieces).amax(dim=2)


def maxout_mlp() -> nn.Module:
    return nn.Sequential(Maxout(784, 240, 5), Maxout(240, 240, 5), nn.Linear(240, 10))


def inputs(n: int, data: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    if data == "random":
        return torch.rand(n, 784, generator=gen), torch.randint(0, 10, (n,), generator=gen)
    x, y = load_mnist("train", source="auto")
    rows = np.resize(np.arange(len(x)), n)  # repeats the embedded 4,000 digits up to n
    return torch.from_numpy(x[rows]).contiguous(), torch.from_numpy(y[rows])


# --------------------------------------------------------------------------------------------
# The floor: the input gradient and nothing else


def floor_batch(model, x, y):
    x = x.detach().requires_grad_(True)
    return torch.autograd.grad(F.cross_entropy(model(x), y), x)[0]


def floor_chunks(model, x, y):
    for i in range(0, x.shape[0], CHUNK):
        xc = x[i : i + CHUNK].detach().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(xc), y[i : i + CHUNK]), xc)


def whole_batch_fgsm(model, x, y):
    chunk_bytes, attacks.CHUNK_BYTES = attacks.CHUNK_BYTES, None
    try:
        return attacks.fgsm(model, x, y, EPS)
    finally:
        attacks.CHUNK_BYTES = chunk_bytes


# --------------------------------------------------------------------------------------------
# The methods


def comparison_methods(model, x, y) -> tuple[dict[str, Callable], dict[str, str]]:
    """FGSM of each installed library, as a no-argument callable; and why others are skipped."""
    methods, skipped = {}, {}
    try:
        from torchattacks.attacks.fgsm import FGSM as TAFGSM  # no torchvision needed this way

        atk = TAFGSM(model, eps=EPS)
        methods["torchattacks"] = lambda: atk(x, y)
    except Exception as exc:  # noqa: BLE001  (any import or set-up failure means: skip it)
        skipped["torchattacks"] = f"{type(exc).__name__}: {exc}"
    try:
        import foolbox

        fmodel = foolbox.PyTorchModel(model, bounds=(0.0, 1.0), device="cpu")
        fb_attack = foolbox.attacks.FGSM()
        # run() is foolbox's attack without its success bookkeeping: its cheapest FGSM.
        methods["foolbox"] = lambda: fb_attack.run(fmodel, x, y, epsilon=EPS)
    except Exception as exc:  # noqa: BLE001
        skipped["foolbox"] = f"{type(exc).__name__}: {exc}"
    try:
        from art.attacks.evasion import FastGradientMethod
        from art.estimators.classification import PyTorchClassifier

        clf = PyTorchClassifier(
            model=model,
            loss=nn.CrossEntropyLoss(),
            input_shape=(784,),
            nb_classes=10,
            clip_values=(0.0, 1.0),
            device_type="cpu",
        )
        x_np, y_np = x.numpy(), np.eye(10, dtype=np.float32)[y.numpy()]
        for batch in (x.shape[0], CHUNK):  # ART works in batches: give it both, report both
            art_attack = FastGradientMethod(clf, norm=np.inf, eps=EPS, batch_size=batch)
            methods[f"ART (batch {batch})"] = lambda a=art_attack: torch.from_numpy(
                a.generate(x=x_np, y=y_np)
            )
    except Exception as exc:  # noqa: BLE001
        skipped["ART"] = f"{type(exc).__name__}: {exc}"
    return methods, skipped


def all_methods(name, model, x, y) -> tuple[dict[str, Callable], dict[str, str]]:
    methods = {
        "floor (one batch)": lambda: floor_batch(model, x, y),
        f"floor ({CHUNK:,}-row chunks)": lambda: floor_chunks(model, x, y),
        "advlib fgsm": lambda: attacks.fgsm(model, x, y, EPS),
    }
    # advlib chunks the batch on the CPU (CHUNK_BYTES); this row shows what chunking buys.
    methods["advlib fgsm, forced one batch"] = lambda: whole_batch_fgsm(model, x, y)
    if name == "softmax regression":
        W = model.weight.detach().T.numpy().copy()  # (784, 10)
        b = model.bias.detach().numpy().copy()
        x_np, y_np = x.numpy(), y.numpy()
        methods["advlib.linear softmax_fgsm (NumPy)"] = lambda: torch.from_numpy(
            linear.softmax_fgsm(W, b, x_np, y_np, EPS, clip=(0.0, 1.0))
        )
    others, skipped = comparison_methods(model, x, y)
    methods.update(others)
    return methods, skipped


# --------------------------------------------------------------------------------------------


def time_round_robin(
    methods: dict[str, Callable], reps: int, warmup: int = 2
) -> dict[str, list[float]]:
    """Seconds per call of each method; each repetition calls every method once, in turn."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    for rep in range(warmup + reps):
        for name, call in methods.items():
            start = time.perf_counter()
            call()
            elapsed = time.perf_counter() - start
            if rep >= warmup:
                times[name].append(elapsed)
    return times


def agreement(methods, reference) -> dict[str, float]:
    """Share of pixels on which each attack's output equals advlib's: are they the same FGSM?"""
    out = {}
    for name, call in methods.items():
        if name.startswith("floor"):
            continue
        adv = call().detach().float()
        out[name] = (adv - reference).abs().le(1e-6).float().mean().item()
    return out


def bench(name: str, model: nn.Module, x, y, reps: int) -> None:
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # the floor computes no weight gradient; nor does any method
    methods, skipped = all_methods(name, model, x, y)
    same = agreement(methods, attacks.fgsm(model, x, y, EPS))
    times = time_round_robin(methods, reps)
    med = {k: statistics.median(v) for k, v in times.items()}
    floor = min(v for k, v in med.items() if k.startswith("floor"))
    print(f"\n## {name}: batch {x.shape[0]:,}, eps {EPS}, {reps} repetitions, medians")
    print(f"{'method':40s} {'ms':>9s} {'x floor':>8s} {'same pixels':>12s}")
    for k, v in med.items():
        agree = f"{same[k]:.4%}" if k in same else ""
        print(f"{k:40s} {v * 1e3:9.2f} {v / floor:8.2f} {agree:>12s}")
    for lib, why in skipped.items():
        print(f"{lib:40s} skipped: {why}")
    ratio = med["advlib fgsm"] / floor
    rivals = {k: v for k, v in med.items() if not k.startswith(("floor", "advlib"))}
    print(
        f"target: advlib fgsm <= {TARGETS[name]} x floor: {ratio:.3f} "
        f"({'met' if ratio <= TARGETS[name] else 'NOT met'}); "
        f"faster than {', '.join(rivals) or 'no library (none installed)'}: "
        f"{'yes' if all(med['advlib fgsm'] < v for v in rivals.values()) else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--data", choices=("mnist", "random"), default="mnist")
    parser.add_argument(
        "--models", nargs="+", choices=("maxout", "softmax"), default=["maxout", "softmax"]
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    x, y = inputs(args.batch, args.data)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}; data: {args.data}; "
        f"load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    if "maxout" in args.models:
        bench("maxout MLP", maxout_mlp(), x, y, args.reps)
    if "softmax" in args.models:
        bench("softmax regression", nn.Linear(784, 10), x, y, args.reps)
    # Other processes on the machine stretch every method, the chunked ones most (each chunk
    # has its own synchronisation points): read the ratios with the load beside them.
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
