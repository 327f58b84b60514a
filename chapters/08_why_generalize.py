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
# (ch-why-generalize)=
# # 8. Why do adversarial examples generalize?
#
# An adversarial example made for one model is often misclassified by another, even one with
# a different architecture or trained on different data {cite}`szegedy2014intriguing`, and the
# two models often agree on the *wrong* class. If adversarial examples were rare, finely
# scattered pockets in input space — like the rational numbers among the reals — each model
# would have its own pockets, and transfer would be a puzzle.
# {cite:t}`goodfellow2015explaining` argue from the linear view instead. What fools a model is
# the *direction* of the perturbation, $\mathrm{sign}(\nabla_x J)$, not its exact size: if the
# model is close to linear along that direction, every $\epsilon$ large enough fools it, so
# adversarial examples fill broad regions (here: long intervals of $\epsilon$) rather than
# points. And if different models all resemble the same linear classifier learned from the
# same kind of data, they are fooled by the same directions, into the same classes.
#
# This chapter repeats both of the paper's experiments: the logits of a maxout network
# {cite}`goodfellow2013maxout` along the FGSM direction over a wide range of $\epsilon$
# (the paper's Fig. 4), and the agreement between the maxout network, softmax regression and
# the shallow RBF network of {ref}`ch-model-capacity` on adversarial examples made for the
# maxout network.

# %% tags=["parameters"]
dataset: str = "mnist-embedded"  # mnist-embedded (5k digits, shipped), mnist or fashion-mnist
seed: int = 0  # seed of the models' initial weights and batch order
eps: float = 0.25  # max-norm of the FGSM examples whose transfer is measured (the paper: .25)
eps_range: float = 15.0  # the FGSM line is traced for eps in [-eps_range, eps_range]
eps_points: int = 601  # points on that line
digits: int = 200  # test digits (the first ones) over which the eps ranges are summarised
digit: int = -1  # test digit whose logits are drawn; -1 takes the typical one (see the text)
pieces: int = 3  # linear segments of the piecewise-linear fit to the logits

# %%
import altair as alt
import numpy as np
import pandas as pd

from advlib.book import charts, record
from advlib.data import describe_dataset, load_dataset
from advlib.measure import (
    adversarial,
    agreement,
    fgsm_direction,
    fooled_range,
    piecewise_linear_fit,
    scores_along_fgsm,
)
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_least, at_most, claims_table, data_note, when, within
from advlib.train import predict
from advlib.zoo import recipe, trained

data_note(describe_dataset(dataset))
x_test, y_test = load_dataset(dataset, "test")
maxout = trained(recipe("maxout", dataset=dataset, seed=seed))[0]
softmax = trained(recipe("softmax", dataset=dataset, seed=seed))[0]
rbf = trained(recipe("rbf", dataset=dataset, seed=seed))[0]

# %% [markdown]
# ## The logits along the FGSM direction
#
# Take a test digit $x$ with label $y$, compute the FGSM direction
# $s = \mathrm{sign}(\nabla_x J(\theta, x, y))$ once, and evaluate the network on the whole
# line $x + \epsilon s$ for $\epsilon$ from $-${glue:text}`eps_range:.0f` to
# {glue:text}`eps_range:.0f` (`advlib.measure.scores_along_fgsm`), unclipped as in the
# paper; negative $\epsilon$ go against the gradient. The maxout network
# {cite}`goodfellow2013maxout`, trained on clean digits only (no adversarial training), is
# piecewise linear by construction: each unit is the maximum of five affine maps, so along a
# line every logit is linear until some unit switches piece. The question is how many pieces
# it *uses*: a network that had learned a strongly non-linear function of its input would bend
# its logits all along the line.
#
# We trace the line through the first {glue:text}`digits:d` test digits and draw a typical
# one rather than pick a digit that looks like the paper's figure: of the digits the network
# classifies right, the first whose share of the line that is misclassified is nearest the
# median over all of them.

# %%
eps_grid = np.round(np.linspace(-eps_range, eps_range, eps_points), 6)
record("eps_range", eps_range)
sub_x, sub_y = x_test[:digits], y_test[:digits]
record("digits", len(sub_y))
lines = {name: scores_along_fgsm(model, sub_x, sub_y, eps_grid)
         for name, model in (("maxout", maxout), ("softmax regression", softmax), ("rbf", rbf))}
