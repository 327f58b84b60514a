"""How much faster a sweep runs with 2 workers than with 1: a 6-run sweep of chapter 3.

A script, not a test: ``.venv/bin/python benchmarks/bench_sweep.py [--repeats 3]``.

The grid is eps 0.05, 0.1, 0.25 × seed 0, 1 at the chapter's default size (n up to 10^6,
10 draws). Both worker counts are timed in this one run, alternating (1, 2, then 2, 1, ...) so
that load from other work on the shared machine falls on both alike, each time into a fresh
folder (nothing resumed); the medians and their ratio are printed. Each run gets
cores // workers torch/BLAS threads, as the sweep gives them by default.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from advlib.book.sweep import cores, sweep

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "03_linear_explanation.py"
GRID = {"eps": [0.05, 0.1, 0.25], "seed": [0, 1]}


def timed(workers: int) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as out:
        start = time.perf_counter()
        table = sweep(CHAPTER, GRID, out=out, workers=workers, progress=False)
        seconds = time.perf_counter() - start
    if not (table["status"] == "ok").all():
        raise RuntimeError(f"a run failed: {table.loc[table['status'] != 'ok', 'error'].tolist()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timings per worker count")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {cores()} cores; 6 runs of {CHAPTER.name}")
    times: dict[int, list[float]] = {1: [], 2: []}
    for i in range(args.repeats):
        for workers in (1, 2) if i % 2 == 0 else (2, 1):
            times[workers].append(timed(workers))
            print(f"  repeat {i + 1}: {workers} worker(s) {times[workers][-1]:6.1f} s", flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(
        f"median wall time: 1 worker {one:.1f} s, 2 workers {two:.1f} s; "
        f"1 worker / 2 workers = {one / two:.2f}"
    )


if __name__ == "__main__":
    main()
