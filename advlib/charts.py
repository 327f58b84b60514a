"""Altair figures for the book, rendered so that pages work with no network.

Two renderers, chosen with :func:`use` (or ``$ADVLIB_CHARTS``):

- ``"interactive"`` (default): a ``<div>`` and a ``vegaEmbed`` call that uses the one shared
  vega bundle served from the site's ``_static/`` (written by ``advlib.sphinxext``); tooltips
  work, nothing is loaded from a CDN.
- ``"svg"``: static SVG made by vl-convert, inlined in the page (no JavaScript at all).

Colours are fixed per model (:data:`MODEL_COLORS`) so a model looks the same in every chapter.
"""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from typing import Any, Sequence

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
    return {"text/html": f'<div class="advlib-chart advlib-static">{svg}</div>', "image/svg+xml": svg}


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
        img = Image.fromarray(pixels, mode="RGB")
    else:
        pixels = (255 - np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8)  # ink is dark
        img = Image.fromarray(pixels, mode="L")
    img = img.resize((28 * scale, 28 * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def digit_grid(
    images: np.ndarray,
    captions: Sequence[str],
    *,
    rows: Sequence[str] | None = None,
    columns: int = 10,
    size: int = 64,
    signed: bool = False,
    tooltips: Sequence[dict] | None = None,
    title: str | None = None,
) -> alt.Chart:
    """A grid of 28×28 images (n, 784) with a caption under each and a tooltip on each.

    ``rows`` labels each image's row (e.g. "clean", "adversarial"); without it images wrap
    after ``columns``. ``tooltips`` adds fields per image (e.g. prediction, confidence).
    """
    images = np.asarray(images)
    n = len(images)
    if len(captions) != n:
        raise ValueError(f"digit_grid: {n} images but {len(captions)} captions")
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
        rec = {
            "url": digit_url(images[i], signed=signed),
            "caption": captions[i],
            "row": row_of[i],
            "col": col_of[i],
            "row_name": rows[i] if rows is not None else "",
        }
        if tooltips is not None:
            rec.update(tooltips[i])
        records.append(rec)
    df = pd.DataFrame(records)
    extra = [c for c in df.columns if c not in ("url", "row", "col", "row_name")]
    n_rows, n_cols = max(row_of) + 1, max(col_of) + 1
    x = alt.X("col:O", axis=None, scale=alt.Scale(paddingInner=0.1))
    y = alt.Y("row:O", axis=None, scale=alt.Scale(paddingInner=0.45))
    base = alt.Chart(df).encode(x=x, y=y)
    images_layer = base.mark_image(width=size, height=size).encode(
        url="url:N", tooltip=[alt.Tooltip(c) for c in extra]
    )
    text_layer = base.mark_text(dy=size / 2 + 8, fontSize=11).encode(text="caption:N")
    layers = [images_layer, text_layer]
    if rows is not None:
        labels = pd.DataFrame({"row": range(n_rows), "row_name": row_names, "col": 0})
        layers.append(
            alt.Chart(labels).mark_text(align="right", dx=-size / 2 - 6, fontWeight="bold")
            .encode(x=x, y=y, text="row_name:N")
        )
    chart = alt.layer(*layers).properties(
        width=n_cols * (size + 12), height=n_rows * (size + 30)
    )
    return chart.properties(title=title) if title else chart


def _tooltip(df: pd.DataFrame, column: str, fmt: str | None) -> alt.Tooltip:
    numeric = pd.api.types.is_numeric_dtype(df[column])
    kwargs = {"format": fmt} if fmt else ({"format": ".4g"} if numeric else {})
    return alt.Tooltip(f"{column}:{'Q' if numeric else 'N'}", **kwargs)


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
) -> alt.Chart:
    """Lines with points of a rate (error, confidence) against a parameter, one colour per
    model (book-wide colours), a tooltip on every point; ``dash`` splits lines by a column."""
    enc = dict(
        x=alt.X(f"{x}:Q", title=x_title or x),
        y=alt.Y(f"{y}:Q", title=y_title or y, axis=alt.Axis(format=y_format)),
        color=alt.Color(f"{color}:N", scale=model_scale(df[color].unique()), title=color),
        tooltip=[_tooltip(df, c, y_format if c == y else None) for c in df.columns],
    )
    if dash:
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", title=dash)
    chart = alt.Chart(df).mark_line(point=True).encode(**enc).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart
