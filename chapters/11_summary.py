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
# claims tables that end each chapter: the paper's number, ours, both verdicts and the chapter.
# Nothing here is typed in: the rows are read back from what the chapters recorded.
#
# Every row carries two verdicts. The **rule** verdict applies the direction or size the paper
# states ("holds" or "differs"): FGSM error far above clean error, adversarial training lowering
# it, transfer weaker towards the adversarially trained model. The **paper's number** verdict
# sets our number against the paper's: "reproduced" when it lies within two standard errors of
# a rate measured on our test set (or a stated relative tolerance for other quantities), "not
# comparable" when the row was computed at another setting than the paper's, "no number" where
# the paper gives none. The two answer different questions, and each chapter's table gives the
# reason for every difference.

# %% tags=["parameters"]
results_dir: str = ""  # folder of stored claims tables; empty means this book's own

# %%
from IPython.display import HTML, display

from advlib.book import charts, record
from advlib.book.build import toc_stems
from advlib.book.paper import PAPER, SECTIONS
from advlib.book.paths import book_root
from advlib.book.results import book_claims, claims_html, load_claims, verdict_counts

stems = toc_stems(book_root())
stored = load_claims(results_dir, chapters=stems) if results_dir else book_claims(
    book_root(), stems)
rows = [row for row in stored if row["claim"] in PAPER]  # the paper's claims, C1 to C29
counts = verdict_counts(rows)
scales = {row["scale"]: row["context"] for row in rows if row["chapter"] == "04_fgsm"}
checked = {row["claim"] for row in rows}
missing = [c for c in PAPER if c not in checked]

# %% tags=["remove-cell"]
kinds = {"rule": "rule", "paper's number": "number"}
record({"claims_total": len(PAPER), "claims_checked": len(PAPER) - len(missing),
        "missing_claims": ", ".join(missing) or "none", "beyond_rows": len(stored) - len(rows),
        "scales": " and ".join(sorted(scales)), "counts": counts.to_dict("records"),
        **{f"{r.scale}_{kinds[r.kind]}_{r.verdict.replace(' ', '_')}": r.rows
           for r in counts.itertuples()}})

# %% [markdown]
# Of the paper's {glue:text}`claims_total:d` claims, {glue:text}`claims_checked:d` are checked
# in the chapters, at the scales {glue:text}`scales:s`. The {glue:text}`beyond_rows:d` rows of
# questions the paper did not ask (ids B1, B2, ...) are in {ref}`ch-beyond`'s own table.
#
# The table counts the rows of each scale by verdict. The quick scale is what `jupyter-book
# build .` runs: the 5,000 digits embedded in the book and budgets of minutes, where the rules
# should hold and the paper's numbers mostly cannot. The paper scale is full MNIST and the
# paper's protocol (`python -m advlib book --scale paper`); where this build did not run it, the
# rows come from the run kept in the repository's `results/` folder, with the data and budget
# it ran on below.

# %%
display(counts.pivot_table(index="scale", columns=["kind", "verdict"], values="rows",
                           fill_value=0, aggfunc="sum"))
for scale, context in scales.items():
    print(f"{scale}: {context}")

# %% tags=["hide-input"]
charts.verdict_chart(rows, SECTIONS, {c: PAPER[c]["section"] for c in PAPER})

# %% [markdown]
# ## Every claim
#
# Each claim id links to the chapter that checks it; the scale and the data behind each row are
# in the chapter's own table. Claims no chapter has checked yet: {glue:text}`missing_claims`.

# %%
display(HTML(claims_html(rows, link=True)))
