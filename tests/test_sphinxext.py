"""The Sphinx extension's rebuild rule: a re-read chapter makes the summary run again."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from jupyter_cache import get_cache

from advlib.book.sphinxext import _summary_follows_chapters

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


def test_a_change_to_advlib_drops_every_cached_output_and_re_reads_every_chapter(
    tmp_path, monkeypatch
):
    from advlib.book import sphinxext

    app, env, cache = _book(tmp_path)
    folder = tmp_path / "jupyter_cache"
    monkeypatch.setattr(sphinxext, "advlib_digest", lambda: "a" * 64)
    # outputs cached before any digest was stored: their advlib is unknown, so they go
    assert sphinxext._chapters_follow_advlib(app, env, set(), set(), set()) == [
        "chapters/03_linear",
        SUMMARY,
    ]
    assert _cached(get_cache(folder)) == set()
    assert (folder / "advlib.sha256").read_text().strip() == "a" * 64
    # cached again with the same advlib: nothing to do
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(3)", execution_count=1)])
    nbformat.write(nb, tmp_path / "chapters" / "03_linear.ipynb")
    get_cache(folder).cache_notebook_file(
        str(tmp_path / "chapters" / "03_linear.ipynb"), check_validity=False
    )
    assert sphinxext._chapters_follow_advlib(app, env, set(), set(), set()) == []
    assert _cached(get_cache(folder)) == {"03_linear.ipynb"}
    # advlib edited: every chapter again
    monkeypatch.setattr(sphinxext, "advlib_digest", lambda: "b" * 64)
    assert len(sphinxext._chapters_follow_advlib(app, env, set(), set(), set())) == 2
    assert _cached(get_cache(folder)) == set()


def test_the_advlib_digest_follows_what_chapters_execute(tmp_path):
    from advlib.book.sphinxext import CHAPTER_MODULES, advlib_digest

    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    (tmp_path / "notes.txt").write_text("not source")
    (tmp_path / "book").mkdir()
    for name in (*CHAPTER_MODULES, "sweep.py", "runner.py"):
        (tmp_path / "book" / name).write_text(f"# {name}\n")
    first = advlib_digest(tmp_path)
    (tmp_path / "notes.txt").write_text("still not source")
    (tmp_path / "book" / "sweep.py").write_text("# the machinery: no chapter runs it\n")
    assert advlib_digest(tmp_path) == first
    (tmp_path / "b.py").write_text("y = 3\n")  # the science
    second = advlib_digest(tmp_path)
    assert second != first
    (tmp_path / "book" / "results.py").write_text("# claims tables changed\n")  # chapters run it
    assert advlib_digest(tmp_path) not in (first, second)
    # a file renamed with the same content is another source
    (tmp_path / "b.py").rename(tmp_path / "c.py")
    assert advlib_digest(tmp_path) != second


@pytest.mark.slow  # vl-convert builds the 1.6 MB bundle: seconds
def test_the_vega_bundle_is_written_once_per_version_and_a_torn_copy_is_replaced(tmp_path):
    from advlib.book.sphinxext import BUNDLE, write_vega_bundle

    bundle = write_vega_bundle(tmp_path)
    assert bundle == tmp_path / BUNDLE
    text = bundle.read_text(encoding="utf-8")
    assert text.startswith("/* vega ") and text.rstrip().endswith("})();")
    mtime = bundle.stat().st_mtime_ns
    assert write_vega_bundle(tmp_path).stat().st_mtime_ns == mtime  # this version's: kept
    for torn in (
        text[: len(text) // 3],  # cut short, its header intact
        text.replace("/* vega", "/* vega 0.1", 1),
    ):  # another version's
        bundle.write_text(torn, encoding="utf-8")
        write_vega_bundle(tmp_path)
        assert bundle.read_text(encoding="utf-8") == text
    assert [p.name for p in tmp_path.iterdir()] == [BUNDLE]  # no temporary left


def test_the_mathjax_copy_is_the_wheels_file_and_a_truncated_copy_is_replaced(tmp_path):
    import importlib.resources

    from advlib.book.sphinxext import MATHJAX, copy_mathjax

    target = copy_mathjax(tmp_path)
    if target is None:
        pytest.skip("django-static-mathjax is not installed")
    source = importlib.resources.files("mathjax") / "static/mathjax/es5/tex-svg-full.js"
    assert target == tmp_path / MATHJAX and target.read_bytes() == source.read_bytes()
    target.write_bytes(source.read_bytes()[:1000])  # a copy cut short
    copy_mathjax(tmp_path)
    assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
