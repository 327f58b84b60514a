"""Altair figures for the book, rendered so that pages work with no network.

Two renderers, chosen with :func:`use` (or ``$ADVLIB_CHARTS``):

- ``"interactive"`` (default): a ``<div>`` and a ``vegaEmbed`` call that uses the one shared
  vega bundle served from the site's ``_static/`` (written by ``advlib.book.sphinxext``); tooltips
  work, nothing is loaded from a CDN.
- ``"svg"``: static SVG made by vl-convert, inlined in the page (no JavaScript at all).

Colours are fixed per model (:data:`MODEL_COLORS`) so a model looks the same in every chapter.

Figures for chapters, each with a tooltip on every point or image:

- :func:`digit_grid`: digits with their predicted class and confidence (red where wrong);
- :func:`rate_chart`: a rate against a parameter, one line per model;
- ``training_curves``: clean and adversarial validation error per epoch, per model;
- ``robustness_chart``: error and confidence against ``eps``, two panels, per model.

A chart shows when it is a cell's last expression. The book's browser test
(``tests/test_browser.py``) checks that every chart on every page draws its marks offline.
"""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "MODEL_COLORS",
    "RENDERERS",
    "use",
    "model_scale",
    "digit_url",
    "digit_grid",
    "rate_chart",
    "training_curves",
    "robustness_chart",
    "save",
    "line_chart",
    "logistic_digits",
    "penalty_chart",
    "logit_panel",
    "fgsm_line_figure",
    "paper_bars",
    "histograms",
    "class_shares",
]

RENDERERS = ("interactive", "svg")

MODEL_COLORS = {
    "logistic regression": "#4c78a8",
    "softmax regression": "#4c78a8",
    "maxout": "#f58518",
    "maxout (adversarial)": "#54a24b",
    "maxout (adversarial, dropout off)": "#88d27a",
    "maxout (sign noise)": "#b279a2",
    "maxout (uniform noise)": "#ff9da6",
    "maxout (hidden layer)": "#9d755d",
    "maxout (sigmoid outputs)": "#eeca3b",
    "maxout 1600": "#d67195",
    "maxout 1600 (adversarial)": "#2e7d32",
    "rbf": "#e45756",
    "ensemble": "#72b7b2",
    "generative": "#bab0ac",
}
"""One colour per model name, used by every chapter."""

_FALLBACK = ["#79706e", "#439894", "#8f6aa3", "#d8b5a5", "#97ba66", "#c1574f"]


def model_scale(names: Sequence[str]) -> alt.Scale:
    """A colour scale giving each model its book-wide colour (unknown names get spare colours)."""
    names = list(dict.fromkeys(names))
    spare = iter(_FALLBACK * 4)
    return alt.Scale(domain=names, range=[MODEL_COLORS.get(n) or next(spare) for n in names])


# --------------------------------------------------------------------------------------------
# Renderers


def _svg(spec: dict) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)


def _svg_bundle(spec: dict, **_: Any) -> dict:
    svg = _svg(spec)
    return {
        "text/html": f'<div class="advlib-chart advlib-static">{svg}</div>',
        "image/svg+xml": svg,
    }


def _interactive_bundle(spec: dict, **_: Any) -> dict:
    div = f"advlib-chart-{uuid.uuid4().hex[:12]}"
    # `</` inside a JSON string would end the <script> element early.
    payload = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    html = (
        f'<div id="{div}" class="advlib-chart advlib-interactive"></div>\n'
        '<script type="text/javascript">\n'
        "(function () {\n"
        f'  var el = document.getElementById("{div}");\n'
        f"  var spec = {payload};\n"
        '  if (typeof window.vegaEmbed !== "function") {\n'
        '    el.textContent = "Chart needs the book\'s vega bundle (_static/advlib-vega.js).";\n'
        "    return;\n"
        "  }\n"
        '  window.vegaEmbed(el, spec, {actions: false, renderer: "svg"})\n'
        '    .catch(function (err) { el.textContent = "Chart error: " + err; console.error(err); });\n'
        "})();\n"
        "</script>"
    )
    return {"text/html": html, "text/plain": "<advlib interactive chart>"}


alt.renderers.register("advlib-interactive", _interactive_bundle)
alt.renderers.register("advlib-svg", _svg_bundle)


def use(renderer: str = "interactive") -> None:
    """Render altair charts as ``"interactive"`` (shared offline vega bundle) or ``"svg"``."""
    if renderer not in RENDERERS:
        raise ValueError(f"charts.use: renderer must be one of {RENDERERS}, got {renderer!r}")
    alt.renderers.enable(f"advlib-{renderer}")


use(os.environ.get("ADVLIB_CHARTS", "interactive"))


