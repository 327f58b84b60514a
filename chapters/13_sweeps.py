# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (ch-sweeps)=
# # 13. Asking "what if": a parameter sweep
#
# Every chapter of this book starts with a `parameters` cell, and any of them can be run with
# other values. One run answers one question; a *sweep* runs a chapter for every combination
# of a grid of values, several runs at a time, and collects what each run recorded (the same
# records that fill the claims tables) into one table and one chart. From a shell:
#
# ```bash
# .venv/bin/python -m advlib sweep chapters/03_linear_explanation.py -p eps 0.05 0.1 0.25 -p seed 0 1
# ```
#
# writes each executed notebook, `results.parquet` / `results.csv` (one row per run) and
# `chart.html` / `chart.svg` under `sweeps/03_linear_explanation/`; `--scheduler local` runs
# the grid on a Dask `LocalCluster`, `--scheduler tcp://host:8786` on an existing cluster. Names
# and values are checked against the chapter's parameters before anything runs, a failed run
# is reported while the others finish, and running the command again skips the finished runs.
# This page runs that sweep itself, from Python, and shows what it produces.

# %% tags=["parameters"]
chapter: str = "03_linear_explanation"  # the chapter swept (a file in chapters/, without .py)
grid: dict = {"eps": [0.05, 0.1, 0.25], "seed": [0, 1]}  # parameter name -> values to run
workers: int = 2  # runs at a time
metric: str = "change_at_n_max"  # the recorded result charted against the first parameter
out_dir: str = ""  # where the sweep writes; empty means this book's _build/sweeps/<chapter>

# %%
from pathlib import Path

from advlib.book import charts, record  # noqa: F401 (offline charts)
from advlib.book.paths import book_root
from advlib.book.results import data_note
from advlib.book.sweep import chart, sweep

out = Path(out_dir) if out_dir else book_root() / "_build" / "sweeps" / chapter
data_note(f"whatever chapters/{chapter}.py runs on, in each run: its own data note is kept "
          "in each run's executed notebook (runs/ of the sweep's folder)")
table = sweep(book_root() / "chapters" / f"{chapter}.py", grid, out=out, workers=workers,
              metric=metric, progress=False)
swept, ok = list(grid), table[table["status"] == "ok"]
table[[c for c in [*swept, "status", "seconds", metric, "claims_holding"] if c in table.columns]]

# %% [markdown]
# Each row is one run: the parameters it was given, whether it finished, how long it took and
# what it recorded (here the activation change at the largest dimension, and how many of the
# chapter's claims held in that run). The table on disk has every recorded number as a column,
# and the claims table of each run as `<claim>_verdict` and `<claim>_ours` columns.

# %% tags=["hide-input"]
# Sec. 3: the change is eps·||w||_1, so per unit of eps it depends on the seed's w only
linear = (chapter, swept[0], metric) == ("03_linear_explanation", "eps", "change_at_n_max")
per_eps = ((ok[metric] / ok["eps"]).groupby(ok["seed"] if "seed" in ok else 0 * ok["eps"])
           if linear and len(ok) else None)
record({"runs": len(table), "runs_ok": len(ok), "run_seconds": float(table["seconds"].sum()),
        "workers": workers, "metric": metric, "first_parameter": swept[0],
        "change_per_eps_spread": None if per_eps is None
        else float((per_eps.max() / per_eps.min() - 1).max())})
chart(table, metric, swept, title=f"{chapter}: {metric} against {swept[0]}")

# %% [markdown]
# For chapter 3, the default, the chart is the chapter's own claim seen from the side: at each
# seed the change at the largest dimension is eps·‖w‖₁, so each line is straight through the
# origin; within a seed the change per unit of eps varies by a relative
# {glue:text}`change_per_eps_spread:.1e` (floating-point rounding).
#
# The sweep ran {glue:text}`runs:d` runs ({glue:text}`runs_ok:d` finished), together
# {glue:text}`run_seconds:.0f` seconds of runs, {glue:text}`workers:d` at a time. Run this page
# with another `chapter`, `grid` and `metric` (for example chapter 4 with
# `{"eps": [0.1, 0.25], "seed": [0, 1]}` and `maxout_error`) to ask the same of the deep
# models; runs that need one trained model share it through the model cache.
