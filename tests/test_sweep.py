"""advlib.book.sweep: a chapter run over a parameter grid, locally and on a Dask cluster."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from advlib.book.results import read_records
from advlib.book.runner import ParameterError
from advlib.book.sweep import cores, exit_code, expand_grid, run_name, sweep

ROOT = Path(__file__).resolve().parents[1]
LINEAR = ROOT / "chapters" / "03_linear_explanation.py"
SMALL = {"max_exponent": [3], "draws": [2]}  # ~1 s of work per run
GRID = {"eps": [0.1, 0.2], "seed": [0, 1], **SMALL}

PROBE = '''# %% tags=["parameters"]
k: int = 0  # which run

# %%
import os

import torch

from advlib.book import record

record("k_times", {factor} * k)
record("torch_threads", torch.get_num_threads())
record("results_setting", os.environ.get("ADVLIB_RESULTS"))
record("cache_setting", os.environ.get("ADVLIB_CACHE"))
'''


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "advlib", "sweep", *args],
                          capture_output=True, text=True, cwd=cwd)


def probe_chapter(folder: Path, factor: int = 1) -> Path:
    """A tiny chapter that records what its kernel sees."""
    path = folder / "probe.py"
    path.write_text(PROBE.replace("{factor}", str(factor)))
    return path


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return out, sweep(LINEAR, GRID, out=out, workers=2)


def test_a_local_sweep_finds_the_change_linear_in_eps_and_the_perturbation_equal_to_eps(local):
    _, table = local
    assert len(table) == 4 and (table["status"] == "ok").all()
    assert table["max_eta_norm"].tolist() == pytest.approx(table["eps"].tolist(), rel=1e-12)
    change = table.set_index(["seed", "eps"])["change_at_n_max"]
    for seed in (0, 1):  # same seed, same weights: twice the eps moves the activation twice as far
        assert change[(seed, 0.2)] / change[(seed, 0.1)] == pytest.approx(2.0, rel=1e-9)
    assert change[(0, 0.1)] != pytest.approx(change[(1, 0.1)], rel=1e-3)  # other weights
    assert table.attrs["metric"] == "change_at_n_max"  # eps_recorded echoes a parameter


def test_the_sweep_writes_each_notebook_one_table_and_an_offline_chart(local):
    out, table = local
    runs = out / "runs"
    assert sorted(p.stem for p in runs.glob("*.ipynb")) == sorted(table["run"])
    assert "eps=0.1,max_exponent=3,seed=0,draws=2" in set(table["run"])
    for row in table.itertuples():
        assert read_records(runs / f"{row.run}.ipynb")["change_at_n_max"] == row.change_at_n_max
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), table,
                                  check_dtype=False)
    csv = pd.read_csv(out / "results.csv")
    assert list(csv.columns) == list(table.columns)
    assert csv["change_at_n_max"].tolist() == pytest.approx(table["change_at_n_max"].tolist())
    # every parameter (defaults too), the chapter's echo of eps renamed, claims one column each
    for column in ("eps", "seed", "backend", "eps_recorded", "C1_1_verdict", "C1_3_ours",
                   "C2_verdict", "claims_holding"):
        assert column in table.columns, column
    assert (table["backend"] == "auto").all() and (table["C1_3_ours"] == table["eps"]).all()
    html = (out / "chart.html").read_text()
    assert "change_at_n_max" in html and "vegaEmbed" in html
    assert "<script src=" not in html  # vega is inlined: nothing is fetched
    svg = (out / "chart.svg").read_text()
    assert svg.startswith("<svg") and "change_at_n_max" in svg and "seed=1" in svg


def test_a_dask_local_cluster_gives_the_same_table(local, tmp_path):
    _, expected = local
    table = sweep(LINEAR, GRID, out=tmp_path, scheduler="local", workers=2)
    same = [c for c in expected.columns if c != "seconds"]
    pd.testing.assert_frame_equal(table[same], expected[same])
    workers = {json.loads(p.read_text())["worker"] for p in (tmp_path / "runs").glob("*.json")}
    assert all(w.startswith("tcp://") for w in workers), workers  # ran on Dask workers


def test_each_run_gets_its_share_of_the_cores_and_never_writes_the_books_results(
        tmp_path, monkeypatch):
    chapter = probe_chapter(tmp_path)
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path / "book-results"))
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path / "models"))
    shared = sweep(chapter, {"k": [0, 1]}, out=tmp_path / "two", workers=2)
    assert shared["torch_threads"].tolist() == [max(1, cores() // 2)] * 2
    assert (shared["results_setting"] == "off").all()
    assert (shared["cache_setting"] == str(tmp_path / "models")).all()
    # one run alone would get every core; asked for one thread, torch in its kernel has one
    alone = sweep(chapter, {"k": [2]}, out=tmp_path / "one", workers=1, threads=1)
    assert alone["torch_threads"][0] == 1


@pytest.mark.parametrize("grid, message", [
    ({"epz": [0.1]}, r"has no parameter 'epz'\. Its parameters are:\n  eps: float = 0.25"),
    ({"eps": [0.1, "abc"]}, r"parameter eps must be a float \(default 0.25\), got 'abc'"),
    ({"eps": [0.1], "seed": [0, 1.5]}, r"parameter seed must be a int"),
    ({"eps": []}, r"parameter eps has no values"),
])
def test_unknown_names_and_bad_values_are_rejected_before_anything_runs(grid, message, tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(ParameterError, match=message):
        sweep(LINEAR, grid, out=out)
    assert not out.exists()


def test_the_command_line_rejects_a_bad_value_with_the_parameter_list(tmp_path):
    proc = cli(str(LINEAR), "-p", "eps", "0.1", "-p", "seed", "one", "--out", "s", cwd=tmp_path)
    assert proc.returncode == 2
    assert "parameter seed must be a int" in proc.stderr and "eps: float = 0.25" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_a_failed_run_is_reported_the_others_complete_and_the_exit_code_counts_failures(tmp_path):
    proc = cli(str(LINEAR), "-p", "eps", "-1", "0.1", "-p", "max_exponent", "3",
               "-p", "draws", "2", "--out", "s", cwd=tmp_path)
    assert proc.returncode == 101, proc.stderr  # 100 + one failed run
    assert ("failed: eps=-1.0,max_exponent=3,draws=2: ValueError: sign_perturbation: eps must be "
            "finite and >= 0, got -1.0") in proc.stderr
    assert "1 of 2 runs succeeded" in proc.stdout
    table = pd.read_csv(tmp_path / "s" / "results.csv").set_index("eps")
    assert table.loc[-1.0, "status"] == "failed" and "eps must be" in table.loc[-1.0, "error"]
    assert pd.isna(table.loc[-1.0, "change_at_n_max"])
    assert table.loc[0.1, "status"] == "ok" and table.loc[0.1, "max_eta_norm"] == 0.1
    # the failed run's notebook is kept: it shows where the chapter stopped
    assert (tmp_path / "s" / "runs" / "eps=-1.0,max_exponent=3,draws=2.ipynb").is_file()


def test_the_exit_code_counts_failed_runs_up_to_25():
    table = pd.DataFrame({"status": ["ok"] * 2 + ["failed"] * 3})
    assert exit_code(table) == 103 and exit_code(table.iloc[:2]) == 0
    assert exit_code(pd.DataFrame({"status": ["failed"] * 40})) == 125


def test_a_resumed_sweep_skips_the_runs_that_finished(tmp_path):
    runs = tmp_path / "runs"
    sweep(LINEAR, {"eps": [0.1], **SMALL}, out=tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    table = sweep(LINEAR, {"eps": [0.1, 0.2], **SMALL}, out=tmp_path)
    assert table["eps"].tolist() == [0.1, 0.2] and (table["status"] == "ok").all()
    after = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    assert {name: after[name] for name in before} == before  # not executed again
    assert len(after) == len(before) + 2
    again = sweep(LINEAR, {"eps": [0.1, 0.2], **SMALL}, out=tmp_path)  # nothing left to run
    assert again["eps"].tolist() == [0.1, 0.2] and (again["status"] == "ok").all()
    assert {p.name: p.stat().st_mtime_ns for p in runs.iterdir()} == after
    sweep(LINEAR, {"eps": [0.1], **SMALL}, out=tmp_path, resume=False)
    redone = runs / "eps=0.1,max_exponent=3,draws=2.ipynb"
    assert redone.stat().st_mtime_ns > before[redone.name]


def test_a_changed_chapter_is_run_again(tmp_path):
    chapter = probe_chapter(tmp_path, factor=1)
    assert sweep(chapter, {"k": [5]}, out=tmp_path / "s")["k_times"][0] == 5
    probe_chapter(tmp_path, factor=2)
    assert sweep(chapter, {"k": [5]}, out=tmp_path / "s")["k_times"][0] == 10


def test_an_interrupted_sweep_keeps_the_finished_runs_readable(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "advlib", "sweep", str(LINEAR), "-p", "eps", "0.1", "0.2", "0.3",
         "0.4", "0.5", "0.6", "-p", "max_exponent", "3", "-p", "draws", "2", "--workers", "1",
         "--out", "s"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "s" / "runs"
    deadline = time.monotonic() + 60
    while not list(runs.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    finished = sorted(p.stem for p in runs.glob("*.json"))
    assert 1 <= len(finished) < 6
    assert sorted(p.stem for p in runs.glob("*.ipynb")) == finished  # no partial notebooks
    assert not [p for p in runs.iterdir() if p.suffix not in (".json", ".ipynb")]
    table = pd.read_csv(tmp_path / "s" / "results.csv")
    assert sorted(table["run"]) == finished and (table["status"] == "ok").all()
    for name in finished:
        assert read_records(runs / f"{name}.ipynb")["max_eta_norm"] > 0


def test_run_names_are_readable_stable_and_filesystem_safe():
    assert run_name({"eps": 0.1, "seed": 2}) == "eps=0.1,seed=2"
    assert run_name({"widths": [240, 240]}).startswith("widths=_240,240_-")
    odd = run_name({"backend": "a/b c"})
    assert odd.startswith("backend=a_b_c-") and "/" not in odd and " " not in odd
    assert odd == run_name({"backend": "a/b c"}) != run_name({"backend": "a/b_c"})
    assert run_name({}) == "defaults"


def test_the_grid_is_every_combination_in_the_chapters_parameter_order():
    grid = expand_grid(LINEAR, {"seed": ["0", 1], "eps": ["0.1", "0.10", 0.2]})
    assert grid == [{"eps": 0.1, "seed": 0}, {"eps": 0.1, "seed": 1},
                    {"eps": 0.2, "seed": 0}, {"eps": 0.2, "seed": 1}]