SAVE_FORMATS = ("html", "svg", "json")


def save(chart: alt.TopLevelMixin, path: str | os.PathLike) -> None:
    """Write ``chart`` to ``path`` atomically, in the format its suffix names: ``.html`` (vega
    inlined: the page works offline), ``.svg`` (static) or ``.json`` (the Vega-Lite spec)."""
    from pathlib import Path

    from advlib.paths import write_atomic

    path = Path(path)
    kind = path.suffix.lstrip(".").lower()
    if kind not in SAVE_FORMATS:
        raise ValueError(
            f"charts.save: path must end in one of "
            f"{', '.join('.' + f for f in SAVE_FORMATS)}, got {path.name!r}"
        )
    buffer = io.StringIO()
    chart.save(buffer, format=kind, **({"inline": True} if kind == "html" else {}))
    write_atomic(path, buffer.getvalue())


@alt.theme.register("advlib", enable=True)
def _theme() -> alt.theme.ThemeConfig:
    """Vega-Lite's defaults, with text a reader can read beside the book's 16 px prose and
    axis labels that never touch (log axes otherwise print "1,0002,000")."""
    return {
        "config": {
            "view": {"continuousWidth": 360, "continuousHeight": 240},
            "axis": {
                "labelFontSize": 12,
                "titleFontSize": 13,
                "labelSeparation": 6,
                "labelLimit": 240,
            },
            "legend": {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 260},
            "header": {"labelFontSize": 12, "titleFontSize": 13},
            "title": {"fontSize": 15},
        }
    }


# --------------------------------------------------------------------------------------------
# Figures used by several chapters


