"""Recorded results and the claims table that ends every chapter.

``record({name: value, ...})`` stores numbers in the executed notebook (a MyST-NB ``glue`` output,
so prose can quote it with ``{glue:text}`name:.1%```), and tests, sweeps and the summary page
read it back with :func:`read_records` without parsing printed output.

``claims_table(chapter, claims)`` renders the paper's number beside ours with a verdict computed
from a stated rule, records the rows, and stores them for the summary page.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advlib.book.paths import book_root
from advlib.paths import write_atomic

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "record",
    "records",
    "read_records",
    "Rule",
    "within",
    "at_least",
    "at_most",
    "when",
    "Claim",
    "claims_table",
    "claims_html",
    "results_dir",
    "load_claims",
    "data_note",
]

GLUE_PREFIX = "application/papermill.record/"
"""MyST-NB's prefix for glued values that are not displayed."""
JSON_MIME = "text/x-advlib-json"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

_RECORDS: dict[str, Any] = {}


def _jsonable(value: Any) -> Any:
    """Plain JSON types from NumPy/torch scalars, tuples and dicts."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "item") and getattr(value, "shape", ()) in ((), (1,)):
        return _jsonable(value.item())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    raise TypeError(
        f"record: value must be a number, string, bool, None or a list/dict of them, "
        f"got {type(value).__name__}"
    )


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


_DATA_NOTES: list[str] = []


def record(values: Mapping[str, Any]) -> None:
    """Record each ``name: value`` of ``values`` in the executed notebook.

    A value is a number, string, bool, None or a list/dict of them; prose quotes it with
    ``{glue:text}`name:.1%``` (None and NaN, kept as None, read "nan" there, so that a value
    that does not exist shows as such instead of failing the build). Outside a notebook the values are only kept in memory
    (``records()``). Returns None, so a ``record`` call that ends a cell shows nothing.
    """
    if not isinstance(values, Mapping):
        raise TypeError(
            f"record: takes a dict of name → value, got {type(values).__name__}; "
            "e.g. record({'clean_error': 0.012})"
        )
    plain = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                "record: a name must start with a letter or _ and hold only letters, digits, "
                f"_ . -; got {name!r}"
            )
        value = _jsonable(value)
        if isinstance(value, float) and math.isnan(value):
            value = None
        plain[name] = value
    for name, value in plain.items():
        _RECORDS[name] = value
        if _in_ipython():
            from IPython.display import display

            bundle = {  # None (no value, e.g. a rate of nothing) reads "nan" in any format
                GLUE_PREFIX + "text/plain": "nan" if value is None else repr(value),
                GLUE_PREFIX + JSON_MIME: json.dumps(value),
            }
            meta = {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
            display(bundle, raw=True, metadata=meta)


def record_paper(*claims: str) -> dict[str, Any]:
    """Record every number the paper gives for ``claims`` (ids of :data:`advlib.book.paper.PAPER`)
    as ``paper_<id>_<field>`` (e.g. ``paper_C5_error``), for prose to quote; returns them."""
    from advlib.book.paper import PAPER

    unknown = [c for c in claims if c not in PAPER]
    if unknown:
        raise ValueError(f"record_paper: no claim {', '.join(unknown)}; the paper's are C1-C29")
    numbers = {
        f"paper_{claim}_{field}": value
        for claim in claims
        for field, value in PAPER[claim].items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    record(numbers)
    return numbers


def records() -> dict[str, Any]:
    """The values recorded so far in this process (a copy)."""
    return dict(_RECORDS)


def read_records(notebook: Any) -> dict[str, Any]:
    """Every value :func:`record` stored in an executed notebook (path or nbformat node)."""
    if isinstance(notebook, (str, Path)):
        import nbformat

        notebook = nbformat.read(str(notebook), as_version=4)
    found: dict[str, Any] = {}
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            data = output.get("data", {})
            key = GLUE_PREFIX + JSON_MIME
            if meta and key in data:
                text = data[key]
                found[meta["name"]] = json.loads("".join(text) if isinstance(text, list) else text)
    return found


# --------------------------------------------------------------------------------------------
# Verdict rules


@dataclass(frozen=True)
class Rule:
    """How a claim's verdict is decided: ``check(ours, paper) -> bool`` and the rule in words."""

    text: str
    check: Callable[[Any, Any], bool]


