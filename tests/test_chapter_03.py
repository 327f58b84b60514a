"""Chapter 3 (the linear explanation), executed by papermill with changed parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from advlib.book.runner import run_chapter

CHAPTER = Path(__file__).resolve().parents[1] / "chapters" / "03_linear_explanation.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch03")
    small = {"max_exponent": 5, "draws": 4, "backend": "numpy"}
    return {
        eps: run_chapter(CHAPTER, out / f"eps{eps}.ipynb", {"eps": eps, **small})
        for eps in (0.1, 0.25)
    }


def test_activation_change_grows_linearly_with_dimension_C1(runs):
    r = runs[0.1]
    assert r["eps"] == 0.1 and r["n_max"] == 10**5
    assert abs(r["growth_slope"] - 1.0) < 0.02
    assert r["max_eta_norm"] == pytest.approx(0.1)
    assert r["max_relative_deviation"] < 1e-9
    # the change is linear in eps too: same seed, same weights, 2.5 times the eps
    assert runs[0.25]["change_at_n_max"] / r["change_at_n_max"] == pytest.approx(2.5, rel=1e-9)
    # and it is eps·m·n with m = sqrt(2/pi) for unit-variance weights: 0.1·0.798·1e5 ≈ 7,979
    assert r["change_at_n_max"] == pytest.approx(
        0.1 * (2 / 3.141592653589793) ** 0.5 * 1e5, rel=0.01
    )


def test_eight_bit_storage_discards_changes_below_half_a_level_C2(runs):
    r = runs[0.25]
    assert r["first_changing_eps"] == pytest.approx(0.5 / 255)
    assert r["largest_move_below_precision"] == 1.0


def test_claims_table_checks_c1_and_c2_with_both_verdicts(runs):
    rows = runs[0.1]["claims"]
    assert [row["claim"] for row in rows] == ["C1", "C1", "C2"]
    assert all(row["verdict"] == "holds" for row in rows)
    # the slope is the paper's number within 2%; C2's 1/255 and our 1/510 are not comparable
    assert [row["reproduced"] for row in rows] == ["no number", "reproduced", "not comparable"]
    assert rows[1]["ours_value"] == pytest.approx(runs[0.1]["growth_slope"])
    assert rows[2]["ours_value"] == pytest.approx(0.5 / 255)
