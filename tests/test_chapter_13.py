"""Chapter 13 (a parameter sweep): the page runs a small sweep of chapter 3 itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "13_sweeps.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch13")
    params = {"grid": {"eps": [0.1, 0.2], "seed": [0]}, "workers": 2, "out_dir": str(out / "sweep")}
    return run_chapter(CHAPTER, out / "ch13.ipynb", params), out


def test_the_page_sweeps_chapter_3_and_finds_the_change_linear_in_eps(run):
    records, out = run
    assert (records["runs"], records["runs_ok"], records["first_parameter"]) == (2, 2, "eps")
    assert 0 <= records["change_per_eps_spread"] < 1e-9
    assert sorted(p.name for p in (out / "sweep" / "runs").glob("*.ipynb")) == [
        "eps=0.1,seed=0.ipynb",
        "eps=0.2,seed=0.ipynb",
    ]
