"""advlib.book.results: recorded numbers read back from executed notebooks; verdict rules; claims store."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from advlib.book import results
from advlib.book.results import Claim, at_least, at_most, when, within


def test_record_reads_back_from_an_executed_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\nfrom advlib.book import record\n"
        "record('error', np.float32(0.25))\nrecord('counts', [1, 2, 3])\n"
        "record('note', 'holds')\nrecord('table', {'a': np.int64(4)})"
    )]
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    found = results.read_records(nb)
    assert found == {"error": 0.25, "counts": [1, 2, 3], "note": "holds", "table": {"a": 4}}
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, str(path))
    assert results.read_records(path) == found
    # the glue output is what MyST-NB's {glue:text} role reads
    output = nb.cells[0].outputs[0]
    assert output.metadata["scrapbook"]["name"] == "error"
    assert output.data[results.GLUE_PREFIX + "text/plain"] == "0.25"


def test_record_outside_a_notebook_keeps_the_value_in_memory():
    assert results.record("in_memory_value", 3) is None  # nothing shown when it ends a cell
    assert results.records()["in_memory_value"] == 3


@pytest.mark.parametrize("name", ["", "9lives", "has space", None])
def test_record_rejects_bad_names(name):
    with pytest.raises(ValueError, match="record: name must"):
        results.record(name, 1)


def test_record_rejects_values_that_are_not_json():
    with pytest.raises(TypeError, match="got object"):
        results.record("thing", object())


@pytest.mark.parametrize("rule, ours, paper, verdict", [
    (within(0.05), 0.93, 0.894, "holds"),
    (within(0.05), 0.95, 0.894, "differs"),
    (at_least(0.9), 0.91, 0.999, "holds"),
    (at_least(0.9), 0.89, 0.999, "differs"),
    (at_most(0.05), 0.06, 0.0, "differs"),
    (when(True, "A > B"), 0.3, 0.2, "holds"),
    (when(False, "A > B"), 0.3, 0.2, "differs"),
    (None, None, 0.5, "not run"),
    (within(0.05), None, 0.5, "not run"),
])
def test_claim_verdict_follows_its_rule(rule, ours, paper, verdict):
    assert Claim("C4", "error", paper, ours, rule).verdict == verdict


def test_claim_shows_rates_as_percentages_and_the_rule_in_words():
    row = Claim("C5", "FGSM error", 0.894, 0.9712, within(0.05), why="5k digits").as_row("04_fgsm")
    assert row["paper"] == "89.4%" and row["ours"] == "97.1%"
    assert row["rule"] == "|ours − paper| ≤ 5 points" and row["verdict"] == "differs"
    assert row["chapter"] == "04_fgsm" and row["why"] == "5k digits"


def test_claims_table_stores_rows_for_the_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLIB_RESULTS", str(tmp_path))
    results.claims_table("05_linear", [Claim("C10", "error", 0.99, 0.97, at_least(0.9))])
    results.claims_table("04_fgsm", [Claim("C5", "error", 0.894, 0.5, at_least(0.8)),
                                     Claim("C4", "error", 0.999, 1.0, at_least(0.9))])
    rows = results.load_claims(tmp_path)
    assert [r["claim"] for r in rows] == ["C4", "C5", "C10"]  # numeric claim order
    assert [r["verdict"] for r in rows] == ["holds", "differs", "holds"]
    assert json.loads((tmp_path / "04_fgsm.json").read_text())[0]["claim"] == "C5"


def test_a_corrupt_claims_file_is_a_clear_error(tmp_path):
    (tmp_path / "04_fgsm.json").write_text('[{"claim": "C4"')
    with pytest.raises(ValueError, match="04_fgsm.json is not a readable claims file"):
        results.load_claims(tmp_path)


def test_results_off_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLIB_RESULTS", "off")
    assert results.results_dir() is None


def test_claims_html_lets_a_paper_value_in_words_wrap_and_keeps_numbers_on_one_line():
    from advlib.book.results import claims_html

    rows = [{"claim": "B1", "quantity": "PGD error", "paper": "PGD ≥ FGSM (Madry et al. 2018)",
             "ours": "97.9%", "verdict": "holds", "rule": "PGD error ≥ FGSM error", "why": ""}]
    html = claims_html(rows)
    assert '<td class="advlib-wordy">PGD ≥ FGSM (Madry et al. 2018)</td>' in html
    assert "<td>97.9%</td>" in html
    assert '<span class="advlib-verdict advlib-holds">holds</span>' in html
