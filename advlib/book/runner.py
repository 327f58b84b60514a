"""Run a jupytext chapter under papermill with checked parameters.

papermill only warns about unknown parameters and never checks types; here every name must be
one of the chapter's parameters (its cell tagged ``parameters``) and every value must parse as
the type of the chapter's annotated default. ``python -m advlib run CHAPTER -p NAME VALUE``.
"""

from __future__ import annotations

import ast
import io
import json
import math
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advlib.book.results import read_records

__all__ = [
    "Parameter",
    "ParameterError",
    "ChapterError",
    "check_output",
    "chapter_notebook",
    "chapter_parameters",
    "parse_value",
    "check_parameters",
    "run_chapter",
]

_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "list": list, "dict": dict}


class ParameterError(ValueError):
    """An unknown parameter name or a value that does not fit the parameter's type."""


class ChapterError(ParameterError):
    """A chapter path that is missing, a folder, unreadable or not a chapter, or an output
    notebook path that cannot be written."""


CHAPTER_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Parameter:
    """One chapter parameter: name, type name (bool/int/float/str/list/dict), default, help,
    and the allowed values of a ``Literal[...]`` annotation (None: any value of the type)."""

    name: str
    type: str
    default: Any
    help: str
    choices: tuple | None = None

    def describe(self) -> str:
        tail = f"  # {self.help}" if self.help else ""
        kind = f"Literal{list(self.choices)}" if self.choices else self.type
        return f"{self.name}: {kind} = {self.default!r}{tail}"


def chapter_notebook(path: str | Path):
    """The chapter (a jupytext percent-format ``.py`` file or an ``.ipynb``) as a notebook node,
    with a Python 3 kernelspec and a ``tags`` list on every cell (papermill needs both)."""
    import jupytext

    path = _chapter_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ChapterError(
            f"chapter {path} is not a chapter: it is not UTF-8 text; a chapter "
            "must be a jupytext .py file or an .ipynb notebook"
        ) from None
    except OSError as exc:
        raise ChapterError(
            f"chapter {path} cannot be read ({exc.strerror or exc}); it must be a readable file"
        ) from None
    if path.suffix == ".py" and "# %%" not in text:
        raise ChapterError(
            f"chapter {path} is not a chapter: it has no cells; a chapter must be a jupytext "
            "percent-format .py file (cells begin with '# %%') or an .ipynb notebook"
        )
    try:
        nb = jupytext.reads(text, fmt=path.suffix[1:])
    except Exception as exc:  # noqa: BLE001  (JSON, nbformat and jupytext errors alike)
        raise ChapterError(
            f"chapter {path} is not a chapter: it does not read as a notebook "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); it must be "
            "a jupytext .py file or a valid .ipynb notebook"
        ) from None
    nb.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    nb.metadata.setdefault("language_info", {"name": "python"})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    return nb


