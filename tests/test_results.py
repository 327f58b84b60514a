"""advlib.book.results: recorded numbers read back from executed notebooks; the two verdicts of a
claims row (the paper's rule, and whether its number is reproduced); the claims store."""

from __future__ import annotations

import json
import math

import nbformat
import pytest
from nbclient import NotebookClient

from advlib.book import results
from advlib.book.build import toc_stems
from advlib.book.results import Claim, at_least, at_most, claims_html, when, within


def test_record_reads_back_from_an_executed_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\nfrom advlib.book import record\n"
            "record({'error': np.float32(0.25), 'counts': [1, 2, 3], 'note': 'holds',\n"
            "        'table': {'a': np.int64(4)}, 'missing': float('nan')})"
        )
    ]
    NotebookClient(
        nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    found = results.read_records(nb)
    assert found == {
        "error": 0.25,
        "counts": [1, 2, 3],
        "note": "holds",
        "table": {"a": 4},
        "missing": None,
    }
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, str(path))
    assert results.read_records(path) == found
    # the glue output is what MyST-NB's {glue:text} role reads
    output = nb.cells[0].outputs[0]
    assert output.metadata["scrapbook"]["name"] == "error"
    assert output.data[results.GLUE_PREFIX + "text/plain"] == "0.25"


def test_record_outside_a_notebook_keeps_the_values_in_memory():
    assert results.record({"in_memory_value": 3, "in_memory_text": "x"}) is None
    assert results.records()["in_memory_value"] == 3
    assert results.records()["in_memory_text"] == "x"


@pytest.mark.parametrize("name", ["", "9lives", "has space", None])
def test_record_rejects_bad_names(name):
    with pytest.raises(ValueError, match="record: a name must start with a letter"):
        results.record({name: 1})


def test_record_takes_a_dict_and_says_so():
    with pytest.raises(TypeError, match=r"record: takes a dict of name → value, got str"):
        results.record("error")  # the old record(name, value) form


def test_record_rejects_values_that_are_not_json_and_records_none_of_the_dict():
    with pytest.raises(TypeError, match="got object"):
        results.record({"fine_value": 1.0, "thing": object()})
    assert "fine_value" not in results.records()  # checked before anything is recorded


def test_record_paper_records_every_number_of_a_claim():
    # the paper's own numbers: Sec. 4, maxout on MNIST at eps .25 is wrong on 89.4% with 97.6%
    # mean confidence; Sec. 6 trains with alpha .5 at eps .25. The section and the claim's
    # words are not numbers, so they are not recorded.
    numbers = results.record_paper("C5", "C13")
    assert numbers == {
        "paper_C5_eps": 0.25,
        "paper_C5_error": 0.894,
        "paper_C5_confidence": 0.976,
        "paper_C13_alpha": 0.5,
        "paper_C13_eps": 0.25,
    }
    assert results.records()["paper_C5_error"] == 0.894
    assert results.records()["paper_C13_alpha"] == 0.5
    with pytest.raises(ValueError, match="record_paper: no claim C99"):
        results.record_paper("C99")


# --- the direction verdict ---------------------------------------------------------------


@pytest.mark.parametrize(
    "rule, ours, paper, verdict",
    [
        (within(0.05), 0.93, 0.894, "holds"),
        (within(0.05), 0.95, 0.894, "differs"),
        (at_least(0.9), 0.91, 0.999, "holds"),
        (at_least(0.9), 0.89, 0.999, "differs"),
        (at_most(0.05), 0.06, 0.0, "differs"),
        (at_most(0.05), 0.04, 0.0, "holds"),
        (when(True, "A > B"), 0.3, 0.2, "holds"),
        (when(False, "A > B"), 0.3, 0.2, "differs"),
        (None, None, 0.5, "not run"),
        (within(0.05), None, 0.5, "not run"),
    ],
)
def test_claim_verdict_follows_its_rule(rule, ours, paper, verdict):
    assert Claim("C4", "error", paper, ours, rule, n=10_000).verdict == verdict


def test_claim_shows_rates_as_percentages_and_the_rule_in_words():
    row = Claim("C5", "FGSM error", 0.894, 0.9712, within(0.05), why="5k digits", n=10_000).as_row(
        "04_fgsm"
    )
    assert row["paper"] == "89.4%" and row["ours"] == "97.1%"
    assert row["rule"] == "|ours − paper| ≤ 5 points" and row["verdict"] == "differs"
    assert row["chapter"] == "04_fgsm" and row["why"] == "5k digits"