def digit_url(image: np.ndarray, *, scale: int = 3, signed: bool = False) -> str:
    """A PNG data URL of one 28×28 image (784 values); ``signed`` maps [-m, m] to blue-white-red."""
    from PIL import Image

    a = np.asarray(image, dtype=np.float64).reshape(28, 28)
    if signed:
        m = float(np.abs(a).max()) or 1.0
        t = a / m
        rgb = np.stack([1 - np.clip(-t, 0, 1), 1 - np.abs(t), 1 - np.clip(t, 0, 1)], axis=-1)
        pixels = (rgb * 255).round().astype(np.uint8)
        img = Image.fromarray(pixels)
    else:
        pixels = (255 - np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8)  # ink is dark
        img = Image.fromarray(pixels)
    img = img.resize((28 * scale, 28 * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _field(name: str) -> str:
    """A column name as a Vega-Lite field: ``.``, ``[`` and ``]`` would otherwise mean nesting."""
    for ch in "\\.[]":
        name = name.replace(ch, "\\" + ch)
    return name


def _tooltip(df: pd.DataFrame, column: str, fmt: str | None = None) -> alt.Tooltip:
    numeric = pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(
        df[column]
    )
    kwargs = {"format": fmt} if fmt else ({"format": ".4g"} if numeric else {})
    return alt.Tooltip(
        field=_field(column), type="quantitative" if numeric else "nominal", title=column, **kwargs
    )


def _require(df: pd.DataFrame, columns: Sequence[str | None], what: str) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"{what} has no column(s) {missing}; it has {list(df.columns)}")


def _name(value: Any, class_names: Sequence[str] | dict | None) -> str:
    if class_names is None:
        return str(value)
    return str(class_names[int(value)])


def digit_grid(
    images: np.ndarray,
    captions: Sequence[str] | None = None,
    *,
    rows: Sequence[str] | None = None,
    columns: int = 10,
    size: int = 64,
    signed: bool = False,
    tooltips: Sequence[dict] | None = None,
    title: str | None = None,
    labels: Sequence[int] | None = None,
    predicted: Sequence[int] | None = None,
    confidence: Sequence[float] | None = None,
    class_names: Sequence[str] | dict | None = None,
) -> alt.LayerChart:
    """A grid of 28×28 images with a caption under each and a tooltip on each.

    images: (n, 784) or (n, 28, 28), pixels in [0, 1] (``signed=True``: any range, drawn
    blue (negative), white (0), red (positive), e.g. a perturbation or a weight vector).
    captions: n strings; if left out and ``predicted`` is given, each caption is the predicted
    class and its confidence ("3 · 97%").
    rows: n row names (e.g. "clean", "adversarial"), shown at the left of each row; images of
    the same row name go left to right in order. Without ``rows``, images wrap after ``columns``.
    labels, predicted: n true and n predicted classes (ints); a caption is red where they differ.
    confidence: n probabilities in [0, 1] of the predicted class.
    class_names: maps a class int to a name (Fashion-MNIST: "Coat"); default the digit itself.
    tooltips: n dicts of extra fields shown on hover (e.g. ``{"eps": 0.25}``).

    Every image shows a tooltip with its caption, row and the fields above. Returns an altair
    chart; display it as the cell's last expression.
    """
    images = np.asarray(images)
    n = len(images)
    for name, seq in (
        ("captions", captions),
        ("rows", rows),
        ("tooltips", tooltips),
        ("labels", labels),
        ("predicted", predicted),
        ("confidence", confidence),
    ):
        if seq is not None and len(seq) != n:
            raise ValueError(f"digit_grid: {n} images but {len(seq)} {name}")
    if captions is None and predicted is None:
        raise ValueError("digit_grid: give captions, or predicted (and confidence) to caption by")
    if rows is not None:
        row_names = list(dict.fromkeys(rows))
        row_of = [row_names.index(r) for r in rows]
        col_of, seen = [], {}
        for r in row_of:
            col_of.append(seen.get(r, 0))
            seen[r] = seen.get(r, 0) + 1
    else:
        row_of = [i // columns for i in range(n)]
        col_of = [i % columns for i in range(n)]
    records = []
    for i in range(n):
        rec: dict[str, Any] = {
            "url": digit_url(images[i], signed=signed),
            "row": row_of[i],
            "col": col_of[i],
            "colour": "#222222",
        }
        if captions is not None:
            rec["caption"] = captions[i]
        else:
            rec["caption"] = _name(predicted[i], class_names) + (
                f" · {confidence[i]:.0%}" if confidence is not None else ""
            )
        if rows is not None:
            rec["row name"] = rows[i]
        if labels is not None:
            rec["true class"] = _name(labels[i], class_names)
        if predicted is not None:
            rec["predicted"] = _name(predicted[i], class_names)
            if labels is not None and int(predicted[i]) != int(labels[i]):
                rec["colour"] = "#c62828"
        if confidence is not None:
            rec["confidence"] = float(confidence[i])
        if tooltips is not None:
            rec.update(tooltips[i])
        records.append(rec)
    df = pd.DataFrame(records)
    shown = [c for c in df.columns if c not in ("url", "row", "col", "colour")]
    tips = [_tooltip(df, c, ".1%" if c == "confidence" else None) for c in shown]
    n_rows, n_cols = max(row_of) + 1, max(col_of) + 1
    x = alt.X("col:O", axis=None, scale=alt.Scale(paddingInner=0.1))
    y = alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0.45))
    base = alt.Chart(df).encode(x=x, y=y, tooltip=tips)
    images_layer = base.mark_image(width=size, height=size).encode(url="url:N")
    text_layer = base.mark_text(dy=size / 2 + 9, fontSize=12).encode(
        text="caption:N", color=alt.Color("colour:N", scale=None)
    )
    layers = [images_layer, text_layer]
    if rows is not None:
        names = pd.DataFrame({"row": range(n_rows), "row name": row_names, "col": 0})
        layers.append(
            alt.Chart(names)
            .mark_text(align="right", dx=-size / 2 - 6, fontWeight="bold")
            .encode(x=x, y=y, text=alt.Text(field="row name", type="nominal"))
        )
    chart = alt.layer(*layers).properties(width=n_cols * (size + 12), height=n_rows * (size + 30))
    return chart.properties(title=title) if title else chart


def _lines(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    color: str,
    x_title: str | None,
    y_title: str | None,
    y_format: str,
    x_format: str | None = None,
    dash: alt.StrokeDash | None = None,
    width: int,
    height: int,
    tooltip: Sequence[str] | None = None,
    legend: str | None = None,
) -> alt.LayerChart:
    """Lines with a point at every row, one book-wide colour per ``color``; the points carry
    the tooltips (a line's tooltip would show one arbitrary row of it)."""
    axis_x = alt.Axis(format=x_format) if x_format else alt.Axis()
    tip_format = ".2%" if y_format.endswith("%") else y_format  # hover gives the finer value
    base = alt.Chart(df).encode(
        x=alt.X(field=_field(x), type="quantitative", title=x_title or x, axis=axis_x),
        y=alt.Y(
            field=_field(y), type="quantitative", title=y_title or y, axis=alt.Axis(format=y_format)
        ),
        color=alt.Color(
            field=_field(color),
            type="nominal",
            title=color,
            scale=model_scale(list(df[color].unique())),
            legend=alt.Legend(orient=legend) if legend else alt.Undefined,
        ),
    )
    line = base.mark_line()
    if dash is not None:
        line = line.encode(strokeDash=dash)
    points = base.mark_point(size=45, filled=True, opacity=1).encode(
        tooltip=[_tooltip(df, c, tip_format if c == y else None) for c in (tooltip or df.columns)]
    )
    return alt.layer(line, points).properties(width=width, height=height)