def within(tol: float, *, points: bool = True) -> Rule:
    """Holds when ``|ours − paper| <= tol`` (rates: ``tol`` in fractions, shown as points)."""
    shown = f"{tol * 100:.3g} points" if points else f"{tol:.3g}"
    return Rule(f"|ours − paper| ≤ {shown}", lambda ours, paper: abs(ours - paper) <= tol)


def at_least(threshold: float, what: str = "ours", *, pct: bool = True) -> Rule:
    """Holds when ours >= ``threshold`` (the direction the paper claims, e.g. 'near 100%')."""
    shown = f"{threshold:.1%}" if pct else f"{threshold:.4g}"
    return Rule(f"{what} ≥ {shown}", lambda ours, paper: ours >= threshold)


def at_most(threshold: float, what: str = "ours", *, pct: bool = True) -> Rule:
    """Holds when ours <= ``threshold``."""
    shown = f"{threshold:.1%}" if pct else f"{threshold:.4g}"
    return Rule(f"{what} ≤ {shown}", lambda ours, paper: ours <= threshold)


def when(condition: bool, text: str) -> Rule:
    """Holds when a condition the chapter computed is true (a direction: 'A > B', 'A ≥ 2·B')."""
    flag = bool(condition)
    return Rule(text, lambda ours, paper: flag)


# --------------------------------------------------------------------------------------------
# Claims tables


REPRODUCED = ("reproduced", "not reproduced", "not comparable", "no number", "not run")
"""The values of a claims row's second verdict, whether our number is the paper's within
tolerance."""


