"""advlib.book.runner: chapter parameters are read, checked and rejected with a clear error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from papermill.translators import PythonTranslator

from advlib.book.runner import (
    ParameterError,
    chapter_notebook,
    chapter_parameters,
    check_parameters,
    run_chapter,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py"))
LINEAR = ROOT / "chapters" / "03_linear_explanation.py"

CHOICE = """# %% tags=["parameters"]
from typing import Literal

scale: Literal["quick", "paper"] = "quick"  # how much to train
eps: float = 0.25  # radius

# %%
from advlib.book import record

record({"scale_seen": scale, "eps_seen": eps})
"""


def choice_chapter(folder: Path, text: str = CHOICE) -> Path:
    path = folder / "choice.py"
    path.write_text(text)
    return path


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_declares_annotated_parameters_that_papermill_reads_alike(chapter):
    ours = chapter_parameters(chapter)
    assert ours, f"{chapter.name} has no cell tagged 'parameters'"
    for p in ours.values():
        assert p.type in ("bool", "int", "float", "str", "list", "dict"), p
        assert p.help, f"{chapter.name}: parameter {p.name} has no help comment"
        if p.choices is not None:
            assert p.default in p.choices and all(type(c) is type(p.default) for c in p.choices)
    # papermill --help-notebook must show the same names, types and help. Its line regex
    # cannot read a quoted Literal[...] annotation and drops the line (papermill still injects
    # such a parameter: injection appends assignments, it needs no parsing), so exactly the
    # Literal parameters are missing from its list.
    cell = next(c for c in chapter_notebook(chapter).cells if "parameters" in c.metadata.tags)
    theirs = {p.name: p for p in PythonTranslator.inspect(cell)}
    assert list(theirs) == [name for name, p in ours.items() if p.choices is None]
    for name, p in theirs.items():
        assert p.inferred_type_name == ours[name].type and p.help == ours[name].help


def test_parameters_of_the_linear_chapter():
    params = chapter_parameters(LINEAR)
    assert params["eps"].type == "float" and params["eps"].default == 0.25
    assert params["seed"].type == "int" and params["backend"].default == "auto"
    assert params["backend"].choices == ("auto", "numpy", "cupy")


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"eps": "0.1"}, {"eps": 0.1}),
        ({"eps": 1}, {"eps": 1.0}),
        ({"seed": "3", "backend": "numpy"}, {"seed": 3, "backend": "numpy"}),
    ],
)
def test_values_parse_as_the_type_of_the_default(values, expected):
    assert check_parameters(LINEAR, values) == expected


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epz": "0.1"}, r"has no parameter 'epz'\. Its parameters are:\n  eps: float = 0.25"),
        ({"eps": "abc"}, r"parameter eps must be a float \(default 0.25\), got 'abc'"),
        ({"seed": "1.5"}, r"parameter seed must be a int"),
        ({"seed": True}, r"parameter seed must be a int"),
        (
            {"backend": "torch"},
            r"parameter backend must be one of 'auto', 'numpy', 'cupy', got 'torch'",
        ),
    ],
)
def test_unknown_names_and_bad_values_are_rejected_with_the_parameter_list(values, message):
    with pytest.raises(ParameterError, match=message) as info:
        check_parameters(LINEAR, values)
    assert "max_exponent: int = 6" in str(info.value)  # the whole list is shown


def test_command_line_rejects_an_unknown_parameter_before_running(tmp_path):
    out = tmp_path / "never.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "advlib", "run", str(LINEAR), "-p", "epz", "0.1", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "has no parameter 'epz'" in proc.stderr and "eps: float = 0.25" in proc.stderr
    assert not out.exists()


def test_a_parameters_cell_with_a_non_literal_is_an_error(tmp_path):
    chapter = tmp_path / "ch.py"
    chapter.write_text('# %% tags=["parameters"]\neps: float = 1 / 4  # radius\n')
    with pytest.raises(ParameterError, match="default of parameter eps is not a literal"):
        chapter_parameters(chapter)


# --- Literal[...] choices ----------------------------------------------------------------


def test_a_literal_annotation_gives_the_choices_and_the_type_of_its_default(tmp_path):
    params = chapter_parameters(choice_chapter(tmp_path))
    assert list(params) == ["scale", "eps"]  # the typing import is not a parameter
    assert params["scale"].choices == ("quick", "paper") and params["scale"].type == "str"
    assert params["scale"].describe() == (
        "scale: Literal['quick', 'paper'] = 'quick'  # how much to train"
    )
    assert params["eps"].choices is None


@pytest.mark.parametrize(
    "value, message",
    [
        ("Paper", r"parameter scale must be one of 'quick', 'paper', got 'Paper'"),
        ("", r"parameter scale must be one of 'quick', 'paper', got ''"),
        (1, r"parameter scale must be a str"),
    ],
)
def test_a_value_outside_the_literal_choices_is_rejected(tmp_path, value, message):
    with pytest.raises(ParameterError, match=message) as info:
        check_parameters(choice_chapter(tmp_path), {"scale": value})
    assert "scale: Literal['quick', 'paper'] = 'quick'" in str(info.value)


def test_a_literal_choice_is_accepted_as_given(tmp_path):
    assert check_parameters(choice_chapter(tmp_path), {"scale": "paper"}) == {"scale": "paper"}


@pytest.mark.parametrize(
    "line, message",
    [
        (
            'scale: Literal["quick", "paper"] = "fast"  # x',
            r"the default of scale, 'fast', is not one",
        ),
        (
            'scale: Literal["quick", QUICK] = "quick"  # x',
            r"the Literal values of scale are not literals",
        ),
    ],
)
def test_a_literal_parameter_badly_declared_is_an_error(tmp_path, line, message):
    text = f'# %% tags=["parameters"]\nfrom typing import Literal\n\n{line}\n'
    with pytest.raises(ParameterError, match=message):
        chapter_parameters(choice_chapter(tmp_path, text))


def test_any_other_import_in_the_parameters_cell_is_an_error(tmp_path):
    text = '# %% tags=["parameters"]\nimport os\n\neps: float = 0.25  # radius\n'
    with pytest.raises(ParameterError, match="line 1 of the parameters cell is not"):
        chapter_parameters(choice_chapter(tmp_path, text))


@pytest.mark.slow
def test_papermill_injects_a_literal_choice_that_the_chapter_then_sees(tmp_path):
    results = run_chapter(
        choice_chapter(tmp_path), tmp_path / "out.ipynb", {"scale": "paper", "eps": "0.1"}
    )
    assert results == {"scale_seen": "paper", "eps_seen": 0.1}


CLAIMING = """# %% tags=["parameters"]
error: float = 0.01  # the test error found

# %%
from advlib.book.results import Claim, at_most, claims_table

claims_table("01_claiming", [Claim("C4", "error", 0.0094, error, at_most(0.012), n=10_000)])
"""


@pytest.mark.slow
def test_run_leaves_the_books_stored_claims_alone_unless_asked(tmp_path):
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_claiming\n"
    )
    chapter = book / "chapters" / "01_claiming.py"
    chapter.write_text(CLAIMING)
    stored = book / "_build" / "results" / "quick" / "01_claiming.json"
    env = {k: v for k, v in os.environ.items() if k != "ADVLIB_RESULTS"}  # the book's default

    def run(*flags: str) -> None:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "advlib",
                "run",
                str(chapter),
                "-p",
                "error",
                "0.02",
                "-o",
                str(tmp_path / "out.ipynb"),
                *flags,
            ],
            capture_output=True,
            text=True,
            cwd=book,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        assert "C4: error: paper 0.9%, ours 2.0% -> differs" in proc.stdout

    run()
    assert not stored.exists()  # a run to look at something does not change the summary's input
    run("--store-claims")
    assert json.loads(stored.read_text())[0]["ours_value"] == 0.02