def rate_chart(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    color: str = "model",
    x_title: str | None = None,
    y_title: str | None = None,
    title: str | None = None,
    y_format: str = ".0%",
    dash: str | None = None,
    width: int = 360,
    height: int = 240,
) -> alt.LayerChart:
    """A rate (error, confidence; in [0, 1]) against a parameter: lines with a point per row.

    df: one row per point, with columns ``x``, ``y`` and ``color`` (default "model", drawn
    in the model's book-wide colour from :data:`MODEL_COLORS`). ``dash`` names a column that
    splits lines by dash pattern (e.g. "data": clean or adversarial). Every column of ``df``
    appears in the tooltip of every point; ``y`` is formatted with ``y_format``.
    """
    dash_enc = (
        alt.StrokeDash(
            field=_field(dash),
            type="nominal",
            title=dash,
            legend=alt.Legend(
                symbolType="stroke", symbolStrokeColor="#555", symbolStrokeWidth=2, symbolSize=300
            ),
        )
        if dash
        else None
    )
    chart = _lines(
        df,
        x=x,
        y=y,
        color=color,
        x_title=x_title,
        y_title=y_title,
        y_format=y_format,
        dash=dash_enc,
        width=width,
        height=height,
    )
    return chart.properties(title=title) if title else chart


def training_curves(
    history: pd.DataFrame | dict,
    *,
    clean: str = "valid_error",
    adversarial: str | None = "valid_adv_error",
    model: str = "model",
    epoch: str = "epoch",
    phase: str | None = "fit",
    y_title: str = "validation error",
    title: str | None = None,
    width: int = 420,
    height: int = 260,
) -> alt.LayerChart:
    """Error per epoch while training, clean (solid) and adversarial (dashed), one colour per model.

    history: a DataFrame with one row per (model, epoch) and columns ``model``, ``epoch``,
    ``clean`` and ``adversarial`` (default: the ``valid_error`` and ``valid_adv_error`` that
    ``advlib.train.fit`` logs), or a dict ``{model name: fit()'s returned history, or a
    DataFrame of its epochs}``. Rows of other phases than ``phase`` (e.g. "retrain") are left
    out; ``phase=None`` keeps all. ``adversarial=None`` draws the clean error only.
    Every point's tooltip gives model, epoch, which error and its value.
    """
    if isinstance(history, dict):
        frames = []
        for name, h in history.items():
            rows = h["epochs"] if isinstance(h, dict) else h
            frames.append(pd.DataFrame(rows).assign(**{model: name}))
        history = pd.concat(frames, ignore_index=True)
    history = pd.DataFrame(history)
    _require(history, (model, epoch, clean, adversarial), "training_curves: history")
    if phase is not None and "phase" in history.columns:
        history = history[history["phase"] == phase]
    kinds = {clean: "clean"} | ({adversarial: "adversarial"} if adversarial else {})
    long = history.melt(
        id_vars=[model, epoch], value_vars=list(kinds), var_name="data", value_name="error"
    )
    long["data"] = long["data"].map(kinds)
    dash = alt.StrokeDash(
        field="data",
        type="nominal",
        title="data",
        scale=alt.Scale(domain=["clean", "adversarial"], range=[[1, 0], [6, 3]]),
        legend=alt.Legend(
            symbolType="stroke", symbolStrokeColor="#555", symbolStrokeWidth=2, symbolSize=300
        ),
    )
    chart = _lines(
        long,
        x=epoch,
        y="error",
        color=model,
        x_title=epoch,
        y_title=y_title,
        y_format=".0%",
        x_format="d",
        dash=dash,
        width=width,
        height=height,
        tooltip=[model, epoch, "data", "error"],
    )
    return chart.properties(title=title) if title else chart


def robustness_chart(
    df: pd.DataFrame,
    *,
    eps: str = "eps",
    error: str = "error",
    confidence: str | None = "confidence",
    model: str = "model",
    title: str | None = None,
    width: int = 270,
    height: int = 220,
) -> alt.HConcatChart | alt.LayerChart:
    """Error and confidence against the attack's ``eps``: two panels, one colour per model.

    df: one row per (model, eps) with columns ``model``, ``eps``, ``error`` (adversarial error
    rate in [0, 1]) and ``confidence`` (mean probability given to the predicted class on the
    adversarial examples, in [0, 1]); ``confidence=None`` draws the error panel only. Extra
    columns appear in the tooltips. Models keep their book-wide colours (:data:`MODEL_COLORS`).
    """
    _require(df, (eps, error, confidence, model), "robustness_chart: df")
    panel = dict(
        x=eps, color=model, x_title=eps, y_format=".0%", width=width, height=height, legend="bottom"
    )  # under the panels: two panels and a legend fit the page
    left = _lines(df, y=error, y_title="error rate", **panel)
    if confidence is None:
        return left.properties(title=title) if title else left
    right = _lines(df, y=confidence, y_title="mean confidence", **panel)
    chart = alt.hconcat(left, right).resolve_scale(color="shared")
    return chart.properties(title=title) if title else chart