ranges = {name: fooled_range(s, sub_y, eps_grid) for name, s in lines.items()}
r = ranges["maxout"]
if digit < 0:  # of the digits classified right at eps = 0, the first one nearest the median
    right_at_zero = r[r["correct_width"].notna()]
    digit = int((right_at_zero["wrong_fraction"] - r["wrong_fraction"].median()).abs().idxmin())
record("digit", digit)
record("digit_label", int(y_test[digit]))
one_digit = (x_test[digit:digit + 1], y_test[digit:digit + 1])
line = scores_along_fgsm(maxout, *one_digit, eps_grid)[0]
zoom_grid = np.round(np.linspace(-1.0, 1.0, 201), 6)  # the same line near the clean digit
zoom = scores_along_fgsm(maxout, *one_digit, zoom_grid)[0]
fit = piecewise_linear_fit(eps_grid, line, pieces=pieces)
fit_one = piecewise_linear_fit(eps_grid, line, pieces=1)
pred_line = line.argmax(axis=1)
correct = pred_line == y_test[digit]
record("pieces", pieces)
record("r2_piecewise", fit["r2"])
record("unexplained_piecewise", 1.0 - fit["r2"])
record("r2_line", fit_one["r2"])
record("knots", fit["knots"])
record("class_changes", int((pred_line[1:] != pred_line[:-1]).sum()))
record("classes_on_line", len(set(pred_line.tolist())))
record("correct_fraction_digit", float(correct.mean()))

# %% tags=["hide-input"]
classes = alt.Color("class:N", title="class", scale=alt.Scale(scheme="category10"))


