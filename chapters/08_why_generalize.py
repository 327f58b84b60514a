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
from typing import Literal

scale: Literal["quick", "paper"] = "quick"  # quick: the embedded digits; paper: full MNIST
dataset: Literal["default", "mnist-embedded", "mnist", "fashion-mnist"] = "default"  # the scale's
epoch_cap: int = 0  # when > 0, caps every model's training epochs
seed: int = 0  # seed of the models' initial weights and batch order
eps: float = 0.25  # max-norm of the FGSM examples whose transfer is measured (the paper's: C25)
eps_range: float = 15.0  # the FGSM line is traced for eps in [-eps_range, eps_range]
eps_points: int = 601  # points on that line
digits: int = 200  # test digits (the first ones) over which the eps ranges are summarised
digit: int = -1  # test digit whose logits are drawn; -1 takes the typical one (see the text)
pieces: int = 3  # linear segments of the piecewise-linear fit to the logits

# %%
import numpy as np

from advlib import measure
from advlib.book import charts, record, record_paper
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_least, at_most, claims_table, data_note, when, within
from advlib.data import describe_dataset, load_dataset
from advlib.zoo import recipe, scale_dataset, trained

data = scale_dataset(scale, dataset)
data_note(describe_dataset(data))
x_test, y_test = load_dataset(data, "test")
recipes = {name: recipe(entry, scale=scale, dataset=dataset, seed=seed, epoch_cap=epoch_cap)
           for name, entry in (("maxout", "maxout"), ("softmax regression", "softmax"),
                               ("rbf", "rbf"))}
models = {name: trained(r)[0] for name, r in recipes.items()}
maxout = models["maxout"]
record_paper("C25")

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
sub_x, sub_y = x_test[:digits], y_test[:digits]
lines = {name: measure.scores_along_fgsm(m, sub_x, sub_y, eps_grid)
         for name, m in models.items()}
ranges = {name: measure.fooled_range(s, sub_y, eps_grid) for name, s in lines.items()}
r = ranges["maxout"]
digit = measure.typical_digit(r) if digit < 0 else digit
label, one_digit = int(y_test[digit]), (x_test[digit:digit + 1], y_test[digit:digit + 1])
line = measure.scores_along_fgsm(maxout, *one_digit, eps_grid)[0]
zoom_grid = np.round(np.linspace(-1.0, 1.0, 201), 6)  # the same line near the clean digit
zoom = measure.scores_along_fgsm(maxout, *one_digit, zoom_grid)[0]
fit = measure.piecewise_linear_fit(eps_grid, line, pieces=pieces)
along = measure.line_classes(line, label)
record({"eps_range": eps_range, "digits": len(sub_y), "digit": digit, "digit_label": label,
        "pieces": pieces, "r2_piecewise": fit["r2"], "unexplained_piecewise": 1.0 - fit["r2"],
        "r2_line": measure.piecewise_linear_fit(eps_grid, line, pieces=1)["r2"],
        "knots": fit["knots"], "class_changes": along["class_changes"],
        "classes_on_line": along["classes"], "correct_fraction_digit": along["correct_fraction"]})

# %% tags=["hide-input"]
charts.fgsm_line_figure(eps_grid, line, zoom_grid, zoom, label, fitted=fit["fitted"],
                        fit_title=f"eps in ±{eps_range:g}; dashed: {pieces}-piece fit",
                        title=f"Maxout logits along the FGSM line of test digit {digit} (a "
                              f"{label}); green: classified right")

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
strip, strip_pred, strip_conf = measure.line_points(maxout, *one_digit, shown)
charts.digit_grid(strip, labels=[label] * len(shown), predicted=strip_pred, confidence=strip_conf,
                  tooltips=[{"eps": e} for e in shown], columns=len(shown),
                  title=f"x + eps·sign(∇ₓJ) for eps = {', '.join(f'{e:g}' for e in shown)} "
                        "(shown clipped to [0, 1])")

# %% [markdown]
# ## Adversarial examples fill broad intervals
#
# Over the {glue:text}`digits:d` digits: the fraction the maxout network misclassifies at each
# $\epsilon$ (`advlib.measure.fooled_range`), beside softmax regression (exactly linear
# in $\epsilon$) and the RBF network of {ref}`ch-model-capacity` (its $\log p_k$ is a parabola
# in $\epsilon$), each along its own FGSM direction.

