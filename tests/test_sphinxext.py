"""The Sphinx extension's rebuild rule: a re-read chapter makes the summary run again."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
from jupyter_cache import get_cache

from advlib.sphinxext import _summary_follows_chapters

SUMMARY = "chapters/11_summary"


def _book(tmp_path: Path):
    """A jupyter-cache holding an executed summary and chapter 3, and a fake Sphinx app/env."""
    (tmp_path / "chapters").mkdir()
    cache = get_cache(tmp_path / "jupyter_cache")
    for doc, code in ((SUMMARY, "print('summary')"), ("chapters/03_linear", "print(3)")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code, execution_count=1)])
        path = tmp_path / f"{doc}.ipynb"
        nbformat.write(nb, path)
        cache.cache_notebook_file(str(path), check_validity=False)
    env = SimpleNamespace(
        found_docs={SUMMARY, "chapters/03_linear", "intro"},
        doc2path=lambda doc: str(tmp_path / f"{doc}.ipynb"),
        mystnb_config=SimpleNamespace(execution_cache_path=str(tmp_path / "jupyter_cache")),
    )
    app = SimpleNamespace(config=SimpleNamespace(advlib_summary=SUMMARY))
    return app, env, cache


def _cached(cache) -> set[str]:
    return {Path(r.uri).name for r in cache.list_cache_records()}


def test_a_changed_chapter_re_reads_the_summary_and_drops_its_cached_outputs(tmp_path):
    app, env, cache = _book(tmp_path)
    assert _cached(cache) == {"11_summary.ipynb", "03_linear.ipynb"}
    again = _summary_follows_chapters(app, env, set(), {"chapters/03_linear"}, set())
    assert again == [SUMMARY]
    assert _cached(cache) == {"03_linear.ipynb"}  # the summary executes again, after ch. 3


def test_nothing_changed_or_only_a_page_outside_the_chapters_keeps_the_summary(tmp_path):
    app, env, cache = _book(tmp_path)
    assert _summary_follows_chapters(app, env, set(), set(), set()) == []
    assert _summary_follows_chapters(app, env, set(), {"intro"}, set()) == []
    assert _summary_follows_chapters(app, env, set(), {SUMMARY}, set()) == []
    assert _cached(cache) == {"11_summary.ipynb", "03_linear.ipynb"}
