"""advlib.book.sweep: a chapter run over a parameter grid, locally and on a Dask cluster; what it
writes, what it resumes, and what a changed chapter, science code or data set runs again.

Kills, concurrent sweeps into one folder and their locks are in ``test_faults.py``."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from advlib.book import sweep as sweep_module
from advlib.book.results import read_records
from advlib.book.runner import ParameterError
from advlib.book.sweep import (
    cores,
    data_identity,
    exit_code,
    expand_grid,
    resume_key,
    run_name,
    sweep,
)

ROOT = Path(__file__).resolve().parents[1]
LINEAR = ROOT / "chapters" / "03_linear_explanation.py"
SMALL = {"max_exponent": [3], "draws": [2]}  # ~1 s of work per run
GRID = {"eps": [0.1, 0.2], "seed": [0, 1], **SMALL}

PROBE = """# %% tags=["parameters"]
k: int = 0  # which run

# %%
import os

import torch

from advlib.book import record

if k < 0:
    raise ValueError(f"k must be >= 0, got {k}")
record({"k_times": {factor} * k, "torch_threads": torch.get_num_threads(),
        "results_setting": os.environ.get("ADVLIB_RESULTS"),
        "cache_setting": os.environ.get("ADVLIB_CACHE")})
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "advlib", "sweep", *args], capture_output=True, text=True, cwd=cwd
    )


def probe_chapter(folder: Path, factor: int = 1) -> Path:
    """A tiny chapter that records what its kernel sees (and fails for k < 0)."""
    path = folder / "probe.py"
    path.write_text(PROBE.replace("{factor}", str(factor)))
    return path


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


@pytest.fixture
def fixed_advlib(monkeypatch):
    """The science code's digest held still (advlib's source may change while tests run)."""
    from advlib.book import sphinxext

    monkeypatch.setattr(sphinxext, "advlib_digest", lambda: "d" * 64)
    return sphinxext


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return out, sweep(LINEAR, GRID, out=out, workers=2)


@pytest.mark.slow
def test_a_local_sweep_of_the_linear_chapter_finds_the_change_linear_in_eps(local):
    _, table = local
    assert len(table) == 4 and (table["status"] == "ok").all()
    change = table.set_index(["seed", "eps"])["change_at_n_max"]
    for seed in (0, 1):  # same seed, same weights: twice the eps moves the activation twice as far
        assert change[(seed, 0.2)] / change[(seed, 0.1)] == pytest.approx(2.0, rel=1e-9)
    assert change[(0, 0.1)] != pytest.approx(change[(1, 0.1)], rel=1e-3)  # other weights
    # the default metric is the first numeric result that differs between runs: the chapter
    # records its parameter echoes (eps_recorded, draws_recorded: skipped), then n_max, 10**3 in
    # every run, then the fitted growth slope, which the two seeds' weights make differ
    slope = table.set_index(["seed", "eps"])["growth_slope"]
    assert (table["n_max"] == 10**3).all() and slope[(0, 0.1)] != pytest.approx(slope[(1, 0.1)])
    assert table.attrs["metric"] == "growth_slope"


@pytest.mark.slow
def test_the_sweep_writes_each_notebook_one_table_and_an_offline_chart(local):
    out, table = local
    runs = out / "runs"
    assert sorted(p.stem for p in runs.glob("*.ipynb")) == sorted(table["run"])
    assert "eps=0.1,max_exponent=3,seed=0,draws=2" in set(table["run"])
    for row in table.itertuples():
        assert read_records(runs / f"{row.run}.ipynb")["change_at_n_max"] == row.change_at_n_max
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "results.parquet"), table, check_dtype=False
    )
    csv = pd.read_csv(out / "results.csv")
    assert list(csv.columns) == list(table.columns)
    assert csv["change_at_n_max"].tolist() == pytest.approx(table["change_at_n_max"].tolist())
    # every parameter (defaults too), the chapter's echo of eps renamed, claims one column each
    for column in (
        "eps",
        "seed",
        "backend",
        "eps_recorded",
        "C1_1_verdict",
        "C1_2_ours",
        "C2_verdict",
        "claims_holding",
    ):
        assert column in table.columns, column
    assert (table["backend"] == "auto").all()
    # the claims columns are the runs' own rows, not the sweep's idea of them
    for row in table.itertuples():
        claims = read_records(runs / f"{row.run}.ipynb")["claims"]
        assert row.claims_holding == sum(c["verdict"] == "holds" for c in claims)
        assert row.C1_2_ours == claims[1]["ours_value"]
    html = (out / "chart.html").read_text()
    assert table.attrs["metric"] in html and "vegaEmbed" in html
    assert "<script src=" not in html  # vega is inlined: nothing is fetched
    svg = (out / "chart.svg").read_text()
    assert svg.startswith("<svg") and table.attrs["metric"] in svg and "seed=1" in svg
    # every file was renamed into place: no temporary left, only the run locks' folder hidden
    assert [p.name for p in out.rglob(".*")] == [".locks"]
    # each record keeps the resume key it ran under: one key for one sweep
    records = [json.loads(p.read_text()) for p in runs.glob("*.json")]
    keys = {tuple(r[k] for k in sweep_module.RESUME_KEY) for r in records}
    assert len(keys) == 1 and all(len(k) == 64 for k in keys.pop())


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_same_table(local, tmp_path):
    _, expected = local
    table = sweep(LINEAR, GRID, out=tmp_path, scheduler="local", workers=2)
    same = [c for c in expected.columns if c != "seconds"]
    pd.testing.assert_frame_equal(table[same], expected[same])
    workers = {json.loads(p.read_text())["worker"] for p in (tmp_path / "runs").glob("*.json")}
    assert all(w.startswith("tcp://") for w in workers), workers  # ran on Dask workers


