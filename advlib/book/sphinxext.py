"""Sphinx extension: the book's pages work with no network.

- Interactive charts: vl-convert ships Vega, Vega-Lite and vega-embed as one JavaScript bundle.
  It is written (atomically, as every file here) once per vl-convert version to
  ``_build/advlib_static/advlib-vega.js``, wrapped in a function scope (its top-level names,
  such as ``_``, would otherwise clash with the theme's scripts), served from the site's
  ``_static/`` and loaded in every page's head, before the charts' inline scripts run.
- Mathematics: MathJax 3 (``tex-svg-full.js``, all TeX extensions, SVG output so no web fonts)
  from the ``django-static-mathjax`` wheel is served from ``_static/mathjax/`` instead of a CDN.
- Thebe: jupyter-book always loads ``sphinx_thebe``, which puts a CDN address and a
  ``const THEBE_JS_URL`` declaration (twice: a console error) in every page even with the
  launch button off. With ``launch_buttons: {thebe: false}`` its handlers and stylesheet are
  removed, so no page mentions thebe.
- The summary page (``advlib_summary``, by default ``chapters/11_summary``) collects the claims
  tables the chapters stored when they ran; it is read last, so a cold build executes it after
  every chapter, those numbered after it too. When a rebuild re-reads any chapter, the summary is
  re-read too and its jupyter-cache record dropped, so it runs again after the chapters and
  never shows a stale table.
- jupyter-cache keys a chapter's outputs by its code, not by advlib's. The cache folder holds
  a digest of what chapters execute (``advlib.sha256``: the science and the book modules that
  chapters call, :data:`CHAPTER_MODULES`); when it changes, the cached outputs are dropped and
  every chapter is read and executed again (trained models stay in the model cache, which has
  keys of its own). An edit to the rest of the machinery (sweep, runner, cli) re-runs nothing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

from advlib.paths import write_atomic

BUNDLE = "advlib-vega.js"
MATHJAX = "mathjax/tex-svg-full.js"


_TRAILER = "\n})();\n"


def _write_if_changed(path: Path, header: str, make_body) -> Path:
    """Write ``header + make_body()`` unless ``path`` already starts with ``header`` and ends
    with the bundle's closing line (a copy cut short by something other than advlib is
    written again)."""
    if path.is_file() and path.stat().st_size > len(header) + len(_TRAILER):
        with open(path, "rb") as f:
            start = f.read(len(header.encode()))
            f.seek(-len(_TRAILER), 2)
            if start == header.encode() and f.read() == _TRAILER.encode():
                return path
    write_atomic(path, header + make_body())
    return path


def write_vega_bundle(folder: Path) -> Path:
    """Write the wrapped vega bundle into ``folder`` unless this vl-convert version's is there."""
    import vl_convert as vlc

    versions = (
        f"vega {vlc.get_vega_version()}, vega-lite {vlc.get_vegalite_versions()[-1]}, "
        f"vega-embed {vlc.get_vega_embed_version()}"
    )
    header = f"/* {versions}: bundled by vl-convert for advbook */\n"
    return _write_if_changed(
        folder / BUNDLE,
        header,
        lambda: "(function () {\n" + vlc.javascript_bundle() + _TRAILER,
    )


def copy_mathjax(folder: Path) -> Path | None:
    """Copy MathJax's single-file TeX-to-SVG build into ``folder``; None if not installed."""
    try:
        source = importlib.resources.files("mathjax") / "static/mathjax/es5/tex-svg-full.js"
    except ModuleNotFoundError:
        return None
    if not source.is_file():
        return None
    target = folder / MATHJAX
    if not (target.is_file() and target.stat().st_size == Path(str(source)).stat().st_size):
        write_atomic(target, source.read_bytes())  # a killed copy never leaves half a MathJax
    return target


def _thebe_wanted(config) -> bool:
    options = getattr(config, "html_theme_options", None) or {}
    return bool((options.get("launch_buttons") or {}).get("thebe"))


