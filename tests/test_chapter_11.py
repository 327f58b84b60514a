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
            Claim("C4", "softmax FGSM error", 0.999, 0.995, at_least(0.9), n=10_000),
            Claim("C5", "maxout FGSM error", 0.894, 0.6, within(0.05), n=10_000),
            Claim("C6", "CIFAR-10", 0.8715, None, None, n=10_000, why="needs CIFAR-10"),
        ],
    )
    claims_table(
        "03_linear_explanation", [Claim("C1", "slope", 1.0, 1.001, within(0.02), rel=0.02)]
    )
    claims_table("12_beyond", [Claim("B1", "PGD error", 0.5, 0.9, at_least(0.5), n=1_000)])
    monkeypatch.setenv("ADVLIB_RESULTS", "off")
    records = run_chapter(CHAPTER, tmp_path / "summary.ipynb", {"results_dir": str(store)})
    assert records["beyond_rows"] == 1  # B rows stay in chapter 12
    assert records["scales"] == "quick"  # claims_table's default scale
    # the rule verdicts: C4 and C1 hold, C5 differs, C6 was not run
    rule = {k: records.get(f"quick_rule_{k}", 0) for k in ("holds", "differs", "not_run")}
    assert rule == {"holds": 2, "differs": 1, "not_run": 1}
    # every row also has a verdict on the paper's number
    number = {k[len("quick_number_") :]: v for k, v in records.items() if "_number_" in k}
    # C4 (99.5% against 99.9%, ±0.13 points at n = 10,000) and C5 miss; C1 is within 2%
    assert number == {"reproduced": 1, "not_reproduced": 2, "not_run": 1}, number
    assert records["claims_checked"] == 4 and records["claims_total"] == len(PAPER)
    assert "C2" in records["missing_claims"] and "C4" not in records["missing_claims"]
    html = (tmp_path / "summary.ipynb").read_text()
    assert 'href=\\"04_fgsm.html#claims\\"' in html  # each claim links to its chapter