# --- the second verdict: is the paper's number reproduced? --------------------------------


@pytest.mark.parametrize(
    "ours, reproduced",
    [
        (0.0094, "reproduced"),
        (0.0100, "reproduced"),  # 0.06 points above: within 2 SE (0.19 points)
        (0.0112, "reproduced"),  # 0.18 points above
        (0.0114, "not reproduced"),  # 0.20 points above
        (0.0074, "not reproduced"),  # 0.20 points below
        (0.0140, "not reproduced"),
        (0.0400, "not reproduced"),  # the quick scale's maxout
    ],
)
def test_a_rate_is_reproduced_within_two_standard_errors_of_the_papers(ours, reproduced):
    # the maxout net's 0.94% test error (C4) measured on 10,000 digits: SE = sqrt(p(1-p)/n)
    claim = Claim("C4", "maxout test error", 0.0094, ours, at_most(0.012), n=10_000)
    assert claim.tolerance == pytest.approx(2 * math.sqrt(0.0094 * 0.9906 / 10_000))
    assert claim.tolerance == pytest.approx(0.00193, abs=1e-5)
    assert claim.reproduced == reproduced
    assert claim.as_row("04")["tolerance"] == "±0.19 points (2 SE, n = 10,000)"


def test_the_tolerance_widens_on_fewer_test_examples():
    # 1.4% against 0.94% misses on 10,000 digits but is within 2 SE on 1,000
    assert Claim("C4", "e", 0.0094, 0.014, None, n=10_000).reproduced == "not reproduced"
    few = Claim("C4", "e", 0.0094, 0.014, None, n=1_000)
    assert few.tolerance == pytest.approx(0.0061, abs=1e-4) and few.reproduced == "reproduced"


def test_a_rate_the_paper_gives_as_zero_still_gets_a_tolerance_of_one_example():
    claim = Claim("C10", "error", 0.0, 0.0015, None, n=1_000)
    assert claim.tolerance == pytest.approx(2 / 1_000)  # p(1-p) floored at 1/n
    assert claim.reproduced == "reproduced"
    assert Claim("C10", "error", 0.0, 0.0025, None, n=1_000).reproduced == "not reproduced"


def test_a_quantity_that_is_not_a_rate_uses_its_relative_tolerance():
    claim = Claim("C8", "slope", 2.0, 2.15, None, pct=False, rel=0.1)
    assert claim.tolerance == pytest.approx(0.2) and claim.reproduced == "reproduced"
    assert Claim("C8", "slope", 2.0, 1.75, None, pct=False, rel=0.1).reproduced == "not reproduced"
    assert claim.as_row("05")["tolerance"] == "±10% of the paper's"


def test_a_row_at_another_setting_than_the_papers_is_not_comparable():
    # an FGSM error at eps = .1 set against the paper's number at eps = .25
    claim = Claim("C5", "FGSM error at eps .1", 0.894, 0.894, at_least(0.5), comparable=False)
    assert claim.reproduced == "not comparable" and claim.verdict == "holds"
    assert claim.as_row("04")["tolerance"] == ""


@pytest.mark.parametrize(
    "paper, ours, reproduced",
    [
        ("PGD ≥ FGSM", 0.97, "no number"),  # the paper states a direction, no number
        (0.894, "97%", "no number"),
        (0.894, None, "not run"),
    ],
)
def test_rows_without_two_numbers_say_why_there_is_no_second_verdict(paper, ours, reproduced):
    assert Claim("C5", "q", paper, ours, None, n=10_000).reproduced == reproduced


def test_a_row_with_the_papers_number_and_no_tolerance_is_refused():
    with pytest.raises(
        ValueError,
        match=r"Claim C4 \(error\): a row with the paper's number "
        "needs a tolerance",
    ):
        Claim("C4", "error", 0.0094, 0.012, at_most(0.012))


# --- stored claims ------------------------------------------------------------------------


