"""Chapter 11 (summary): every claim, read back from stored claims tables, none typed in."""

from __future__ import annotations

from pathlib import Path

from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_least, claims_table, within
from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "11_summary.py"


def test_summary_counts_verdicts_and_lists_unchecked_claims(tmp_path, monkeypatch):
    store = tmp_path / "results"
    monkeypatch.setenv("ADVLIB_RESULTS", str(store))
    claims_table(
        "04_fgsm",
        [
            Claim("C4", "softmax FGSM error", 0.999, 0.995, at_least(0.9)),
            Claim("C5", "maxout FGSM error", 0.894, 0.6, within(0.05)),
            Claim("C6", "CIFAR-10", 0.8715, None, None, why="needs CIFAR-10"),
        ],
    )
    claims_table("03_linear_explanation", [Claim("C1", "slope", 1.0, 1.001, within(0.02))])
    claims_table("12_beyond", [Claim("B1", "PGD error", 0.5, 0.9, at_least(0.5))])
    monkeypatch.setenv("ADVLIB_RESULTS", "off")
    records = run_chapter(CHAPTER, tmp_path / "summary.ipynb", {"results_dir": str(store)})
    assert records["rows"] == 4 and records["beyond_rows"] == 1  # B rows stay in chapter 12
    assert (records["verdict_holds"], records["verdict_differs"], records["verdict_not_run"]) == (
        2,
        1,
        1,
    )
    assert records["claims_checked"] == 4 and records["claims_total"] == len(PAPER)
    assert "C2" in records["missing_claims"] and "C4" not in records["missing_claims"]
    html = (tmp_path / "summary.ipynb").read_text()
    assert 'href=\\"04_fgsm.html#claims\\"' in html  # each claim links to its chapter
