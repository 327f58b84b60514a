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
# (ch-linear-explanation)=
# # 3. The linear explanation of adversarial examples
#
# {cite:t}`goodfellow2015explaining` start from a linear model. Its input features have limited
# precision: an 8-bit image stores each pixel to $1/255$ of its range, so a classifier should
# not answer differently for $x$ and $\tilde x = x + \eta$ when every element of $\eta$ is below
# that precision. Yet for a weight vector $w$ the activation moves by
#
# $$ w^\top \tilde x = w^\top x + w^\top \eta , $$
#
# and under the max-norm constraint $\lVert \eta \rVert_\infty \le \epsilon$ the largest move
# comes from $\eta = \epsilon\,\mathrm{sign}(w)$, for which $w^\top \eta = \epsilon \lVert w
# \rVert_1 \approx \epsilon m n$, with $m$ the mean magnitude of a weight and $n$ the
# dimension. The size of the perturbation does not grow with $n$; the change it causes does,
# linearly. Many imperceptible changes add up to one large change in the output: the paper
# calls it *accidental steganography*. This chapter measures both statements.

# %% tags=["parameters"]
eps: float = 0.25  # max-norm of the perturbation eta (pixels in [0, 1])
max_exponent: int = 6  # the largest dimension n is 10^max_exponent
seed: int = 0  # seed of the random weights and inputs
draws: int = 10  # random weight vectors per dimension (the table shows their mean)
backend: str = "auto"  # array module: "auto" (CuPy when a GPU is present), "numpy" or "cupy"

# %%
import altair as alt
import numpy as np
import pandas as pd

from advlib.book import charts, record  # noqa: F401 (offline charts)
from advlib.linear import activation_change, backend_name, quantize_8bit, sign_perturbation
from advlib.linear import backend as array_backend
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_most, claims_table, data_note, when, within

xp = array_backend(backend)
rng = np.random.default_rng(seed)
data_note(
    f"synthetic: weights w ~ N(0, 1) and inputs x ~ U(0, 1), seed {seed}, for n = 10 … "
    f"10^{max_exponent}; arrays on {backend_name(xp)}. No MNIST is needed for this section."
)

# %% [markdown]
# ## The change grows with the dimension, the perturbation does not
#
# For each dimension $n$ we draw {glue:text}`draws:d` weight vectors and inputs, form
# $\eta = \epsilon\,\mathrm{sign}(w)$ with {func}`advlib.linear.sign_perturbation`, and measure
# the change of the activation directly, $w^\top(x + \eta) - w^\top x$, beside the closed form
# $\epsilon \lVert w \rVert_1$ from {func}`advlib.linear.activation_change`.

# %%
rows = []
for n in (10 ** k for k in range(1, max_exponent + 1)):
    for draw in range(draws):
        w = xp.asarray(rng.standard_normal(n))
        x = xp.asarray(rng.uniform(0.0, 1.0, n))
        eta = sign_perturbation(w, eps)
        measured = float(w @ (x + eta) - w @ x)
        closed_form = float(activation_change(w, eps))
        rows.append({
            "n": n,
            "draw": draw,
            "max-norm of eta": float(xp.max(xp.abs(eta))),
            "measured change": measured,
            "eps * ||w||_1": closed_form,
            "eps * m * n": eps * float(xp.mean(xp.abs(w))) * n,
            "relative deviation": abs(measured - closed_form) / closed_form,
        })
draws_table = pd.DataFrame(rows)
growth = draws_table.groupby("n", as_index=False).agg({
    "max-norm of eta": "max", "measured change": "mean", "eps * ||w||_1": "mean",
    "eps * m * n": "mean", "relative deviation": "max"})
growth

# %%
slope = float(np.polyfit(np.log10(growth["n"]), np.log10(growth["measured change"]), 1)[0])
record("eps", eps)
record("draws", draws)
record("n_max", int(growth["n"].iloc[-1]))
record("change_at_n_max", float(growth["measured change"].iloc[-1]))
record("change_at_n_min", float(growth["measured change"].iloc[0]))
record("growth_slope", slope)
record("max_eta_norm", float(growth["max-norm of eta"].max()))
record("max_relative_deviation", float(growth["relative deviation"].max()))
record("mnist_n", 784)
record("paper_eps", PAPER["C4"]["eps"])
record("mnist_change", PAPER["C4"]["eps"] * np.sqrt(2 / np.pi) * 784)

long = growth.melt(id_vars="n", value_vars=["measured change", "max-norm of eta"],
                   var_name="quantity", value_name="value")
alt.Chart(long).mark_line(point=True).encode(
    x=alt.X("n:Q", scale=alt.Scale(type="log"), title="dimension n"),
    y=alt.Y("value:Q", scale=alt.Scale(type="log"), title="size (log scale)"),
    color=alt.Color("quantity:N", title=None),
    tooltip=["n:Q", "quantity:N", alt.Tooltip("value:Q", format=".4g")],
).properties(width=420, height=260,
             title=f"eps = {eps}: the activation change grows like n, the perturbation stays eps")