@pytest.mark.slow
def test_each_run_gets_its_share_of_the_cores_and_never_writes_the_books_results(
    tmp_path, monkeypatch
):
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


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"epz": [0.1]}, r"has no parameter 'epz'\. Its parameters are:\n  eps: float = 0.25"),
        ({"eps": [0.1, "abc"]}, r"parameter eps must be a float \(default 0.25\), got 'abc'"),
        ({"eps": [0.1], "seed": [0, 1.5]}, r"parameter seed must be a int"),
        ({"eps": []}, r"parameter eps has no values"),
        (
            {"backend": ["numpy", "jax"]},
            r"parameter backend must be one of 'auto', 'numpy', 'cupy'",
        ),
    ],
)
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


@pytest.mark.slow
def test_a_failed_run_is_reported_the_others_complete_and_the_exit_code_counts_failures(tmp_path):
    chapter = probe_chapter(tmp_path)
    proc = cli(str(chapter), "-p", "k", "-1", "3", "--out", "s", cwd=tmp_path)
    assert proc.returncode == 101, proc.stderr  # 100 + one failed run
    assert "failed: k=-1: ValueError: k must be >= 0, got -1" in proc.stderr
    assert "1 of 2 runs succeeded" in proc.stdout
    table = pd.read_csv(tmp_path / "s" / "results.csv").set_index("k")
    assert table.loc[-1, "status"] == "failed" and "k must be >= 0" in table.loc[-1, "error"]
    assert pd.isna(table.loc[-1, "k_times"])
    assert table.loc[3, "status"] == "ok" and table.loc[3, "k_times"] == 3
    # the failed run's notebook is kept: it shows where the chapter stopped
    assert (tmp_path / "s" / "runs" / "k=-1.ipynb").is_file()


def test_the_exit_code_counts_failed_runs_up_to_25():
    table = pd.DataFrame({"status": ["ok"] * 2 + ["failed"] * 3})
    assert exit_code(table) == 103 and exit_code(table.iloc[:2]) == 0
    assert exit_code(pd.DataFrame({"status": ["failed"] * 40})) == 125


@pytest.mark.slow
def test_a_resumed_sweep_skips_the_runs_that_finished(tmp_path, fixed_advlib):
    chapter = probe_chapter(tmp_path)
    out, runs = tmp_path / "s", tmp_path / "s" / "runs"
    sweep(chapter, {"k": [1]}, out=out)
    before = mtimes(runs)
    table = sweep(chapter, {"k": [1, 2]}, out=out)
    assert table["k_times"].tolist() == [1, 2] and (table["status"] == "ok").all()
    after = mtimes(runs)
    assert {name: after[name] for name in before} == before  # not executed again
    assert len(after) == len(before) + 2
    again = sweep(chapter, {"k": [1, 2]}, out=out)  # nothing left to run
    assert again["k_times"].tolist() == [1, 2] and (again["status"] == "ok").all()
    assert mtimes(runs) == after
    sweep(chapter, {"k": [1]}, out=out, resume=False)
    assert mtimes(runs)["k=1.ipynb"] > before["k=1.ipynb"]


@pytest.mark.slow
def test_a_changed_chapter_is_run_again(tmp_path, fixed_advlib):
    chapter = probe_chapter(tmp_path, factor=1)
    assert sweep(chapter, {"k": [5]}, out=tmp_path / "s")["k_times"][0] == 5
    probe_chapter(tmp_path, factor=2)
    assert sweep(chapter, {"k": [5]}, out=tmp_path / "s")["k_times"][0] == 10