# --------------------------------------------------------------------------------------------
# Figures of single chapters, kept here so that a chapter is prose plus a few calls


def line_chart(
    df: pd.DataFrame,
    *,
    x: str,
    y: str | Sequence[str],
    color: str | None = None,
    log: bool = False,
    step: bool = False,
    x_title: str | None = None,
    y_title: str | None = None,
    y_format: str | None = None,
    title: str | None = None,
    width: int = 420,
    height: int = 260,
) -> alt.Chart:
    """Lines with a point at every row of ``df``, a tooltip on each.

    y: one column, or several (each drawn as its own line, named in a ``quantity`` legend).
    color: a column that splits the lines (with one ``y``). log: both axes on log scales.
    step: draw steps (``step-after``) instead of straight segments.
    """
    columns = [y] if isinstance(y, str) else list(y)
    _require(df, [x, *columns, color], "line_chart: df")
    if len(columns) > 1:
        df = df.melt(id_vars=x, value_vars=columns, var_name="quantity", value_name="value")
        color, y_name = "quantity", "value"
    else:
        y_name = columns[0]
    scale = alt.Scale(type="log") if log else alt.Undefined
    axis = alt.Axis(format=y_format) if y_format else alt.Axis()
    encoding = dict(
        x=alt.X(field=_field(x), type="quantitative", scale=scale, title=x_title or x),
        y=alt.Y(
            field=_field(y_name),
            type="quantitative",
            scale=scale,
            axis=axis,
            title=y_title or y_name,
        ),
        tooltip=[
            _tooltip(df, c, y_format if c == y_name and y_format else None) for c in df.columns
        ],
    )
    if color is not None:
        encoding["color"] = alt.Color(field=_field(color), type="nominal", title=None)
    mark = dict(point=True, interpolate="step-after") if step else dict(point=True)
    chart = (
        alt.Chart(df).mark_line(**mark).encode(**encoding).properties(width=width, height=height)
    )
    return chart.properties(title=title) if title else chart


def logistic_digits(
    fit: Any,
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    *,
    negative: int,
    positive: int,
    shown: int = 5,
) -> alt.VConcatChart:
    """Logistic regression on two digit classes (Sec. 5, Fig. 2): its weights w and sign(w)
    (blue < 0 < red), then ``shown`` test digits of each label, clean and as the closed-form
    FGSM example x − eps·y·sign(w) (unclipped, drawn clipped), captioned with the predicted
    class and its probability.

    fit: a :class:`advlib.linear.LinearFit` (or a (w, b) pair), w (784,); x (n, 784); y (n,)
    of ±1, where −1 is the class ``negative`` and +1 the class ``positive``.
    """
    from advlib.linear import to_numpy

    w, b, x, y = (
        to_numpy(a) if hasattr(a, "shape") else np.asarray(a) for a in (fit[0], fit[1], x, y)
    )
    b = float(b)
    top = float(np.quantile(np.abs(w), 0.99))  # a few extreme weights would wash out the rest
    weights = digit_grid(
        np.stack([np.clip(w / top, -1, 1), np.sign(w)]),
        ["w", "sign(w)"],
        signed=True,
        columns=2,
        size=112,
        tooltips=[
            {"‖w‖₁": float(np.abs(w).sum()), "colour scale saturates at |w|": top},
            {"pixels with w > 0": int((w > 0).sum())},
        ],
        title="Logistic regression weights (blue < 0 < red)",
    )
    picked = np.concatenate([np.flatnonzero(y == -1)[:shown], np.flatnonzero(y == 1)[:shown]])
    clean = x[picked]
    images = np.concatenate([clean, clean - eps * y[picked, None] * np.sign(w)[None, :]])
    p = 1.0 / (1.0 + np.exp(-(images @ w + b)))  # P(y = +1)
    pred = np.where(p >= 0.5, positive, negative)
    k = len(picked)
    digits = digit_grid(
        images,
        rows=["clean"] * k + [f"eps = {eps:g}"] * k,
        labels=np.tile(np.where(y[picked] == 1, positive, negative), 2),
        predicted=pred,
        confidence=np.where(pred == positive, p, 1 - p),
        tooltips=[{"eps": 0.0}] * k + [{"eps": eps}] * k,
        title="Test digits and their adversarial versions (unclipped, drawn clipped to [0, 1])",
    )
    return alt.vconcat(weights, digits)