def test_claims_tables_are_stored_per_scale_for_the_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path))
    results.claims_table(
        "05_linear",
        [Claim("C10", "error", 0.99, 0.97, at_least(0.9), n=1000)],
        context="embedded digits",
    )
    results.claims_table(
        "04_fgsm",
        [
            Claim("C5", "error", 0.894, 0.5, at_least(0.8), n=1000),
            Claim("C4", "error", 0.999, 1.0, at_least(0.9), n=1000),
        ],
    )
    results.claims_table(
        "04_fgsm",
        [Claim("C5", "error", 0.894, 0.9, at_least(0.8), n=10_000)],
        scale="paper",
        context="full MNIST",
    )
    rows = results.load_claims(tmp_path, scale="quick")
    assert [r["claim"] for r in rows] == ["C4", "C5", "C10"]  # numeric claim order
    assert [r["verdict"] for r in rows] == ["holds", "differs", "holds"]
    assert [r["reproduced"] for r in rows] == ["reproduced", "not reproduced", "not reproduced"]
    assert rows[2]["context"] == "embedded digits" and rows[2]["scale"] == "quick"
    paper = results.load_claims(tmp_path, scale="paper")
    assert [(r["claim"], r["ours"], r["reproduced"]) for r in paper] == [
        ("C5", "90.0%", "reproduced")
    ]
    assert len(results.load_claims(tmp_path)) == 4  # every scale
    stored = json.loads((tmp_path / "quick" / "04_fgsm.json").read_text())
    assert [r["claim"] for r in stored] == ["C5", "C4"]
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary left


def test_load_claims_leaves_out_chapters_not_in_the_book(tmp_path):
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    for stem in ("03_linear", "04_fgsm", "99_dropped"):
        (book / "chapters" / f"{stem}.py").write_text("# %%\n")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n"
        "  - file: chapters/03_linear\n  - file: chapters/04_fgsm\n"
    )
    store = tmp_path / "results" / "quick"
    store.mkdir(parents=True)
    for stem, claim in (("03_linear", "C1"), ("04_fgsm", "C4"), ("99_dropped", "C2")):
        (store / f"{stem}.json").write_text(json.dumps([{"claim": claim, "chapter": stem}]))
    assert toc_stems(book) == ["03_linear", "04_fgsm"]
    rows = results.load_claims(tmp_path / "results", chapters=toc_stems(book))
    assert [r["claim"] for r in rows] == ["C1", "C4"]
    assert [r["claim"] for r in results.load_claims(tmp_path / "results")] == ["C1", "C2", "C4"]


def test_a_corrupt_claims_file_is_a_clear_error(tmp_path):
    (tmp_path / "quick").mkdir()
    (tmp_path / "quick" / "04_fgsm.json").write_text('[{"claim": "C4"')
    with pytest.raises(ValueError, match="04_fgsm.json is not a readable claims file"):
        results.load_claims(tmp_path)


def test_results_off_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLIB_RESULTS", "off")
    assert results.results_dir() is None
    monkeypatch.chdir(tmp_path)
    results.claims_table("04_fgsm", [Claim("C4", "error", 0.0094, 0.01, None, n=10_000)])
    assert list(tmp_path.iterdir()) == []


def test_claims_html_shows_both_verdicts_lets_words_wrap_and_keeps_numbers_on_one_line():
    rows = [
        {
            "claim": "B1",
            "quantity": "PGD error",
            "paper": "PGD ≥ FGSM (Madry et al. 2018)",
            "ours": "97.9%",
            "verdict": "holds",
            "rule": "PGD error ≥ FGSM error",
            "reproduced": "no number",
            "tolerance": "",
            "why": "",
        },
        Claim("C4", "error", 0.0094, 0.014, at_most(0.02), n=10_000).as_row("04"),
    ]
    html = claims_html(rows)
    assert '<td class="advlib-wordy">PGD ≥ FGSM (Madry et al. 2018)</td>' in html
    assert "<td>97.9%</td>" in html and "<td>1.4%</td>" in html
    assert '<span class="advlib-verdict advlib-holds">holds</span>' in html
    assert '<span class="advlib-verdict advlib-no-number">no number</span>' in html
    assert '<span class="advlib-verdict advlib-not-reproduced">not reproduced</span>' in html
    assert "<th>Paper&#x27;s number</th>" in html and "±0.19 points (2 SE, n = 10,000)" in html
