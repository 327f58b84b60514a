"""The book builds: cached for readers (a rebuild executes nothing), papermill + -W for CI."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from papermill.exceptions import PapermillExecutionError

from advlib.book.build import execute_chapters, render_executed, toc_chapters, toc_stems
from advlib.book.results import read_records

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def small_book(tmp_path: Path, extra_chapter: str | None = None) -> Path:
    """A copy of the book with only chapter 3 (and optionally one more chapter)."""
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    for name in ("_config.yml", "references.bib", "references.md", "api.md"):
        shutil.copy(ROOT / name, book / name)
    # the book's intro links to chapters this copy leaves out
    (book / "intro.md").write_text("# A small copy of the book\n\nChapter 3 only.\n")
    shutil.copytree(ROOT / "_static", book / "_static")
    shutil.copy(ROOT / "chapters" / "03_linear_explanation.py", book / "chapters")
    files = ["chapters/03_linear_explanation"]
    if extra_chapter:
        (book / "chapters" / "99_extra.py").write_text(extra_chapter)
        files.append("chapters/99_extra")
    toc = "format: jb-book\nroot: intro\nchapters:\n" + "".join(
        f"  - file: {f}\n" for f in files + ["api", "references"]
    )
    (book / "_toc.yml").write_text(toc)
    return book


def jupyter_book(book: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from jupyter_book.cli.main import main; main()",
            "build",
            str(book),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=book,
    )


def test_a_rebuild_with_nothing_changed_executes_no_chapter(tmp_path):
    book = small_book(tmp_path)
    first = jupyter_book(book, "-W")
    assert first.returncode == 0, first.stdout[-3000:]
    assert "Executing notebook" in first.stdout
    assert (book / "_build" / "html" / "chapters" / "03_linear_explanation.html").is_file()
    (book / "chapters" / "03_linear_explanation.py").touch()  # Sphinx re-reads the page ...
    second = jupyter_book(book, "-W")
    assert second.returncode == 0, second.stdout[-3000:]
    assert "Using cached notebook" in second.stdout  # ... and jupyter-cache serves it
    assert "Executing notebook" not in second.stdout


def test_papermill_executes_then_renders_cleanly_with_warnings_as_errors(tmp_path):
    book = small_book(tmp_path)
    assert [p.name for p in toc_chapters(book)] == ["03_linear_explanation.py"]
    assert toc_stems(book) == ["03_linear_explanation"]
    execute_chapters(book)
    assert "change_at_n_max" in read_records(book / "chapters" / "03_linear_explanation.ipynb")
    assert list((book / "_build" / "executing").iterdir()) == []  # moved into chapters/
    assert render_executed(book) == 0
    html = (book / "_build" / "html" / "chapters" / "03_linear_explanation.html").read_text()
    assert 'class="advlib-claims' in html and "advlib-chart" in html
    assert "Goodfellow" in html  # the citation resolved


def test_a_chapter_that_raises_fails_the_papermill_build(tmp_path):
    raising = (
        '# %% tags=["parameters"]\nx: int = 1  # a value\n\n# %%\nraise RuntimeError("boom")\n'
    )
    book = small_book(tmp_path, extra_chapter=raising)
    with pytest.raises(PapermillExecutionError, match="boom"):
        execute_chapters(book)
    # the notebook that raised is kept where the build puts it: it shows the failing cell
    failed = (book / "chapters" / "99_extra.ipynb").read_text()
    assert "RuntimeError" in failed and "boom" in failed


SLOW = """# %% tags=["parameters"]
mark: str = "first"  # which build

# %%
import time

from advlib.book import record

record({"mark": mark})
time.sleep(2)
record({"done": True})
"""


def test_a_build_killed_mid_chapter_keeps_the_previous_notebook_whole(tmp_path):
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "chapters" / "01_slow.py").write_text(SLOW)
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_slow\n"
    )
    executed = book / "chapters" / "01_slow.ipynb"
    execute_chapters(book, {"mark": "first"})
    assert read_records(executed) == {"mark": "first", "done": True}
    code = (
        "import sys; from pathlib import Path; from advlib.book.build import execute_chapters;"
        " execute_chapters(Path(sys.argv[1]), {'mark': 'second'})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(book)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    partial = book / "_build" / "executing" / "01_slow.ipynb"
    deadline = time.monotonic() + 120
    while not (partial.is_file() and '"second"' in partial.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # papermill has saved the first cell's output, not the last
    proc.wait(timeout=60)
    assert read_records(executed) == {"mark": "first", "done": True}  # the old one, whole
    execute_chapters(book, {"mark": "second"})
    assert read_records(executed) == {"mark": "second", "done": True}


def test_a_broken_citation_fails_the_strict_render(tmp_path):
    broken = (
        "# %% [markdown]\n# # Extra\n# As {cite:t}`nobody2099` said.\n\n"
        '# %% tags=["parameters"]\nx: int = 1  # a value\n'
    )
    book = small_book(tmp_path, extra_chapter=broken)
    execute_chapters(book)
    assert render_executed(book) != 0