def penalty_chart(curves: pd.DataFrame) -> alt.HConcatChart:
    """The effective L1 coefficient (as a share of eps) and the penalty added to the loss,
    per epoch, for adversarial training (solid) and L1 decay (dashed), one colour per eps:
    :func:`advlib.linear.penalty_history`'s table (C11)."""
    _require(
        curves,
        ["objective", "eps", "epoch", "L1 coefficient / eps", "penalty added to the loss"],
        "penalty_chart: curves",
    )
    dash = alt.StrokeDash(
        "objective:N",
        title="objective",
        scale=alt.Scale(domain=["adversarial", "L1 decay"], range=[[1, 0], [6, 3]]),
    )
    base = alt.Chart(curves).encode(
        x=alt.X("epoch:Q", title="epoch"),
        color=alt.Color("eps:N", title="eps"),
        strokeDash=dash,
        tooltip=[
            "objective:N",
            "eps:N",
            "epoch:Q",
            alt.Tooltip("L1 coefficient / eps:Q", format=".1%"),
            alt.Tooltip("penalty added to the loss:Q", format=".4f"),
        ],
    )
    panels = []
    for column, axis, title, y_title in (
        (
            "L1 coefficient / eps",
            alt.Axis(format=".0%"),
            "The adversarial penalty fades; L1 decay does not",
            "effective L1 coefficient / eps",
        ),
        (
            "penalty added to the loss",
            alt.Axis(),
            "Penalty added to the training loss",
            "what the penalty adds to the loss",
        ),
    ):
        y = alt.Y(f"{column}:Q", axis=axis, title=y_title)
        panels.append(
            alt.layer(
                base.mark_line().encode(y=y), base.mark_point(size=12, filled=True).encode(y=y)
            ).properties(width=280, height=220, title=title)
        )
    return alt.hconcat(*panels)


def prediction_grid(
    rows: dict[str, tuple[Any, np.ndarray]],
    labels: Sequence[int],
    *,
    tooltips: dict[str, dict] | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """Rows of digits, each classified by its own model: ``rows`` maps a row name to
    ``(model, images (n, 784))``, every row with the same n digits whose true classes are
    ``labels`` (n,). Captions give the model's predicted class and confidence, red where wrong;
    ``tooltips`` adds fields per row (e.g. ``{"FGSM · maxout": {"eps": 0.25}}``)."""
    from advlib.measure import predict

    images, names, predicted, confidence, tips = [], [], [], [], []
    for name, (model, x) in rows.items():
        pred, conf, _ = predict(model, np.asarray(x, dtype=np.float32))
        images.append(np.asarray(x))
        names += [name] * len(pred)
        predicted.append(pred)
        confidence.append(conf)
        tips += [dict((tooltips or {}).get(name, {}))] * len(pred)
    return digit_grid(
        np.concatenate(images),
        rows=names,
        labels=np.tile(labels, len(rows)),
        predicted=np.concatenate(predicted),
        confidence=np.concatenate(confidence),
        tooltips=tips,
        title=title,
    )


def logit_panel(
    eps: Any,
    scores: Any,
    label: int,
    *,
    fitted: Any = None,
    title: str = "",
    width: int = 330,
    height: int = 280,
) -> alt.LayerChart:
    """The k scores of one input along its FGSM line (Sec. 8, Fig. 4): one line per class
    against eps, an optional fit (dashed, same shape as ``scores``), green bands where the
    input is classified ``label``, and points with tooltips on about 60 eps values.

    eps: (m,); scores: (m, k), e.g. a row of :func:`advlib.measure.scores_along_fgsm`.
    """
    eps, scores = np.asarray(eps), np.asarray(scores)
    k = scores.shape[1]
    classes = alt.Color("class:N", title="class", scale=alt.Scale(scheme="category10"))
    df = pd.DataFrame(
        {
            "eps": np.repeat(eps, k),
            "class": np.tile(np.arange(k), len(eps)).astype(str),
            "logit": scores.ravel(),
            "predicted": np.repeat(scores.argmax(axis=1), k).astype(str),
        }
    )
    base = alt.Chart(df).encode(x=alt.X("eps:Q", title="eps along sign(∇ₓJ)"), color=classes)
    layers = [base.mark_line(strokeWidth=1.5).encode(y=alt.Y("logit:Q", title="logit"))]
    if fitted is not None:
        df["fit"] = np.asarray(fitted).ravel()
        layers.append(
            alt.Chart(df)
            .mark_line(strokeDash=[3, 3], strokeWidth=1)
            .encode(x="eps:Q", y="fit:Q", color=classes)
        )
    right = pd.DataFrame({"eps": eps, "right": scores.argmax(axis=1) == label})
    runs = right.assign(run=(right["right"] != right["right"].shift()).cumsum())
    runs = runs[runs["right"]].groupby("run").agg(start=("eps", "min"), end=("eps", "max"))
    band = (
        alt.Chart(runs)
        .mark_rect(opacity=0.25, color="#54a24b")
        .encode(
            x="start:Q",
            x2="end:Q",
            tooltip=[
                alt.Tooltip("start:Q", title="right from eps", format=".2f"),
                alt.Tooltip("end:Q", title="to eps", format=".2f"),
            ],
        )
    )
    every = max(1, len(eps) // 60)
    points = df[np.repeat(np.arange(len(eps)) % every == 0, k)]
    layers.append(
        alt.Chart(points)
        .mark_point(size=16, filled=True)
        .encode(
            x="eps:Q",
            y="logit:Q",
            color=classes,
            tooltip=[
                "class:N",
                alt.Tooltip("eps:Q", format=".2f"),
                alt.Tooltip("logit:Q", format=".2f"),
                "predicted:N",
            ],
        )
    )
    return alt.layer(band, *layers).properties(width=width, height=height, title=title)


def fgsm_line_figure(
    eps: Any,
    scores: Any,
    zoom_eps: Any,
    zoom_scores: Any,
    label: int,
    *,
    fitted: Any = None,
    title: str = "",
    fit_title: str = "",
) -> alt.HConcatChart:
    """Two :func:`logit_panel` side by side: the whole FGSM line (``eps``, ``scores``, with
    ``fitted`` dashed) and the same line near the clean input (``zoom_eps``, ``zoom_scores``);
    at most 300 points per line are drawn."""
    drawn = slice(None, None, max(1, len(eps) // 300))
    fitted = None if fitted is None else np.asarray(fitted)[drawn]
    return alt.hconcat(
        logit_panel(
            np.asarray(eps)[drawn], np.asarray(scores)[drawn], label, fitted=fitted, title=fit_title
        ),
        logit_panel(
            zoom_eps,
            zoom_scores,
            label,
            title=f"near the clean digit, eps in ±{float(np.max(np.abs(zoom_eps))):g}",
            width=230,
        ),
    ).properties(title=title)


def paper_bars(
    df: pd.DataFrame | dict,
    *,
    category: str,
    title: str,
    x_title: str,
    by_model: bool = False,
    chance: tuple[float, str] | None = None,
    width: int = 340,
    height: int = 260,
) -> alt.LayerChart:
    """Our rates beside the paper's, as horizontal bars in [0, 1], one pair per ``category``.

    df: one row per (category, source) with columns ``category``, ``source`` ("ours" or
    "paper") and ``value``; or a dict ``{"paper": {category: value}, "ours": {...}}``.
    by_model: the categories are model names, drawn in their book-wide colours (ours solid,
    the paper's faint); else ours blue and the paper's grey. chance: (value, label) of a
    dashed reference line (e.g. agreement by chance).
    """
    if isinstance(df, dict):
        df = pd.DataFrame(
            [
                {category: k, "source": source, "value": v}
                for source, values in df.items()
                for k, v in values.items()
            ]
        )
    _require(df, [category, "source", "value"], "paper_bars: df")
    order = list(dict.fromkeys(df[category]))
    if by_model:
        colour = alt.Color(f"{category}:N", scale=model_scale(order), legend=None)
        extra = dict(
            opacity=alt.Opacity(
                "source:N", scale=alt.Scale(domain=["ours", "paper"], range=[1.0, 0.35])
            )
        )
    else:
        colour = alt.Color(
            "source:N", scale=alt.Scale(domain=["paper", "ours"], range=["#bab0ac", "#4c78a8"])
        )
        extra = {}
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X(
                "value:Q",
                axis=alt.Axis(format=".0%"),
                title=x_title,
                scale=alt.Scale(domain=[0, 1]),
            ),
            yOffset=alt.YOffset("source:N", sort=["ours", "paper"]),
            color=colour,
            tooltip=[f"{category}:N", "source:N", alt.Tooltip("value:Q", format=".1%")],
            **extra,
        )
    )
    layers = [bars]
    if chance is not None:
        line = pd.DataFrame({"value": [chance[0]], "what": [chance[1]]})
        layers.append(
            alt.Chart(line)
            .mark_rule(strokeDash=[4, 3], color="#555")
            .encode(x="value:Q", tooltip=["what:N", alt.Tooltip("value:Q", format=".1%")])
        )
    return alt.layer(*layers).properties(width=width, height=height, title=title)


def histograms(
    samples: dict,
    *,
    x_title: str,
    y_title: str = "count",
    title: str = "",
    bins: int = 60,
    width: int = 420,
    height: int = 200,
) -> alt.Chart:
    """Overlaid histograms, one colour per entry of ``samples`` (label → values (n,)), with a
    tooltip on every bar (its label, bin and count)."""
    df = pd.DataFrame(
        {
            "value": np.concatenate([np.asarray(v) for v in samples.values()]),
            "data": np.repeat(list(samples), [len(v) for v in samples.values()]),
        }
    )
    return (
        alt.Chart(df)
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("value:Q", bin=alt.Bin(maxbins=bins), title=x_title),
            y=alt.Y("count():Q", stack=None, title=y_title),
            color=alt.Color("data:N", scale=alt.Scale(scheme="set1"), title=None),
            tooltip=[
                "data:N",
                alt.Tooltip("value:Q", bin=True, title="bin"),
                alt.Tooltip("count():Q", title=y_title),
            ],
        )
        .properties(width=width, height=height, title=title)
    )


def class_shares(
    classes: pd.DataFrame, models: Sequence[str], *, title: str = "", columns: int = 2
) -> alt.FacetChart:
    """The classes a model gives its false positives (:func:`advlib.measure.rubbish`'s class
    table: one row per (model, class) with ``count`` and ``share``), one small bar chart per
    model of ``models``, in the model's book-wide colour."""
    _require(classes, ["model", "class", "count", "share"], "class_shares: classes")
    df = classes[classes["model"].isin(models)]
    df = df.assign(**{"class": df["class"].astype(str)})
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("class:N", title="class of the false positive", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("share:Q", axis=alt.Axis(format=".0%"), title="share of false positives"),
            color=alt.Color("model:N", scale=model_scale(list(models)), legend=None),
            tooltip=[
                "model:N",
                "class:N",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("count:Q", title="noise inputs"),
            ],
        )
        .properties(width=170, height=130)
        .facet(
            facet=alt.Facet("model:N", sort=list(models), title=None),
            columns=columns,
        )
        .properties(title=title)
    )


