"""advlib.book.runner: chapter parameters are read, checked and rejected with a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from papermill.translators import PythonTranslator

from advlib.book.runner import ParameterError, chapter_notebook, chapter_parameters, check_parameters

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py"))
LINEAR = ROOT / "chapters" / "03_linear_explanation.py"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_declares_annotated_parameters_that_papermill_reads_alike(chapter):
    ours = chapter_parameters(chapter)
    assert ours, f"{chapter.name} has no cell tagged 'parameters'"
    for p in ours.values():
        assert p.type in ("bool", "int", "float", "str", "list", "dict"), p
        assert p.help, f"{chapter.name}: parameter {p.name} has no help comment"
    # papermill --help-notebook must show the same names, types and help
    cell = next(c for c in chapter_notebook(chapter).cells if "parameters" in c.metadata.tags)
    theirs = {p.name: p for p in PythonTranslator.inspect(cell)}
    assert list(theirs) == list(ours)
    for name, p in ours.items():
        assert theirs[name].inferred_type_name == p.type and theirs[name].help == p.help


def test_parameters_of_the_linear_chapter():
    params = chapter_parameters(LINEAR)
    assert params["eps"].type == "float" and params["eps"].default == 0.25
    assert params["seed"].type == "int" and params["backend"].default == "auto"


@pytest.mark.parametrize("values, expected", [
    ({"eps": "0.1"}, {"eps": 0.1}),
    ({"eps": 1}, {"eps": 1.0}),
    ({"seed": "3", "backend": "numpy"}, {"seed": 3, "backend": "numpy"}),
])
def test_values_parse_as_the_type_of_the_default(values, expected):
    assert check_parameters(LINEAR, values) == expected


@pytest.mark.parametrize("values, message", [
    ({"epz": "0.1"}, r"has no parameter 'epz'\. Its parameters are:\n  eps: float = 0.25"),
    ({"eps": "abc"}, r"parameter eps must be a float \(default 0.25\), got 'abc'"),
    ({"seed": "1.5"}, r"parameter seed must be a int"),
    ({"seed": True}, r"parameter seed must be a int"),
])
def test_unknown_names_and_bad_values_are_rejected_with_the_parameter_list(values, message):
    with pytest.raises(ParameterError, match=message) as info:
        check_parameters(LINEAR, values)
    assert "max_exponent: int = 6" in str(info.value)  # the whole list is shown


def test_command_line_rejects_an_unknown_parameter_before_running(tmp_path):
    out = tmp_path / "never.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "advlib", "run", str(LINEAR), "-p", "epz", "0.1", "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "has no parameter 'epz'" in proc.stderr and "eps: float = 0.25" in proc.stderr
    assert not out.exists()


def test_a_parameters_cell_with_a_non_literal_is_an_error(tmp_path):
    chapter = tmp_path / "ch.py"
    chapter.write_text('# %% tags=["parameters"]\neps: float = 1 / 4  # radius\n')
    with pytest.raises(ParameterError, match="default of parameter eps is not a literal"):
        chapter_parameters(chapter)
