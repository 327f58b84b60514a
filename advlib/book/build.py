"""Build the book as CI does: papermill executes every chapter, then jupyter-book renders.

``python -m advlib book`` runs each chapter of ``_toc.yml`` (in order, the summary last) with
papermill into ``chapters/<name>.ipynb``, stops at the first chapter that raises (papermill's
error names the cell), then renders the executed notebooks with ``execute_notebooks: off`` and
``-W`` so that any warning — a broken reference, a missing citation — fails the build.

papermill rewrites its output after every cell, so each chapter executes into
``_build/executing/`` and its notebook moves into ``chapters/`` when it ends: a build killed
mid-chapter leaves the previous notebook in place, never a partial one.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from advlib.book.paths import book_root
from advlib.book.runner import chapter_parameters, run_chapter
from advlib.paths import replace_atomic, write_atomic

__all__ = ["toc_chapters", "toc_stems", "execute_chapters", "render_executed", "build"]

RUN_LAST = ("summary",)  # chapters that read the others' stored results


def toc_chapters(root: Path | str | None = None) -> list[Path]:
    """The chapter sources (``.py``) named in the book's ``_toc.yml``, in reading order; the
    book is ``root``, by default the one at or above the working directory."""
    found = book_root(root)
    if found is None:
        raise FileNotFoundError(f"toc_chapters: no _toc.yml at or above {Path(root or '.')}")
    root = found
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return [root / f"{f}.py" for f in files if (root / f"{f}.py").is_file()]


def toc_stems(root: Path | str | None = None) -> list[str]:
    """The file stems of the chapters in ``_toc.yml`` (``"04_fgsm_linear_perturbation"``), in
    reading order: the chapters whose stored claims the summary counts
    (``load_claims(chapters=toc_stems())``); a chapter left out of the book is left out there."""
    return [path.stem for path in toc_chapters(root)]


def execute_chapters(
    root: Path, parameters: dict[str, Any] | None = None, *, log_output: bool = False
) -> list[tuple[Path, float]]:
    """Execute every chapter with papermill into ``chapters/<name>.ipynb``; return timings.

    ``parameters`` go to each chapter that declares them (``dataset`` to those that train).
    """
    chapters = toc_chapters(root)
    chapters.sort(key=lambda p: any(tag in p.stem for tag in RUN_LAST))
    timings = []
    for path in chapters:
        own = {k: v for k, v in (parameters or {}).items() if k in chapter_parameters(path)}
        start = time.perf_counter()
        print(f"[advlib book] executing {path.relative_to(root)} {own or ''}", flush=True)
        executing = root / "_build" / "executing" / f"{path.stem}.ipynb"
        try:
            run_chapter(path, executing, own, log_output=log_output)
        except Exception:  # a chapter that raised shows where it stopped (not one interrupted)
            if executing.is_file():
                replace_atomic(executing, path.with_suffix(".ipynb"))
            raise
        replace_atomic(executing, path.with_suffix(".ipynb"))
        timings.append((path, time.perf_counter() - start))
        print(f"[advlib book]   done in {timings[-1][1]:.0f} s", flush=True)
    return timings


def executed_config(root: Path) -> Path:
    """A copy of ``_config.yml`` that renders the executed ``.ipynb`` instead of the ``.py``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    patterns = [p for p in config.get("exclude_patterns", []) if p != "chapters/*.ipynb"]
    config["exclude_patterns"] = patterns + ["chapters/*.py"]
    out = root / "_build" / "executed_config" / "_config.yml"
    write_atomic(out, yaml.safe_dump(config, sort_keys=False))
    return out


def render_executed(root: Path, *, strict: bool = True) -> int:
    """Render the executed notebooks into ``_build/html``; returns jupyter-book's exit code."""
    cmd = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(root),
        "--config",
        str(executed_config(root)),
    ]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    return subprocess.call(cmd, cwd=root)


def build(root: Path, parameters: dict[str, Any] | None = None, *, strict: bool = True) -> int:
    """Execute every chapter, then render; returns the exit code."""
    start = time.perf_counter()
    timings = execute_chapters(root, parameters)
    executed = time.perf_counter() - start
    code = render_executed(root, strict=strict)
    print(
        f"[advlib book] executed {len(timings)} chapters in {executed:.0f} s; "
        f"rendered in {time.perf_counter() - start - executed:.0f} s; exit code {code}"
    )
    return code