def weight_grid(
    rows: dict[str, np.ndarray],
    *,
    fraction: float = 0.1,
    size: int = 52,
    title: str | None = None,
) -> alt.LayerChart:
    """Rows of first-layer weight images (red positive, blue negative, each scaled to its own
    largest weight): ``rows`` maps a row name to images (units, 784). Each image's tooltip gives
    its top-``fraction`` energy share and spread (:mod:`advlib.weights`)."""
    from advlib.weights import spread, top_share

    images, captions, names, tips = [], [], [], []
    for name, w in rows.items():
        w = np.asarray(w, dtype=np.float64)
        shares, radii = top_share(w, fraction), spread(w)
        for u, image in enumerate(w):
            images.append(image)
            captions.append(f"unit {u + 1}")
            names.append(name)
            tips.append(
                {
                    f"top-{fraction:.0%} energy share": float(shares[u]),
                    "spread (pixels)": float(radii[u]),
                }
            )
    return digit_grid(
        np.array(images), captions, rows=names, signed=True, size=size, tooltips=tips, title=title
    )


def verdict_chart(rows: list[dict], sections: dict[str, str], section_of: dict[str, str]):
    """Bars of claims-table rows per section of the paper, coloured by their rule verdict, one
    panel per scale: ``rows`` as stored by ``claims_table`` (``claim``, ``scale``,
    ``verdict``), ``sections`` section id → title, ``section_of`` claim id → section id."""
    frame = pd.DataFrame(
        [
            {
                "section title": sections.get(section_of[r["claim"]]),
                "scale": r["scale"],
                "verdict": r["verdict"],
            }
            for r in rows
        ],
        columns=["section title", "scale", "verdict"],
    )
    counted = frame.value_counts().reset_index(name="rows")
    return (
        alt.Chart(counted)
        .mark_bar()
        .encode(
            y=alt.Y(
                "section title:N",
                sort=list(sections.values()),
                title=None,
                axis=alt.Axis(labelLimit=360),
            ),
            x=alt.X("rows:Q", title="rows in the claims tables"),
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(
                    domain=["holds", "differs", "not run"], range=["#54a24b", "#f58518", "#bab0ac"]
                ),
            ),
            row=alt.Row("scale:N", title=None),
            tooltip=["section title:N", "scale:N", "verdict:N", "rows:Q"],
        )
        .properties(width=260, height=200, title="Rule verdicts by section of the paper")
    )
