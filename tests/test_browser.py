"""The built site as a reader meets it: every page of ``_toc.yml`` in headless Chromium, offline.

Each page is served from a local ``http.server`` with every other request blocked and recorded,
and checked for: no request leaving the site, no JavaScript error, every altair chart drawn
(an ``svg``/``canvas`` of non-zero size holding data marks, fitting the page column, a vega
tooltip on hover), MathJax typeset (no raw TeX left), and on chapter pages a claims table with a
verdict in every row: the direction verdict and the second, whether the paper's number is
reproduced.

Needs the built book (``python -m advlib book`` or ``jupyter-book build .``; ``$ADVLIB_SITE``
points at another built site) and Chromium (``apt-get install chromium``; ``$ADVLIB_CHROMIUM``
names another binary). Without them the tests skip, unless ``ADVLIB_REQUIRE_BROWSER=1`` (CI):
then a missing browser or site fails.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("ADVLIB_SITE") or ROOT / "_build" / "html")
REQUIRED = os.environ.get("ADVLIB_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("ADVLIB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags that let Chromium run headless as root in a container, and keep it from phoning home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VERDICTS = {"holds", "differs", "not run"}
REPRODUCED = {"reproduced", "not reproduced", "not comparable", "no number", "not run"}
"""The two verdicts of a claims row (advlib.book.results.Claim.verdict and .reproduced)."""
SETTLE_MS = 15_000  # how long charts and MathJax may take to draw on a 2-core machine

pytestmark = pytest.mark.browser


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (ADVLIB_REQUIRE_BROWSER=1: the browser tests must run)")
    pytest.skip(reason)


def toc_pages(root: Path = ROOT) -> list[str]:
    """The root page and every file of ``_toc.yml``, in reading order, as the build reads it."""
    return list(parse_toc_yaml(str(root / "_toc.yml")))


# --------------------------------------------------------------------------------------------
# What a reader's browser sees on one page


_CHARTS_JS = """() => [...document.querySelectorAll('.advlib-chart')].map((el) => {
  const g = el.querySelector('svg, canvas');
  const r = g ? g.getBoundingClientRect() : {width: 0, height: 0};
  const svg = g && g.tagName.toLowerCase() === 'svg';
  return {
    id: el.id || null,
    kind: g ? g.tagName.toLowerCase() : null,
    width: r.width, height: r.height,
    // data marks (vega's role-mark groups; axes, legends and titles have other roles)
    marks: svg ? el.querySelectorAll('g.role-mark > *').length : null,
    overflow: el.scrollWidth - el.clientWidth,
    text: g ? '' : el.textContent.trim().slice(0, 200),
  };
})"""

_SETTLED_JS = """() => [...document.querySelectorAll('.advlib-chart')].every(
  (el) => el.querySelector('svg, canvas') || el.textContent.trim())"""

_MATH_JS = r"""async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const root = document.querySelector('main') || document.body;
  const raw = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, mjx-container, .highlight')) continue;
    if (/\\\(|\\\[|\$\$|\\begin\{/.test(node.textContent)) {  // \( \[ $$ \begin{
      raw.push(node.textContent.trim().slice(0, 80));
    }
  }
  return {
    typeset: document.querySelectorAll('mjx-container').length,
    untypeset: [...document.querySelectorAll('.math')]
      .filter((el) => !el.querySelector('mjx-container')).map((el) => el.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')]
      .map((el) => el.getAttribute('data-mjx-error') || el.textContent),
    raw,
  };
}"""

_TRACEBACKS_JS = """() => [...document.querySelectorAll('div.output.traceback, div.output.error')]
    .map((el) => el.textContent.trim().split('\\n').pop().slice(0, 200))"""

_CLAIMS_JS = """() => [...document.querySelectorAll('table.advlib-claims')].map((t) => {
  const rows = [...t.querySelectorAll('tbody tr')];
  // each row's verdict spans, in column order: the direction verdict, then the paper's number
  const spans = rows.map((r) => [...r.querySelectorAll('.advlib-verdict')]
    .map((v) => v.textContent.trim()));
  return {rows: rows.length, verdicts: spans.map((v) => v[0] ?? null),
          reproduced: spans.map((v) => v[1] ?? null)};
})"""

# Items of marks that carry a datum (and so a tooltip): points, images, bars.
_HOVERABLE = (
    "g.role-mark.mark-symbol > path, g.role-mark.mark-image > image, g.role-mark.mark-rect > path"
)


@dataclass
class Chart:
    """One ``.advlib-chart`` as drawn in the browser."""

    id: str | None
    kind: str | None
    width: float
    height: float
    marks: int | None
    overflow: int
    text: str
    tooltip: str | None = None  # the tooltip's text after hovering a point; None: not tried

    @property
    def rendered(self) -> bool:
        """An svg or canvas of non-zero size that (for svg) holds at least one data mark."""
        return (
            self.kind is not None
            and self.width > 0
            and self.height > 0
            and (self.marks is None or self.marks > 0)
        )

    def problem(self) -> str | None:
        if self.kind is None:
            return f"not drawn, no svg or canvas ({self.text or 'empty container'})"
        if self.width <= 0 or self.height <= 0:
            return f"its {self.kind} has no size ({self.width} × {self.height})"
        if self.marks == 0:
            return "drawn with axes but no data marks (its data is missing)"
        if self.overflow > 1:
            return f"{self.overflow:.0f} px wider than the page column"
        if self.tooltip == "":
            return "hovering a point shows no tooltip"
        return None


@dataclass
class PageReport:
    """Everything the checks look at on one page; :meth:`problems` lists what is wrong."""

    url: str
    external: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    claims: list[dict] = field(default_factory=list)
    chapter: bool = False
    tracebacks: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = [f"requested outside the site: {u}" for u in self.external]
        out += [f"JavaScript error: {e}" for e in self.errors]
        out += [f"failed to load: {u}" for u in self.failed]
        for i, chart in enumerate(self.charts, 1):
            if (p := chart.problem()) is not None:
                out.append(f"chart {i} of {len(self.charts)} (#{chart.id}): {p}")
        m = self.math
        out += [f"maths not typeset: {t!r}" for t in m.get("untypeset", [])]
        out += [f"MathJax error: {t!r}" for t in m.get("errors", [])]
        out += [f"raw TeX in the text: {t!r}" for t in m.get("raw", [])]
        out += [f"a cell's error output on the page: {t!r}" for t in self.tracebacks]
        if self.chapter:
            if not self.claims:
                out.append("chapter page without a claims table (table.advlib-claims)")
            for t in self.claims:
                if t["rows"] == 0:
                    out.append("claims table with no rows")
                bad = [v for v in t["verdicts"] if v not in VERDICTS]
                if bad:
                    out.append(f"claims rows without a verdict in {sorted(VERDICTS)}: {bad}")
                bad = [v for v in t.get("reproduced", []) if v not in REPRODUCED]
                if bad:
                    out.append(
                        f"claims rows without a second verdict in {sorted(REPRODUCED)}: {bad}"
                    )
        return out


def check_page(
    browser,
    url: str,
    allowed: Callable[[str], bool],
    *,
    hover: bool = True,
    javascript: bool = True,
    settle_ms: int = SETTLE_MS,
    screenshot: Path | None = None,
    claims: bool | None = None,
) -> PageReport:
    """Open ``url`` in a fresh context (a reader's first visit) with every request for which
    ``allowed(url)`` is false blocked and recorded; wait for charts and MathJax; report.
    ``claims``: whether the page must hold a claims table (default: every page in chapters/)."""
    report = PageReport(url=url, chapter="/chapters/" in url if claims is None else claims)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
    )

    def route(r) -> None:
        if allowed(r.request.url):
            r.continue_()
        else:
            report.external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and report.errors.append(m.text))
    page.on("pageerror", lambda e: report.errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and report.failed.append(f"{r.status} {r.url}"))
    try:
        page.goto(url, wait_until="load")
        if javascript:
            try:
                page.wait_for_function(_SETTLED_JS, timeout=settle_ms)
            except Exception:  # the report says which chart never drew
                pass
            report.math = page.evaluate(_MATH_JS)
        report.charts = [Chart(**c) for c in page.evaluate(_CHARTS_JS)]
        report.claims = page.evaluate(_CLAIMS_JS)
        report.tracebacks = page.evaluate(_TRACEBACKS_JS)
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
        if hover and javascript:
            _hover_each_chart(page, report.charts)
    finally:
        context.close()
    return report


def _hover_each_chart(page, charts: list[Chart]) -> None:
    """Hover the first point (image, bar) of each drawn interactive chart; keep the tooltip."""
    for chart in charts:
        if not (chart.rendered and chart.id and chart.kind == "svg"):
            continue
        item = page.locator(f"#{chart.id}").locator(_HOVERABLE).first
        if item.count() == 0:
            continue  # lines or text only: nothing a reader can point at
        item.scroll_into_view_if_needed()
        box = item.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = page.locator("#vg-tooltip-element.visible")
        try:
            tip.wait_for(state="visible", timeout=2000)
            chart.tooltip = tip.inner_text().strip()
        except Exception:
            chart.tooltip = ""
        page.mouse.move(0, 0)


# --------------------------------------------------------------------------------------------
# Fixtures: one browser for all pages, one local server


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements-test.txt)")
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site at {SITE} (build it: python -m advlib book)")
    return SITE


@pytest.fixture(scope="module")
def server(site):
    """``site`` served on 127.0.0.1 at a free port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


def _local(prefix: str) -> Callable[[str], bool]:
    return lambda url: url.startswith(prefix) or url.startswith(("data:", "blob:", "about:"))


# --------------------------------------------------------------------------------------------
# The site


def test_every_page_works_offline_with_charts_maths_and_claims(browser, server, site):
    pages = toc_pages()
    missing = [p for p in pages if not (site / f"{p}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from {site}: {missing} (rebuild the book)"
    shots = os.environ.get("ADVLIB_SCREENSHOTS")  # a folder: full-page screenshots go there
    # every chapter whose source ends in a claims table (all but the sweep page) must show it
    claims_pages = {
        p
        for p in pages
        if (ROOT / f"{p}.py").is_file()
        and any(
            call in (ROOT / f"{p}.py").read_text(encoding="utf-8")
            for call in ("claims_table(", "claims_html(")
        )
    }
    assert len(claims_pages) >= 10, claims_pages
    problems, hovered = {}, 0
    for name in pages:
        shot = Path(shots) / f"{name.replace('/', '_')}.png" if shots else None
        report = check_page(
            browser,
            server + f"{name}.html",
            _local(server),
            screenshot=shot,
            claims=name in claims_pages,
        )
        hovered += sum(bool(c.tooltip) for c in report.charts)
        if report.problems():
            problems[name] = report.problems()
    assert not problems, "reader-visible problems:\n" + json.dumps(problems, indent=1)
    if any(
        (site / f"{p}.html").read_text(encoding="utf-8").count("advlib-interactive") for p in pages
    ):
        assert hovered > 0, "no interactive chart showed a vega tooltip on hover"


# --------------------------------------------------------------------------------------------
# The checker can fail


def _first_chart_page(site: Path) -> str:
    for name in toc_pages():
        path = site / f"{name}.html"
        if path.is_file() and "advlib-interactive" in path.read_text(encoding="utf-8"):
            return name
    pytest.skip("no page of the built site has an interactive chart")


_SPEC = re.compile(r"(  var spec = )(.*?)(;\n)")


def strip_chart(html: str, what: str) -> str:
    """``html`` with the first interactive chart broken: ``"data"`` drops its data sets,
    ``"script"`` drops the script that draws it."""
    if what == "data":
        match = _SPEC.search(html)
        spec = json.loads(match.group(2).replace("<\\/", "</"))
        spec.pop("datasets", None)
        spec.pop("data", None)
        return html[: match.start(2)] + json.dumps(spec) + html[match.end(2) :]
    start = html.index('<script type="text/javascript">\n(function () {\n  var el')
    end = html.index("</script>", start) + len("</script>")
    return html[:start] + html[end:]


@pytest.mark.parametrize("what", ["data", "script"])
def test_a_chart_without_its_data_is_reported_not_rendered(browser, site, tmp_path, what):
    """A copy of the site (opened from file://) with one chart's data or script removed: the
    checker must name exactly that chart, and still find the page's other charts drawn."""
    name = _first_chart_page(site)
    copy = tmp_path / "html"
    shutil.copytree(site, copy)
    page = copy / f"{name}.html"
    page.write_text(strip_chart(page.read_text(encoding="utf-8"), what), encoding="utf-8")
    report = check_page(browser, page.as_uri(), _local(copy.as_uri()), hover=False, settle_ms=3000)
    print("\n".join(report.problems()))
    assert not report.charts[0].rendered
    assert all(c.rendered for c in report.charts[1:])
    chart_problems = [p for p in report.problems() if p.startswith("chart ")]
    assert len(chart_problems) == 1 and chart_problems[0].startswith("chart 1 of")


def test_blocked_requests_are_recorded(browser, site, tmp_path):
    """A page that asks a CDN for a script: the request is blocked and reported."""
    page = tmp_path / "cdn.html"
    page.write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
        "</head><body><p>hello</p></body></html>",
        encoding="utf-8",
    )
    report = check_page(browser, page.as_uri(), _local(tmp_path.as_uri()), hover=False)
    assert report.external == ["https://cdn.jsdelivr.net/npm/vega@5"]
    assert any("outside the site" in p for p in report.problems())


def test_maths_left_raw_is_reported(browser, tmp_path):
    """A page whose maths MathJax never typeset (no MathJax loaded): both checks fire."""
    page = tmp_path / "raw.html"
    page.write_text(
        '<html><body><main><p>The change is <span class="math notranslate '
        'nohighlight">\\(\\epsilon \\lVert w \\rVert_1\\)</span>.</p>'
        "</main></body></html>",
        encoding="utf-8",
    )
    report = check_page(browser, page.as_uri(), _local(tmp_path.as_uri()), hover=False)
    assert report.math["untypeset"] and report.math["raw"]
    assert any(p.startswith("raw TeX in the text") for p in report.problems())


def test_a_cell_that_raised_is_reported(browser, tmp_path):
    """A page rendered from a notebook whose cell raised (MyST-NB's traceback output)."""
    page = tmp_path / "raised.html"
    page.write_text(
        '<html><body><main><div class="cell_output docutils container"><div '
        'class="output traceback highlight-ipythontb notranslate"><pre>Traceback\n'
        "AttributeError: 'tuple_iterator' object has no attribute 'close'</pre>"
        "</div></div></main></body></html>",
        encoding="utf-8",
    )
    report = check_page(browser, page.as_uri(), _local(tmp_path.as_uri()), hover=False)
    assert report.problems() == [
        "a cell's error output on the page: \"AttributeError: 'tuple_iterator' object has no "
        "attribute 'close'\""
    ]


def test_a_claims_row_without_its_second_verdict_is_reported(browser, tmp_path):
    """A chapter page whose claims table (made by claims_html) lost one row's second verdict."""
    from advlib.book.results import Claim, at_most, claims_html

    rows = [
        Claim("C4", "error", 0.0094, 0.010, at_most(0.02), n=10_000).as_row("04"),
        Claim("C5", "FGSM error", 0.894, 0.97, at_most(1.0), n=10_000).as_row("04"),
    ]
    html = claims_html(rows).replace(
        '<span class="advlib-verdict advlib-not-reproduced">not reproduced</span>', "", 1
    )
    page = tmp_path / "claims.html"
    page.write_text(f"<html><body><main>{html}</main></body></html>", encoding="utf-8")
    report = check_page(browser, page.as_uri(), _local(tmp_path.as_uri()), hover=False, claims=True)
    assert report.claims == [
        {"rows": 2, "verdicts": ["holds", "holds"], "reproduced": ["reproduced", None]}
    ]
    assert [p for p in report.problems() if "second verdict" in p] == [
        "claims rows without a second verdict in ['no number', 'not comparable', "
        "'not reproduced', 'not run', 'reproduced']: [None]"
    ]


# --------------------------------------------------------------------------------------------
# The helpers' figures, and the static fallback


def _chart_page(folder: Path, html_charts: list[str], bundle: str | None) -> Path:
    head = f'<script src="{bundle}"></script>' if bundle else ""
    page = folder / "charts.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>"
        + "\n".join(html_charts)
        + "</body></html>",
        encoding="utf-8",
    )
    return page


def test_helper_figures_draw_offline_with_a_tooltip_on_every_kind(browser, tmp_path):
    """digit_grid, rate_chart, training_curves and robustness_chart, rendered by the
    interactive renderer with the shared vega bundle: drawn, and hovering shows a tooltip."""
    import numpy as np
    import pandas as pd

    from advlib.book import charts
    from advlib.book.sphinxext import write_vega_bundle

    bundle = write_vega_bundle(tmp_path)
    rng = np.random.default_rng(0)
    rob = pd.DataFrame(
        [
            {"model": m, "eps": e, "error": min(1.0, k * e), "confidence": 0.9}
            for m, k in (("maxout", 4.0), ("rbf", 0.5))
            for e in (0, 0.1, 0.25)
        ]
    )
    hist = {
        "maxout": {
            "epochs": [
                {"phase": "fit", "epoch": t, "valid_error": 0.1 / t, "valid_adv_error": 0.5 / t}
                for t in (1, 2, 3)
            ]
        }
    }
    figures = {
        "digit_grid": charts.digit_grid(
            rng.uniform(0, 1, (4, 784)),
            labels=[1, 2, 3, 4],
            predicted=[1, 2, 8, 4],
            confidence=[0.9, 0.8, 0.99, 0.7],
        ),
        "rate_chart": charts.rate_chart(rob, x="eps", y="error"),
        "training_curves": charts.training_curves(hist),
        "robustness_chart": charts.robustness_chart(rob),
    }
    html = [charts._interactive_bundle(chart.to_dict())["text/html"] for chart in figures.values()]
    page = _chart_page(tmp_path, html, bundle.name)
    report = check_page(browser, page.as_uri(), _local(tmp_path.as_uri()))
    assert report.problems() == []
    tips = dict(zip(figures, (c.tooltip for c in report.charts), strict=False))
    assert all(tips.values()), tips
    assert "predicted" in tips["digit_grid"] and "confidence" in tips["digit_grid"]
    assert "model" in tips["rate_chart"] and "eps" in tips["rate_chart"]
    assert "epoch" in tips["training_curves"]


@pytest.fixture(scope="module")
def svg_chapter(tmp_path_factory):
    """Chapter 3 (small parameters) executed with ``ADVLIB_CHARTS=svg``: its charts' HTML."""
    import nbformat

    from advlib.book.runner import run_chapter

    out = tmp_path_factory.mktemp("svg") / "03.ipynb"
    run_chapter(
        ROOT / "chapters" / "03_linear_explanation.py",
        out,
        {"max_exponent": 3, "draws": 2},
        env={"ADVLIB_CHARTS": "svg"},
    )
    nb = nbformat.read(out, as_version=4)
    html = [
        o.get("data", {}).get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    ]
    return [h for h in html if "advlib-chart" in h]


@pytest.mark.slow
def test_svg_renderer_inlines_svg_in_each_chart_of_a_chapter(svg_chapter):
    assert len(svg_chapter) >= 2
    for html in svg_chapter:
        assert html.startswith('<div class="advlib-chart advlib-static"><svg')
        assert "vegaEmbed" not in html and "<script" not in html


@pytest.mark.slow
def test_svg_charts_draw_with_javascript_off(browser, svg_chapter, tmp_path):
    page = _chart_page(tmp_path, svg_chapter, bundle=None)
    report = check_page(browser, page.as_uri(), _local(tmp_path.as_uri()), javascript=False)
    assert report.problems() == []
    assert len(report.charts) == len(svg_chapter)
    assert all(c.kind == "svg" and c.marks > 0 for c in report.charts)
