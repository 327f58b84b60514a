"""Chapters are prose plus a few calls (CONTRIBUTING.md, item 9): per chapter, code lines at
most prose lines, no code cell over 30 lines, no function defined in a chapter, and no cell
that only records values shown to readers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("[0-9]*.py"))
LONGEST = 30


def cells(path: Path) -> list[tuple[str, list[str]]]:
    """(header, non-blank lines) of every cell after the jupytext header."""
    parts = re.split(r"^# %%", path.read_text(encoding="utf-8"), flags=re.M)[1:]
    out = []
    for part in parts:
        header, _, body = part.partition("\n")
        out.append((header, [line for line in body.splitlines() if line.strip()]))
    return out


def shape(path: Path) -> dict:
    code = prose = longest = functions = 0
    for header, lines in cells(path):
        if "[markdown]" in header:
            prose += len(lines)
            continue
        code += len(lines)
        longest = max(longest, len(lines))
        tree = ast.parse("\n".join(lines))
        functions += sum(
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            for n in ast.walk(tree)
        )
    return {"code": code, "prose": prose, "longest": longest, "functions": functions}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_prose_plus_a_few_calls(path):
    s = shape(path)
    assert s["code"] <= s["prose"], f"{path.name}: {s['code']} code lines, {s['prose']} prose"
    assert s["longest"] <= LONGEST, f"{path.name}: a code cell of {s['longest']} lines"
    assert s["functions"] == 0, f"{path.name}: defines {s['functions']} function(s)"


def _only_records(lines: list[str]) -> bool:
    source = "\n".join(lines)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    calls = [n.value for n in tree.body if isinstance(n, ast.Expr)]
    return (
        bool(tree.body)
        and len(calls) == len(tree.body)
        and all(
            isinstance(c, ast.Call) and getattr(c.func, "id", "") in ("record", "record_paper")
            for c in calls
        )
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_cells_that_only_record_are_not_shown(path):
    for header, lines in cells(path):
        if "[markdown]" not in header and _only_records(lines):
            assert "remove-cell" in header or "remove-input" in header, (
                f"{path.name}: a cell that only records values is shown: {lines[0]!r}"
            )


def test_the_shape_counts_what_it_says(tmp_path):
    chapter = tmp_path / "99_x.py"
    chapter.write_text(
        "# header\n\n# %% [markdown]\n# one\n# two\n\n# %%\ndef f():\n"
        '    return 1\n\n# %% tags=["remove-cell"]\nrecord({"a": 1})\n'
    )
    assert shape(chapter) == {"code": 3, "prose": 2, "longest": 2, "functions": 1}
    assert _only_records(['record({"a": 1})', 'record_paper("C4")'])
    assert not _only_records(["x = 1", 'record({"a": x})'])
