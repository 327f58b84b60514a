# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (ch-summary)=
# # 11. The claims at a glance
#
# Section 10 of {cite:t}`goodfellow2015explaining` sums the paper up: adversarial examples
# follow from models being too linear, they can be made cheaply with the fast gradient sign
# method, they generalise across models because different models learn similar linear
# functions, adversarial training regularises beyond dropout, and models that are easy to
# optimise are easy to perturb. This page collects every claim the book checks, from the
# claims tables that end each chapter: the paper's number, ours, the verdict and the chapter.
# Nothing here is typed in: the rows are read back from what the chapters recorded.

# %% tags=["parameters"]
results_dir: str = ""  # folder of stored claims tables; empty means this book's _build/results

# %%
import altair as alt
import pandas as pd
from IPython.display import HTML, display

from advlib.book import charts, record  # noqa: F401 (offline charts)
from advlib.book.paper import PAPER, SECTIONS
from advlib.book.results import claims_html, load_claims

stored = load_claims(results_dir or None)
rows = [row for row in stored if row["claim"] in PAPER]  # the paper's claims, C1 to C29
claims = pd.DataFrame(rows)
ids = list(PAPER)
checked = set(claims["claim"]) if len(claims) else set()
missing = [c for c in ids if c not in checked]
record("claims_total", len(ids))
record("claims_checked", len(ids) - len(missing))
record("rows", len(claims))
for verdict in ("holds", "differs", "not run"):
    record(f"verdict_{verdict.replace(' ', '_')}",
           int((claims["verdict"] == verdict).sum()) if len(claims) else 0)
record("missing_claims", missing)
record("beyond_rows", len(stored) - len(rows))

# %% [markdown]
# Of the paper's {glue:text}`claims_total:d` claims, {glue:text}`claims_checked:d` are checked
# in the chapters, in {glue:text}`rows:d` rows: {glue:text}`verdict_holds:d` hold,
# {glue:text}`verdict_differs:d` differ and {glue:text}`verdict_not_run:d` could not be run
# here (they need CIFAR-10 or ImageNet, which do not ship with the book). A verdict is *holds*
# when our number meets the rule in the chapter's table — a tolerance around the paper's number,
# or the direction the paper claims — and *differs* otherwise; the reason is given beside it,
# usually our smaller data set and training budget. The {glue:text}`beyond_rows:d` rows of
# questions the paper did not ask (ids B1, B2, ...) are in {ref}`ch-beyond`'s own table.

# %%
if missing:
    print("Claims no chapter has checked yet:", ", ".join(missing))
else:
    print(f"Every claim, C1 to C{len(ids)}, is checked by a chapter.")
by_section = claims.assign(
    section=[PAPER[c]["section"] for c in claims["claim"]]
) if len(claims) else pd.DataFrame(columns=["section", "verdict"])
counts = by_section.groupby(["section", "verdict"]).size().reset_index(name="rows")
counts["section title"] = [SECTIONS.get(s, s) for s in counts["section"]]
alt.Chart(counts).mark_bar().encode(
    y=alt.Y("section title:N", sort=list(SECTIONS.values()), title=None,
            axis=alt.Axis(labelLimit=360)),
    x=alt.X("rows:Q", title="rows in the claims tables"),
    color=alt.Color("verdict:N", scale=alt.Scale(
        domain=["holds", "differs", "not run"], range=["#54a24b", "#f58518", "#bab0ac"])),
    tooltip=["section title:N", "verdict:N", "rows:Q"],
).properties(width=260, height=200, title="Verdicts by section of the paper")

# %% [markdown]
# ## Every claim
#
# Each claim id links to the chapter that checks it.

# %%
display(HTML(claims_html(rows, link=True)))