def logit_panel(eps_values, scores, fitted, title, width):
    """Ten logits against eps (lines), a fit (dashed), where the digit is right (green),
    and points with tooltips on about 60 eps values."""
    label = int(y_test[digit])
    df = pd.DataFrame({
        "eps": np.repeat(eps_values, 10),
        "class": np.tile(np.arange(10), len(eps_values)).astype(str),
        "logit": scores.ravel(),
        "predicted": np.repeat(scores.argmax(axis=1), 10).astype(str),
    })
    base = alt.Chart(df).encode(x=alt.X("eps:Q", title="eps along sign(∇ₓJ)"), color=classes)
    layers = [base.mark_line(strokeWidth=1.5).encode(y=alt.Y("logit:Q", title="logit"))]
    if fitted is not None:
        df["fit"] = fitted.ravel()
        layers.append(alt.Chart(df).mark_line(strokeDash=[3, 3], strokeWidth=1).encode(
            x="eps:Q", y="fit:Q", color=classes))
    right = pd.DataFrame({"eps": eps_values, "right": scores.argmax(axis=1) == label})
    runs = right.assign(run=(right["right"] != right["right"].shift()).cumsum())
    runs = runs[runs["right"]].groupby("run").agg(start=("eps", "min"), end=("eps", "max"))
    band = alt.Chart(runs).mark_rect(opacity=0.25, color="#54a24b").encode(
        x="start:Q", x2="end:Q",
        tooltip=[alt.Tooltip("start:Q", title="right from eps", format=".2f"),
                 alt.Tooltip("end:Q", title="to eps", format=".2f")])
    every = max(1, len(eps_values) // 60)
    points = df[np.repeat(np.arange(len(eps_values)) % every == 0, 10)]
    layers.append(alt.Chart(points).mark_point(size=16, filled=True).encode(
        x="eps:Q", y="logit:Q", color=classes,
        tooltip=["class:N", alt.Tooltip("eps:Q", format=".2f"),
                 alt.Tooltip("logit:Q", format=".2f"), "predicted:N"]))
    return alt.layer(band, *layers).properties(width=width, height=280, title=title)


drawn = slice(None, None, max(1, len(eps_grid) // 300))  # 300 eps per line draw it smoothly
alt.hconcat(
    logit_panel(eps_grid[drawn], line[drawn], fit["fitted"][drawn],
                f"eps in ±{eps_range:g}; dashed: {pieces}-piece fit", 330),
    logit_panel(zoom_grid, zoom, None, "near the clean digit, eps in ±1", 230),
).properties(title=f"Maxout logits along the FGSM line of test digit {digit} (a {y_test[digit]}); "
             "green: classified right")

# %% [markdown]
# The ten logits of this digit (a {glue:text}`digit_label:d`) are conspicuously piecewise
# linear: one straight line per logit already explains R² = {glue:text}`r2_line:.3f` of their
# variation over the whole range, and a continuous fit with {glue:text}`pieces:d` segments —
# one set of knots shared by the ten logits, since all of them bend where a hidden unit
# switches piece (`advlib.measure.piecewise_linear_fit`) — leaves unexplained a share
# 1 − R² = {glue:text}`unexplained_piecewise:.1e` of their variance (dashed, hard to tell from
# the logits). Near the clean digit (right panel) the logits do bend, and only there does
# the right class win (green). Along the whole
# line the predicted class changes {glue:text}`class_changes:d` times, among
# {glue:text}`classes_on_line:d` classes, and the
# right class is predicted on {glue:text}`correct_fraction_digit:.1%` of the line (green).
# The digit itself at a few points of the line, with the maxout network's answer:

# %%
shown = [-eps_range, -5.0, -1.0, -eps, 0.0, eps, 1.0, 5.0, eps_range]
direction = fgsm_direction(maxout, x_test[digit:digit + 1], y_test[digit:digit + 1]).numpy()
strip = (x_test[digit] + np.array(shown)[:, None] * direction).astype(np.float32)
strip_pred, strip_conf, _ = predict(maxout, strip)
charts.digit_grid(
    strip, labels=[int(y_test[digit])] * len(shown), predicted=strip_pred,
    confidence=strip_conf, tooltips=[{"eps": e} for e in shown], columns=len(shown),
    title="x + eps·sign(∇ₓJ) for eps = " + ", ".join(f"{e:g}" for e in shown)
          + " (shown clipped to [0, 1])",
)

# %% [markdown]
# ## Adversarial examples fill broad intervals
#
# Over the {glue:text}`digits:d` digits: the fraction the maxout network misclassifies at each
# $\epsilon$ (`advlib.measure.fooled_range`), beside softmax regression (exactly linear
# in $\epsilon$) and the RBF network of {ref}`ch-model-capacity` (its $\log p_k$ is a parabola
# in $\epsilon$), each along its own FGSM direction.

# %%
every = max(1, len(eps_grid) // 120)  # about 120 points per model are enough to draw
along = pd.concat([
    pd.DataFrame({"model": name, "eps": eps_grid,
                  "error": (s.argmax(axis=-1) != sub_y[:, None]).mean(axis=0)})[::every]
    for name, s in lines.items()
])
charts.rate_chart(along, x="eps", y="error", x_title="eps along sign(∇ₓJ) (each model its own)",
                  y_title="fraction misclassified",
                  title=f"Error along the FGSM line, {len(sub_y)} test digits", width=520)

# %%
record("wrong_fraction_median", float(r["wrong_fraction"].median()))
record("wrong_fraction_positive_median", float(r["wrong_fraction_positive"].median()))
record("correct_width_median", float(r["correct_width"].median()))
record("correct_width_share", float(r["correct_width"].median() / (2 * eps_range)))
record("correct_at_zero", float(r["correct_width"].notna().mean()))
record("class_changes_median", float(r["class_changes"].median()))
far = {name: float((s[:, 0].argmax(axis=-1) != sub_y).mean()) for name, s in lines.items()}
record("maxout_wrong_far_negative", far["maxout"])
record("softmax_wrong_far_negative", far["softmax regression"])
fits = [piecewise_linear_fit(eps_grid, s, pieces=2, candidates=31)["r2"]
        for s in lines["maxout"][:20]]
record("r2_two_pieces_median", float(np.median(fits)))
record("r2_two_pieces_min", float(np.min(fits)))
record("r2_two_pieces_digits", len(fits))
record("rbf_r2_piecewise", piecewise_linear_fit(eps_grid, lines["rbf"][digit % len(sub_y)],
                                                pieces=pieces)["r2"])
table = pd.DataFrame({
    name: {
        "median share of the line misclassified": ranges[name]["wrong_fraction"].median(),
        "… of its eps > 0 half": ranges[name]["wrong_fraction_positive"].median(),
        "median width of the correct interval around 0": ranges[name]["correct_width"].median(),
        "median number of class changes": ranges[name]["class_changes"].median(),
    } for name in ranges
})
table.style.format("{:.3g}")

# %% [markdown]
# For the median digit the maxout network is wrong on {glue:text}`wrong_fraction_median:.1%`
# of the line and on {glue:text}`wrong_fraction_positive_median:.1%` of its FGSM half
# ($\epsilon > 0$), while it is right only on an interval of width
# {glue:text}`correct_width_median:.2f` around the clean digit
# ({glue:text}`correct_width_share:.1%` of the range) — the thin set the paper describes. Wrong
# answers hold over long, contiguous stretches: the median digit changes class only
# {glue:text}`class_changes_median:.0f` times along the whole line. Even against the gradient
# the network ends up wrong: at $\epsilon = -${glue:text}`eps_range:.0f` it misclassifies
# {glue:text}`maxout_wrong_far_negative:.1%` of the digits, where softmax regression, whose
# logits are exactly linear, misclassifies {glue:text}`softmax_wrong_far_negative:.1%`: the
# maxout network's pieces are linear, but they are not one line. Adversarial examples are not
# isolated points that must be searched for with care: any $\epsilon$ past a threshold, in the
# right direction, is one. Across the first {glue:text}`r2_two_pieces_digits:d` digits a
# two-segment fit explains a median R² of {glue:text}`r2_two_pieces_median:.4f` of the logits
# (the worst: {glue:text}`r2_two_pieces_min:.4f`). The RBF network's log-probabilities, by
# contrast, are parabolas in $\epsilon$: {glue:text}`pieces:d` segments explain
# R² = {glue:text}`rbf_r2_piecewise:.3f` of them for the same digit.

# %% [markdown]
# ## Do different models make the same mistakes?
#
# The paper's hypothesis is that models trained with current methods all resemble the linear
# classifier one would learn from the same data, and that this classifier is stable: trained
# on different subsets of the data it finds about the same weights, so it is fooled by the
# same directions, into the same classes. To test it, FGSM examples are made on the maxout
# network at $\epsilon$ = {glue:text}`eps:.2f` (unclipped) and classified by softmax
# regression (linear) and by the shallow RBF network (far less linear). Two rates answer
# different questions (`advlib.measure.agreement`):
#
# - *over the maxout network's mistakes*, how often does the other model predict the maxout
#   network's (wrong) class? This mixes agreement with the other model's own error rate: a
#   model that is often right cannot agree with a mistake.
# - *over the examples both models get wrong*, how often do they give the same wrong class?
#   Two models that err at random among the nine wrong classes agree 1/9 ≈ 11% of the time.

# %%
record("eps", eps)
x_adv = adversarial(maxout, x_test, y_test, eps, clip=None)
preds = {name: predict(model, x_adv)[0]
         for name, model in (("maxout", maxout), ("softmax", softmax), ("rbf", rbf))}
errors = {name: float((p != y_test).mean()) for name, p in preds.items()}
for name, e in errors.items():
    record(f"{name}_error", e)
pairs = agreement(preds, y_test).set_index(["a", "b"])
rates = {
    "rbf_on_maxout_mistakes": pairs.loc[("maxout", "rbf"), "b_predicts_a"],
    "softmax_on_maxout_mistakes": pairs.loc[("maxout", "softmax"), "b_predicts_a"],
    "softmax_agrees_maxout": pairs.loc[("maxout", "softmax"), "agree_both_wrong"],
    "rbf_agrees_maxout": pairs.loc[("maxout", "rbf"), "agree_both_wrong"],
    "rbf_agrees_softmax": pairs.loc[("softmax", "rbf"), "agree_both_wrong"],
}
for name, value in rates.items():
    record(name, float(value))
    record(f"paper_{name}", PAPER["C25"][name])
record("both_wrong_softmax", int(pairs.loc[("maxout", "softmax"), "both_wrong"]))
record("both_wrong_rbf", int(pairs.loc[("maxout", "rbf"), "both_wrong"]))
described = {
    "rbf_on_maxout_mistakes": "RBF predicts maxout's class | maxout wrong",
    "softmax_on_maxout_mistakes": "softmax predicts maxout's class | maxout wrong",
    "softmax_agrees_maxout": "softmax = maxout | both wrong",
    "rbf_agrees_maxout": "RBF = maxout | both wrong",
    "rbf_agrees_softmax": "RBF = softmax | both wrong",
}
pairs.style.format({"b_predicts_a": "{:.1%}", "agree_both_wrong": "{:.1%}"})

# %% tags=["hide-input"]
bars = pd.DataFrame(
    [{"rate": described[k], "source": "paper", "value": PAPER["C25"][k]} for k in rates]
    + [{"rate": described[k], "source": "ours", "value": float(v)} for k, v in rates.items()]
)
chance = alt.Chart(pd.DataFrame({"value": [1 / 9], "what": ["two random mistakes: 1/9"]}))
alt.layer(
    alt.Chart(bars).mark_bar().encode(
        y=alt.Y("rate:N", sort=list(described.values()), title=None,
                axis=alt.Axis(labelLimit=320)),
        x=alt.X("value:Q", axis=alt.Axis(format=".0%"), title="agreement rate",
                scale=alt.Scale(domain=[0, 1])),
        yOffset="source:N",
        color=alt.Color("source:N", scale=alt.Scale(domain=["paper", "ours"],
                                                    range=["#bab0ac", "#4c78a8"])),
        tooltip=["rate:N", "source:N", alt.Tooltip("value:Q", format=".1%")],
    ),
    chance.mark_rule(strokeDash=[4, 3], color="#555").encode(
        x="value:Q", tooltip=["what:N", alt.Tooltip("value:Q", format=".1%")]),
).properties(width=340, height=260,
             title=f"FGSM examples made on maxout (eps = {eps}): who agrees with whom")

# %% [markdown]
# On the maxout network's adversarial examples the maxout network itself is wrong
# {glue:text}`maxout_error:.1%` of the time, softmax regression {glue:text}`softmax_error:.1%`
# and the RBF network {glue:text}`rbf_error:.1%`: the examples transfer. Over the maxout
# network's mistakes, softmax regression predicts the maxout network's class
# {glue:text}`softmax_on_maxout_mistakes:.1%` of the time (paper:
# {glue:text}`paper_softmax_on_maxout_mistakes:.1%`) and the RBF network only
# {glue:text}`rbf_on_maxout_mistakes:.1%` (paper: {glue:text}`paper_rbf_on_maxout_mistakes:.1%`).
# Restricted to the examples both get wrong ({glue:text}`both_wrong_softmax:,d` for softmax,
# {glue:text}`both_wrong_rbf:,d` for RBF), softmax regression gives the maxout network's class
# {glue:text}`softmax_agrees_maxout:.1%` of the time (paper:
# {glue:text}`paper_softmax_agrees_maxout:.1%`) and the RBF network
# {glue:text}`rbf_agrees_maxout:.1%` (paper: {glue:text}`paper_rbf_agrees_maxout:.1%`); the
# RBF network agrees with softmax regression {glue:text}`rbf_agrees_softmax:.1%` of the time
# (paper: {glue:text}`paper_rbf_agrees_softmax:.1%`). Where both models are wrong, every pair
# agrees far more often than the 1/9 of random mistakes, and the linear model shares the
# maxout network's mistakes most: as the paper argues, the maxout network behaves like the
# linear classifier learned from the same data. The RBF network agrees less with either, but
# still well above chance: it too has a linear component, the first term of the expansion in
# {ref}`ch-model-capacity`.

# %% [markdown]
# ## Claims
#
# The paper's numbers beside ours, on {glue:text}`test_size:,d` test digits. Our models are
# trained on far fewer digits for far fewer epochs than the paper's, so their error rates on
# the maxout network's examples — which drive the first two agreement rates — differ; the
# directions the paper draws from them are what the rules test.

# %%
record("test_size", len(y_test))
n_train = len(load_dataset(dataset, "train")[1])
why = (f"{n_train:,} training digits ({dataset}); the error rates on maxout's examples, which "
       "these rates depend on, differ from the paper's.")
lead = rates["softmax_agrees_maxout"] - rates["rbf_agrees_maxout"]
claims_table("08_why_generalize", [
    Claim("C24", f"maxout logits along the FGSM line (eps in ±{eps_range:g}): variance a "
          f"{pieces}-piece linear fit leaves unexplained (1 − R²)", "Fig. 4",
          1.0 - fit["r2"], at_most(0.01, "1 − R²", pct=False), pct=False, digits=2,
          why=f"Test digit {digit}, knots shared by the ten logits; the paper shows a figure."),
    Claim("C24", "wrong classes over wide ranges of eps: median share of the line "
          "misclassified", "wide", float(r["wrong_fraction"].median()), at_least(0.5, "ours"),
          why=f"{len(sub_y)} test digits, eps in ±{eps_range:g}."),
    Claim("C24", "right answers only on a thin set: median width of the correct interval "
          "/ width of the range", "thin", float(r["correct_width"].median() / (2 * eps_range)),
          at_most(0.1, "ours"),
          why="The correct interval is the run of correctly classified eps around eps = 0."),
    *[Claim("C25", described[k], PAPER["C25"][k], float(v), within(0.15), why=why)
      for k, v in rates.items()],
    Claim("C25", "softmax agrees with maxout more than RBF does (both wrong): the difference",
          PAPER["C25"]["softmax_agrees_maxout"] - PAPER["C25"]["rbf_agrees_maxout"], lead,
          when(lead > 0, "ours > 0"),
          why="The paper's conclusion: the linear model resembles the maxout network more."),
])