@pytest.mark.slow
def test_changed_science_code_or_data_runs_the_sweep_again(tmp_path, monkeypatch, fixed_advlib):
    chapter = probe_chapter(tmp_path)
    data = tmp_path / "fashion"
    data.mkdir()
    (data / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07")
    monkeypatch.setenv("ADVLIB_FASHION_MNIST", str(data))
    out, runs = tmp_path / "s", tmp_path / "s" / "runs"
    sweep(chapter, {"k": [1]}, out=out)
    first = mtimes(runs)
    sweep(chapter, {"k": [1]}, out=out)
    assert mtimes(runs) == first  # nothing changed: resumed
    monkeypatch.setattr(fixed_advlib, "advlib_digest", lambda: "e" * 64)  # advlib edited
    sweep(chapter, {"k": [1]}, out=out)
    second = mtimes(runs)
    assert second["k=1.json"] > first["k=1.json"]
    assert json.loads((runs / "k=1.json").read_text())["advlib_sha256"] == "e" * 64
    (data / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x02\x03\x04")
    sweep(chapter, {"k": [1]}, out=out)
    assert mtimes(runs)["k=1.json"] > second["k=1.json"]


def test_the_data_identity_follows_the_data_files_a_run_may_read(tmp_path, monkeypatch):
    full = tmp_path / "mnist"
    full.mkdir()
    (full / "t10k-labels-idx1-ubyte.gz").write_bytes(b"first copy")
    (full / "README.md").write_text("notes")
    monkeypatch.setenv("ADVLIB_DATA", str(full))
    first = data_identity()
    assert first["ADVLIB_DATA"] == {
        "folder": str(full.resolve()),
        "files": {"t10k-labels-idx1-ubyte.gz": hashlib.sha256(b"first copy").hexdigest()},
    }
    assert first["embedded"] is not None and len(first["embedded"]) == 64
    key = resume_key(LINEAR)["data_sha256"]
    (full / "README.md").write_text("other notes")  # not data: the identity stays
    assert resume_key(LINEAR)["data_sha256"] == key
    (full / "t10k-labels-idx1-ubyte.gz").write_bytes(b"another copy")
    assert resume_key(LINEAR)["data_sha256"] != key
    monkeypatch.setenv("ADVLIB_DATA", str(tmp_path / "elsewhere"))  # re-pointed, missing
    assert data_identity()["ADVLIB_DATA"]["files"] is None


def test_the_resume_key_follows_the_chapter_source(tmp_path):
    chapter = probe_chapter(tmp_path, factor=1)
    first = resume_key(chapter)
    assert set(first) == set(sweep_module.RESUME_KEY)
    probe_chapter(tmp_path, factor=2)
    second = resume_key(chapter)
    assert second["chapter_sha256"] != first["chapter_sha256"]
    assert {k: second[k] for k in ("advlib_sha256", "data_sha256")} == {
        k: first[k] for k in ("advlib_sha256", "data_sha256")
    }


@pytest.mark.slow
def test_an_interrupted_sweep_keeps_the_finished_runs_readable(tmp_path):
    chapter = probe_chapter(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "advlib",
            "sweep",
            str(chapter),
            "-p",
            "k",
            "1",
            "2",
            "3",
            "4",
            "5",
            "6",
            "--workers",
            "1",
            "--out",
            "s",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
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
        k = int(name.split("=")[1])
        assert read_records(runs / f"{name}.ipynb")["k_times"] == k


def test_run_names_are_readable_stable_and_filesystem_safe():
    assert run_name({"eps": 0.1, "seed": 2}) == "eps=0.1,seed=2"
    assert run_name({"widths": [240, 240]}).startswith("widths=_240,240_-")
    odd = run_name({"backend": "a/b c"})
    assert odd.startswith("backend=a_b_c-") and "/" not in odd and " " not in odd
    assert odd == run_name({"backend": "a/b c"}) != run_name({"backend": "a/b_c"})
    assert run_name({}) == "defaults"


def test_the_grid_is_every_combination_in_the_chapters_parameter_order():
    grid = expand_grid(LINEAR, {"seed": ["0", 1], "eps": ["0.1", "0.10", 0.2]})
    assert grid == [
        {"eps": 0.1, "seed": 0},
        {"eps": 0.1, "seed": 1},
        {"eps": 0.2, "seed": 0},
        {"eps": 0.2, "seed": 1},
    ]