# %%
every = max(1, len(eps_grid) // 120)  # about 120 points per model are enough to draw
charts.rate_chart(measure.error_along_line(lines, sub_y, eps_grid, every=every), x="eps",
                  y="error", x_title="eps along sign(∇ₓJ) (each model its own)",
                  y_title="fraction misclassified",
                  title=f"Error along the FGSM line, {len(sub_y)} test digits", width=520)

# %%
far = {name: float((s[:, 0].argmax(axis=-1) != sub_y).mean()) for name, s in lines.items()}
two = [measure.piecewise_linear_fit(eps_grid, s, pieces=2, candidates=31)["r2"]
       for s in lines["maxout"][:20]]
record({**{f"{c}_median": float(r[c].median()) for c in (
            "wrong_fraction", "wrong_fraction_positive", "correct_width", "class_changes")},
        "correct_width_share": float(r["correct_width"].median() / (2 * eps_range)),
        "correct_at_zero": float(r["correct_width"].notna().mean()),
        **{f"{name.split()[0]}_wrong_far_negative": v for name, v in far.items()},
        "r2_two_pieces_median": float(np.median(two)), "r2_two_pieces_min": float(np.min(two)),
        "r2_two_pieces_digits": len(two),
        "rbf_r2_piecewise": measure.piecewise_linear_fit(
            eps_grid, lines["rbf"][digit % len(sub_y)], pieces=pieces)["r2"]})
measure.fooled_summary(ranges).style.format("{:.3g}")

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
x_adv = measure.adversarial(maxout, x_test, y_test, eps, clip=None)
preds = {name.split()[0]: measure.predict(model, x_adv)[0] for name, model in models.items()}
pairs = measure.agreement(preds, y_test).set_index(["a", "b"])
c25 = measure.agreement_rates(pairs)  # the paper's five rates, what each counts, and over what
rates = c25["rate"].to_dict()
record({"eps": eps, **rates,
        **{f"{k}_error": float((pred != y_test).mean()) for k, pred in preds.items()},
        "both_wrong_softmax": int(pairs.loc[("maxout", "softmax"), "both_wrong"]),
        "both_wrong_rbf": int(pairs.loc[("maxout", "rbf"), "both_wrong"])})
pairs.style.format({"b_predicts_a": "{:.1%}", "agree_both_wrong": "{:.1%}"})

# %% tags=["hide-input"]
charts.paper_bars({source: {c25.loc[k, "what"]: values[k] for k in rates}
                   for source, values in (("paper", PAPER["C25"]), ("ours", rates))},
                  category="rate", x_title="agreement rate",
                  chance=(1 / 9, "two random mistakes: 1/9"),
                  title=f"FGSM examples made on maxout (eps = {eps}): who agrees with whom")

# %% [markdown]
# On the maxout network's adversarial examples the maxout network itself is wrong
# {glue:text}`maxout_error:.1%` of the time, softmax regression {glue:text}`softmax_error:.1%`
# and the RBF network {glue:text}`rbf_error:.1%`: the examples transfer. Over the maxout
# network's mistakes, softmax regression predicts the maxout network's class
# {glue:text}`softmax_on_maxout_mistakes:.1%` of the time (paper:
# {glue:text}`paper_C25_softmax_on_maxout_mistakes:.1%`) and the RBF network only
# {glue:text}`rbf_on_maxout_mistakes:.1%` (paper:
# {glue:text}`paper_C25_rbf_on_maxout_mistakes:.1%`). Restricted to the examples both get
# wrong ({glue:text}`both_wrong_softmax:,d` for softmax, {glue:text}`both_wrong_rbf:,d` for
# RBF), softmax regression gives the maxout network's class
# {glue:text}`softmax_agrees_maxout:.1%` of the time (paper:
# {glue:text}`paper_C25_softmax_agrees_maxout:.1%`) and the RBF network
# {glue:text}`rbf_agrees_maxout:.1%` (paper: {glue:text}`paper_C25_rbf_agrees_maxout:.1%`); the
# RBF network agrees with softmax regression {glue:text}`rbf_agrees_softmax:.1%` of the time
# (paper: {glue:text}`paper_C25_rbf_agrees_softmax:.1%`). Where both models are wrong, every pair
# agrees far more often than the 1/9 of random mistakes, and the linear model shares the
# maxout network's mistakes most: as the paper argues, the maxout network behaves like the
# linear classifier learned from the same data. The RBF network agrees less with either, but
# still well above chance: it too has a linear component, the first term of the expansion in
# {ref}`ch-model-capacity`.

# %% [markdown]
# ## Claims
#
# The paper's numbers beside ours, on {glue:text}`test_size:,d` test digits. Our models are
# trained by {glue:text}`maxout_recipe` on {glue:text}`train_size:,d` digits (the paper: the
# maxout paper's protocol on full MNIST), so their error rates on the maxout network's examples
# — which drive the first two agreement rates — may differ from the paper's; the directions
# the paper draws from them are what the rules test. A rate is the paper's number when it lies
# within two standard errors of it over the examples it counts (the maxout network's mistakes,
# or the examples both models get wrong); the difference of two rates, within two standard
# errors of a difference.

# %%
n_train = len(load_dataset(data, "train")[1])
record({"test_size": len(y_test), "train_size": n_train,
        "maxout_recipe": recipes["maxout"].describe()})
why = (f"{n_train:,} training digits ({data}); the error rates on maxout's examples, which "
       "these rates depend on, may differ from the paper's.")
lead = rates["softmax_agrees_maxout"] - rates["rbf_agrees_maxout"]
paper_lead = PAPER["C25"]["softmax_agrees_maxout"] - PAPER["C25"]["rbf_agrees_maxout"]
lead_noise = np.hypot(*(measure.rate_noise(PAPER["C25"][k], max(int(c25.loc[k, "n"]), 1))
                        for k in ("softmax_agrees_maxout", "rbf_agrees_maxout")))  # 2 s.e.
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
    *[Claim("C25", row["what"], PAPER["C25"][k], row["rate"], within(0.15), n=max(row["n"], 1),
            comparable=eps == PAPER["C25"]["eps"], why=why) for k, row in c25.iterrows()],
    Claim("C25", "softmax agrees with maxout more than RBF does (both wrong): the difference",
          paper_lead, lead, when(lead > 0, "ours > 0"), rel=float(lead_noise / paper_lead),
          comparable=eps == PAPER["C25"]["eps"],
          why="The paper's conclusion: the linear model resembles the maxout network more."),
], scale=scale, context=f"{describe_dataset(data)}. Models: {recipes['maxout'].describe()}.")