@dataclass
class Claim:
    """One row of a claims table, with two verdicts.

    ``paper`` and ``ours`` are numbers (rates as fractions, shown as % when ``pct``) or short
    strings; ``ours=None`` means not computed here (the verdicts say why). ``why`` explains a
    difference (data, budget) and is shown whatever the verdict.

    ``verdict`` applies ``rule``: the direction or rule the paper states ("holds" / "differs").
    ``reproduced`` sets our number against the paper's: "reproduced" when
    ``|ours − paper|`` is within the tolerance, two standard errors of a rate measured on ``n``
    test examples (``sqrt(p(1 − p)/n)`` at the paper's p: ±.2 points near 1% on 10,000 digits)
    or ``rel`` times the paper's number for other quantities; "not comparable" when the row was
    computed at another setting than the paper's (``comparable=False``: another eps, another
    threshold); "no number" when the paper gives none.
    """

    id: str
    quantity: str
    paper: Any
    ours: Any
    rule: Rule | None
    why: str = ""
    pct: bool = True
    digits: int = 1
    n: int | None = None
    rel: float | None = None
    comparable: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        numbers = _is_number(self.paper) and (self.ours is None or _is_number(self.ours))
        if numbers and self.comparable and self.tolerance is None:
            raise ValueError(
                f"Claim {self.id} ({self.quantity}): a row with the paper's number needs a "
                "tolerance: n (test examples of a rate) or rel (a relative tolerance)"
            )

    @property
    def verdict(self) -> str:
        if self.ours is None or self.rule is None:
            return "not run"
        return "holds" if self.rule.check(self.ours, self.paper) else "differs"

    @property
    def tolerance(self) -> float | None:
        """The largest ``|ours − paper|`` that counts as reproduced, or None."""
        if not _is_number(self.paper):
            return None
        if self.rel is not None:
            return abs(self.rel * self.paper)
        if self.pct and self.n:
            p = min(max(float(self.paper), 0.0), 1.0)
            return 2 * math.sqrt(max(p * (1 - p), 1 / self.n) / self.n)
        return None

    @property
    def reproduced(self) -> str:
        if self.ours is None:
            return "not run"
        if not (_is_number(self.paper) and _is_number(self.ours)):
            return "no number"
        if not self.comparable:
            return "not comparable"
        return "reproduced" if abs(self.ours - self.paper) <= self.tolerance else "not reproduced"

    def tolerance_text(self) -> str:
        tol = self.tolerance
        if tol is None or not self.comparable or self.ours is None:
            return ""
        if self.rel is not None:
            return f"±{self.rel:.0%} of the paper's"
        return f"±{tol * 100:.2f} points (2 SE, n = {self.n:,})"

    def show(self, value: Any) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            return value
        if self.pct:
            return f"{value:.{self.digits}%}"
        return f"{value:.{max(self.digits, 3)}g}"

    def as_row(self, chapter: str) -> dict:
        return {
            "claim": self.id,
            "quantity": self.quantity,
            "paper": self.show(self.paper),
            "ours": self.show(self.ours),
            "paper_value": self.paper if _is_number(self.paper) else None,
            "ours_value": self.ours if _is_number(self.ours) else None,
            "verdict": self.verdict,
            "rule": self.rule.text if self.rule else "",
            "reproduced": self.reproduced,
            "tolerance": self.tolerance_text(),
            "why": self.why,
            "chapter": chapter,
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


_TABLE_COLUMNS = [
    ("claim", "Claim"),
    ("quantity", "Quantity"),
    ("paper", "Paper"),
    ("ours", "Ours"),
    ("verdict", "Verdict"),
    ("rule", "Rule"),
    ("reproduced", "Paper's number"),
    ("tolerance", "Tolerance"),
    ("why", "Why / notes"),
]


def claims_html(rows: list[dict], *, link: bool = False) -> str:
    """An HTML table of claim rows (``class="advlib-claims"``), verdicts styled by CSS class."""
    head = "".join(f"<th>{escape(title)}</th>" for _, title in _TABLE_COLUMNS)
    body = []
    for row in rows:
        cells = []
        for key, _ in _TABLE_COLUMNS:
            text = escape(str(row.get(key, "")))
            if key in ("verdict", "reproduced"):
                text = f'<span class="advlib-verdict advlib-{row[key].replace(" ", "-")}">{text}</span>'
            if key == "claim" and link and row.get("chapter"):
                text = f'<a href="{escape(row["chapter"])}.html#claims">{text}</a>'
            # a paper or ours value in words (not a number) may wrap like the text columns
            wordy = key in ("paper", "ours") and len(str(row.get(key, ""))) > 14
            cells.append(f'<td class="advlib-wordy">{text}</td>' if wordy else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<table class="advlib-claims table"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


def results_dir() -> Path | None:
    """Where claims tables are stored for the summary page: ``$ADVLIB_RESULTS`` (``off``
    disables), else ``<book>/_build/results`` when running inside the book, else None. Each
    scale has its own folder below it (``quick/``, ``paper/``)."""
    env = os.environ.get("ADVLIB_RESULTS")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "none") else Path(env)
    root = book_root()
    return root / "_build" / "results" if root else None


def claims_table(
    chapter: str, claims: list[Claim], *, scale: str = "quick", context: str = ""
) -> None:
    """Show the chapter's claims table, record its rows as ``claims`` and store them for the
    summary page under ``scale``. ``chapter`` is the chapter's file stem (``"04_fgsm"``);
    ``context`` says which data and budget produced the numbers (shown above the table and
    kept with every row)."""
    rows = [{**c.as_row(chapter), "scale": scale, "context": context} for c in claims]
    record({"claims": rows, "recipes": _used_recipes()})
    folder = results_dir()
    if folder is not None:
        write_atomic(folder / scale / f"{chapter}.json", json.dumps(_jsonable(rows), indent=1))
    if _in_ipython():
        from IPython.display import HTML, display

        lead = (
            f'<p class="advlib-claims-context"><strong>Scale: {escape(scale)}.</strong> '
            f"{escape(context)}</p>"
        )
        display(HTML(lead + claims_html(rows)))
    else:
        print(f"Scale: {scale}. {context}")
        for row in rows:
            print(
                f"{row['claim']:>4}  {row['quantity']}: paper {row['paper']}, ours {row['ours']}"
                f" -> {row['verdict']} ({row['rule']}); {row['reproduced']}"
                f" {row['tolerance']} {row['why']}"
            )


def _used_recipes() -> list[dict]:
    """The configurations of the trained models this chapter loaded (none when it imported no
    model zoo), so that a build can check the book's list of needed models covers them."""
    zoo = sys.modules.get("advlib.zoo")
    return [r.config() for r in zoo.used_recipes()] if zoo is not None else []


STORED = "results"
"""The repository's folder of claims tables kept from runs too long for CI (the paper scale on
two CPU cores): ``results/<scale>/<chapter>.json``, written with ``ADVLIB_RESULTS=results``."""


def book_claims(root: Path | str, chapters: list[str]) -> list[dict]:
    """The claims rows the summary shows: of this build (``results_dir()``) and, for a scale and
    chapter this build did not run, those kept in the repository's :data:`STORED` folder; only of
    ``chapters`` (the stems in ``_toc.yml``). Rows keep their ``scale`` and ``context``."""
    built = load_claims(chapters=chapters)
    have = {(row["scale"], row["chapter"]) for row in built}
    kept = [
        row
        for row in load_claims(Path(root) / STORED, chapters=chapters)
        if (row["scale"], row["chapter"]) not in have
    ]
    return sorted(built + kept, key=_claim_order)


def verdict_counts(rows: list[dict]) -> pd.DataFrame:
    """Rows per scale, kind of verdict (``rule``: the direction or rule the paper states;
    ``paper's number``: reproduced within tolerance or not) and verdict: columns ``scale``,
    ``kind``, ``verdict``, ``rows``."""
    import pandas as pd

    long = [
        {"scale": row["scale"], "kind": kind, "verdict": row[key]}
        for row in rows
        for kind, key in (("rule", "verdict"), ("paper's number", "reproduced"))
    ]
    if not long:
        return pd.DataFrame(columns=["scale", "kind", "verdict", "rows"])
    return (
        pd.DataFrame(long)
        .groupby(["scale", "kind", "verdict"], sort=False)
        .size()
        .reset_index(name="rows")
    )


def _claim_order(row: dict) -> tuple:
    m = re.match(r"C(\d+)", row["claim"])
    return (0, int(m.group(1))) if m else (1, row["claim"])


def load_claims(
    folder: Path | str | None = None, *, scale: str | None = None, chapters: list[str] | None = None
) -> list[dict]:
    """Every stored claims row, in claim order (C1, C2, …, C29), from ``folder`` (default
    ``results_dir()``): of one ``scale``, or of every scale stored; only of ``chapters`` (file
    stems) when given, so a chapter no longer in the book is left out."""
    folder = Path(folder) if folder is not None else results_dir()
    rows: list[dict] = []
    if folder is None or not folder.is_dir():
        return rows
    pattern = f"{scale}/*.json" if scale else "*/*.json"
    for path in sorted(folder.glob(pattern)):
        if chapters is not None and path.stem not in chapters:
            continue
        try:
            rows.extend(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"load_claims: {path} is not a readable claims file ({exc})") from None

    return sorted(rows, key=_claim_order)


def data_note(text: str) -> None:
    """Say which data (and split) the chapter ran on: a highlighted line in the page, printed
    in plain runs, and recorded (the first note as ``"data"``, later ones as ``"data_2"``, ...)
    so that tests and sweeps can read which data a run used."""
    _DATA_NOTES.append(text)
    if _in_ipython():
        from IPython.display import HTML, display

        display(HTML(f'<div class="advlib-dataset"><strong>Data:</strong> {escape(text)}</div>'))
    else:
        print(f"Data: {text}")
    k = len(_DATA_NOTES)
    record({"data" if k == 1 else f"data_{k}": text})