def _drop_thebe(app, config) -> None:
    """Disconnect sphinx_thebe's event handlers and stylesheet when the book has thebe off."""
    if _thebe_wanted(config):
        return
    for listeners in app.events.listeners.values():
        for listener in list(listeners):
            if getattr(listener.handler, "__module__", "").startswith("sphinx_thebe"):
                app.disconnect(listener.id)
    app.registry.css_files[:] = [
        (name, attrs) for name, attrs in app.registry.css_files if name != "sphinx-thebe.css"
    ]


def _on_builder_inited(app) -> None:
    folder = Path(app.outdir).parent / "advlib_static"
    write_vega_bundle(folder)
    if copy_mathjax(folder) is not None:
        app.config.mathjax_path = MATHJAX
    app.config.html_static_path.append(str(folder))


def _execution_cache(env) -> Path | None:
    """MyST-NB's jupyter-cache folder (set once the builder starts), or None."""
    folder = getattr(getattr(env, "mystnb_config", None), "execution_cache_path", "")
    return Path(folder) if folder else None


def _summary_follows_chapters(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: re-read (and re-execute) the summary when a chapter is re-read."""
    summary = app.config.advlib_summary
    if not summary or summary not in env.found_docs:
        return []
    chapters = {d for d in added | changed | removed if d.startswith("chapters/")} - {summary}
    if not chapters:
        return []
    folder = _execution_cache(env)
    if folder is not None and folder.is_dir():
        from jupyter_cache import get_cache

        source = Path(env.doc2path(summary)).resolve()
        cache = get_cache(folder)
        for record in cache.list_cache_records():
            if Path(record.uri).resolve() == source:
                cache.remove_cache(record.pk)
    return [summary]


CHAPTER_MODULES = ("results.py", "paper.py", "charts.py")
"""The book's modules that chapters execute (claims tables and verdicts, the paper's numbers,
charts): an edit to them changes a chapter's output, so they count with the science. The rest
of the machinery (runner, sweep, build, cli, this extension) never runs inside a chapter."""


def advlib_digest(folder: Path | None = None) -> str:
    """sha256 of what a chapter executes: the science (``advlib/*.py``, default folder
    ``advlib``) and :data:`CHAPTER_MODULES` of ``advlib/book``, file by file in name order."""
    science = folder or Path(__file__).resolve().parents[1]
    files = sorted(science.glob("*.py")) + [science / "book" / m for m in CHAPTER_MODULES]
    h = hashlib.sha256()
    for path in files:
        if path.is_file():
            h.update(path.relative_to(science).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


STAMP = "advlib.sha256"


def _chapters_follow_advlib(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: when advlib's source differs from the one the cached outputs were
    made with, drop them and re-read every chapter."""
    folder = _execution_cache(env)
    if folder is None:
        return []
    stamp, digest = folder / STAMP, advlib_digest()
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
        return []
    if (folder / "global.db").is_file():
        from jupyter_cache import get_cache

        get_cache(folder).clear_cache()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(stamp, digest + "\n")
    return sorted(d for d in env.found_docs if d.startswith("chapters/"))


def _summary_read_last(app, env, docnames: list[str]) -> None:
    """``env-before-read-docs``: read (and so execute) the summary after every other page, so
    that on a cold build it sees the claims of the chapters that sort after it (12, 13)."""
    summary = app.config.advlib_summary
    if summary in docnames:
        docnames.remove(summary)
        docnames.append(summary)


def setup(app):
    app.add_config_value("advlib_summary", "chapters/11_summary", "env")
    app.connect("env-before-read-docs", _summary_read_last)
    app.connect("config-inited", _drop_thebe)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("env-get-outdated", _summary_follows_chapters)
    app.connect("env-get-outdated", _chapters_follow_advlib)
    app.add_js_file(BUNDLE)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