# %% [markdown]
# With $\epsilon$ = {glue:text}`eps:.2f`, the activation moves by {glue:text}`change_at_n_min:.3g`
# at $n = 10$ and by {glue:text}`change_at_n_max:.4g` at $n$ = {glue:text}`n_max:,d`, while
# the largest element of $\eta$ stays {glue:text}`max_eta_norm:.2f` for every $n$. A straight
# line through the measured changes on log–log axes has slope {glue:text}`growth_slope:.3f`:
# the change is linear in $n$. The measured change agrees with $\epsilon \lVert w \rVert_1$ to
# a relative {glue:text}`max_relative_deviation:.1e` (floating-point rounding), because
# $w^\top \eta = \epsilon \sum_i w_i\,\mathrm{sign}(w_i) = \epsilon \sum_i |w_i|$ exactly.
#
# A 28 × 28 MNIST digit has $n$ = {glue:text}`mnist_n:d` pixels: at the paper's MNIST
# $\epsilon$ = {glue:text}`paper_eps:.2f` a linear unit with unit-variance weights
# ($m = \sqrt{2/\pi}$) moves by about {glue:text}`mnist_change:.0f`, far more than the spread of
# its activation over clean digits. The chapters that follow show the same arithmetic fooling
# trained models.

# %% [markdown]
# ## What an 8-bit image can hold
#
# The argument rests on precision: a perturbation smaller than what the format stores cannot
# be a meaningful change of the image. Below we store an image with every 8-bit level, plus
# $\epsilon\,\mathrm{sign}(w)$, back in 8 bits ({func}`advlib.linear.quantize_8bit`, rounding to
# the nearest level) and count the pixels that changed, for $\epsilon$ from 0 to
# {glue:text}`eps_grid_top:.1f` levels.

# %%
levels = xp.asarray(np.tile(np.arange(256) / 255.0, 40))  # every 8-bit value, 40 times
direction = xp.asarray(rng.standard_normal(levels.shape[0]))
eps_grid = np.linspace(0.0, 1.5, 61) / 255.0
record("eps_grid_top", float(eps_grid[-1] * 255.0))
stored = []
for e in eps_grid:
    kept = quantize_8bit(levels + sign_perturbation(direction, float(e)))
    moved = xp.round(xp.abs(kept - levels) * 255.0)  # whole levels
    stored.append({
        "eps (levels of 1/255)": float(e * 255.0),
        "eps": float(e),
        "pixels changed": float(xp.mean(moved > 0.5)),
        "largest move (levels)": float(xp.max(moved)),
    })
stored = pd.DataFrame(stored)
first_change = float(stored.loc[stored["pixels changed"] > 0, "eps"].min())
below_precision = stored[stored["eps"] < 1 / 255.0]
record("first_changing_eps", first_change)
record("first_changing_eps_levels", first_change * 255.0)
record("largest_move_below_precision", float(below_precision["largest move (levels)"].max()))

alt.Chart(stored).mark_line(point=True, interpolate="step-after").encode(
    x=alt.X("eps (levels of 1/255):Q", title="eps, in levels of 1/255"),
    y=alt.Y("pixels changed:Q", axis=alt.Axis(format=".0%"), title="pixels changed after storing"),
    tooltip=[alt.Tooltip("eps (levels of 1/255):Q", format=".3f"),
             alt.Tooltip("pixels changed:Q", format=".1%"),
             alt.Tooltip("largest move (levels):Q", format=".0f")],
).properties(width=420, height=220, title="Storing x + eps·sign(w) as an 8-bit image")

# %% [markdown]
# No stored pixel changes until $\epsilon$ reaches {glue:text}`first_changing_eps_levels:.2f`
# of a level: rounding to the nearest level discards every perturbation below half the
# precision, and below one full level ($1/255$) a pixel moves by at most
# {glue:text}`largest_move_below_precision:.0f` level, which is exactly the rounding error the
# format already makes. In the paper's words, such a perturbation is below the precision of the
# features, so a well-behaved classifier should treat $x$ and $x + \eta$ alike — and the
# linear arithmetic above shows why high-dimensional models do not.

# %% [markdown]
# ## Claims
#
# The paper's statement beside what this chapter computed. The rule column says how each
# verdict is decided.

# %%
claims_table("03_linear_explanation", [
    Claim("C1", "wᵀη = eps·‖w‖₁ for η = eps·sign(w): largest relative deviation over n",
          "exact", max(growth["relative deviation"]),
          at_most(1e-9, "relative deviation", pct=False), pct=False,
          why="Floating-point rounding only."),
    Claim("C1", "growth of wᵀη with n: slope on log–log axes", 1.0, slope,
          within(0.02, points=False), pct=False,
          why=f"Random w ~ N(0, 1), n = 10 … 10^{max_exponent}."),
    Claim("C1", "‖η‖∞ for every n (stays eps)", eps, float(growth["max-norm of eta"].max()),
          within(1e-12, points=False), pct=False),
    Claim("C2", "8-bit precision: smallest eps a stored image keeps",
          PAPER["C2"]["precision"], first_change,
          when(first_change <= PAPER["C2"]["precision"]
               and float(below_precision["largest move (levels)"].max()) <= 1,
               "ours ≤ 1/255 and no pixel moves more than one level below 1/255"),
          pct=False, digits=3,
          why="Rounding to the nearest level discards changes below 1/510; up to 1/255 a "
              "pixel moves by one level at most (the rounding error of the format)."),
])