def _chapter_path(path: Any) -> Path:
    """``path`` as a Path naming an existing chapter file (.py or .ipynb), else ChapterError."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ChapterError(f"chapter must be a path (str or os.PathLike), got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ChapterError(
            f"chapter {path} is a folder; it must be a chapter file "
            f"({' or '.join(CHAPTER_SUFFIXES)})"
        )
    if not path.exists():
        raise ChapterError(
            f"chapter {path} does not exist; it must be a chapter file "
            f"({' or '.join(CHAPTER_SUFFIXES)})"
        )
    if path.suffix not in CHAPTER_SUFFIXES:
        raise ChapterError(
            f"chapter {path} is not a chapter: it must be a jupytext .py file or "
            f"an .ipynb notebook, not {path.suffix or 'a file without suffix'}"
        )
    return path


def check_output(path: Any, *, what: str = "output notebook") -> Path:
    """``path`` as a Path where a file can be written: not a folder, and below no file (the
    nearest existing folder above it must be a writable folder). Raises ChapterError."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ChapterError(f"{what} must be a path (str or os.PathLike), got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ChapterError(f"{what} {path} is a folder; it must be a file path")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ChapterError(
                    f"{what} {path} lies under {parent}, which is a file; it "
                    "must be a path inside a folder"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise ChapterError(
                    f"{what} {path}: the folder {parent} cannot be written; it "
                    "must be a path advlib may write"
                )
            break
    return path


def chapter_parameters(path: str | Path) -> dict[str, Parameter]:
    """The parameters declared in the chapter's ``parameters`` cell, in order.

    Each line of that cell is ``name: type = literal  # help``. The cell is parsed with
    ``ast`` (papermill's own regex parser silently drops some lines), and anything else in it
    is an error, so a parameter can never go missing unnoticed.
    """
    nb = chapter_notebook(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return {}
    source = cells[0].source
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    found = {}
    for node in ast.parse(source).body:
        if _is_literal_import(node):
            continue
        choices = None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            name, type_name = node.target.id, ast.unparse(node.annotation)
            choices = _literal_choices(node.annotation, Path(path).name, name)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, type_name = node.targets[0].id, ""
        else:
            raise ParameterError(
                f"{Path(path).name}: line {node.lineno} of the parameters cell is not "
                "`name: type = literal  # help`"
            )
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ParameterError(
                f"{Path(path).name}: the default of parameter {name} is not a literal; it must "
                "be a number, string, bool, list or dict written out"
            ) from None
        if type_name not in _TYPES:
            type_name = type(default).__name__
        if choices is not None and default not in choices:
            raise ParameterError(
                f"{Path(path).name}: the default of {name}, {default!r}, is not one of "
                f"{list(choices)}"
            )
        found[name] = Parameter(name, type_name, default, comments.get(node.lineno, ""), choices)
    return found


def _is_literal_import(node: ast.stmt) -> bool:
    """``from typing import Literal``: the one import a parameters cell may hold."""
    return (
        isinstance(node, ast.ImportFrom)
        and node.module == "typing"
        and [a.name for a in node.names] == ["Literal"]
    )


def _literal_choices(annotation: ast.expr, chapter: str, name: str) -> tuple | None:
    """The values of ``Literal[a, b, ...]``, or None for any other annotation."""
    if not (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Literal"
    ):
        return None
    elts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
    try:
        return tuple(ast.literal_eval(e) for e in elts)
    except ValueError:
        raise ParameterError(f"{chapter}: the Literal values of {name} are not literals") from None


def _listing(params: dict[str, Parameter]) -> str:
    return "\n".join("  " + p.describe() for p in params.values()) or "  (none)"


def parse_value(param: Parameter, value: Any) -> Any:
    """``value`` (a command-line string or a Python value) as the parameter's type, and one of
    its ``Literal`` choices when it has them. Floats must be finite (no NaN or inf), also
    inside lists and dicts."""
    parsed = _parse_typed(param, value)
    if not _finite(parsed):
        raise ParameterError(
            f"parameter {param.name} must be finite (no NaN or inf), got {value!r}"
        )
    if param.choices is not None and parsed not in param.choices:
        raise ParameterError(
            f"parameter {param.name} must be one of {', '.join(map(repr, param.choices))}, "
            f"got {value!r}"
        )
    return parsed


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(map(_finite, value))
    if isinstance(value, dict):
        return all(map(_finite, value.values()))
    return True


def _parse_typed(param: Parameter, value: Any) -> Any:
    kind = _TYPES[param.type]
    if not isinstance(value, str) or kind is str:
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            raise ParameterError(
                f"parameter {param.name} must be a {param.type} (default {param.default!r}), "
                f"got {value!r}"
            )
        return value
    text = value.strip()
    try:
        if kind is bool:
            low = text.lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return low in ("true", "1", "yes")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        parsed = json.loads(text)
        if not isinstance(parsed, kind):
            raise ValueError(text)
        return parsed
    except ValueError:
        raise ParameterError(
            f"parameter {param.name} must be a {param.type} (default {param.default!r}), "
            f"got {value!r}"
        ) from None


def check_parameters(path: str | Path, values: dict[str, Any]) -> dict[str, Any]:
    """Check names and types of ``values`` against the chapter's parameters; return them parsed.

    Raises :class:`ParameterError` listing the chapter's parameters and types.
    """
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise ParameterError(
            f"check_parameters: values must be a dict of parameter name → "
            f"value, got {type(values).__name__}"
        )
    params = chapter_parameters(path)
    unknown = [name for name in values if name not in params]
    if unknown:
        raise ParameterError(
            f"{Path(path).name} has no parameter {', '.join(map(repr, unknown))}. "
            f"Its parameters are:\n{_listing(params)}"
        )
    parsed = {}
    for name, value in values.items():
        try:
            parsed[name] = parse_value(params[name], value)
        except ParameterError as exc:
            raise ParameterError(
                f"{Path(path).name}: {exc}. Its parameters are:\n{_listing(params)}"
            ) from None
    return parsed


class _KnownParameters:
    """A logging filter that drops papermill's "Passed unknown parameter" warning for the
    parameters the runner has already checked against the chapter."""

    def __init__(self, names) -> None:
        self.names = set(names)

    def filter(self, record) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Passed unknown parameter:")
            and message.split(":", 1)[1].strip() in self.names
        )


def run_chapter(
    path: str | Path,
    output: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    log_output: bool = False,
    timeout: int | None = None,
) -> dict[str, Any]:
    """Execute the chapter with papermill into ``output`` (.ipynb); return its recorded results.

    Parameters are checked first (:func:`check_parameters`). The kernel runs in ``cwd``
    (default: the chapter's folder, as in the book build) with ``env`` added to its environment.
    A cell that raises makes papermill raise ``PapermillExecutionError``; the partly executed
    notebook is still written to ``output``.
    """
    import logging

    import papermill

    path = _chapter_path(path).resolve()
    values = check_parameters(path, parameters or {})
    # papermill's own parser cannot read Literal annotations and warns that such a parameter
    # is unknown; every name and value was checked above, so the warning says nothing.
    nb = chapter_notebook(path)
    output = check_output(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})  # the kernel inherits this process's environment
    known = _KnownParameters(values)
    logging.getLogger("papermill").addFilter(known)
    try:
        papermill.execute_notebook(
            nb,
            str(output),
            parameters=values,
            cwd=str(cwd or path.parent),
            kernel_name="python3",
            log_output=log_output,
            progress_bar=False,
            execution_timeout=timeout,
        )
    finally:
        logging.getLogger("papermill").removeFilter(known)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return read_records(output)
