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
# (ch-linear-adversarial-training)=
# # 5. Adversarial training of linear models versus weight decay
#
# The simplest model on which to watch adversarial training at work is logistic regression,
# because there the fast gradient sign method is not an approximation: the worst perturbation
# has a closed form, and so has the adversarial training objective.
# {cite:t}`goodfellow2015explaining` derive it and compare it with the regulariser it
# resembles, L1 weight decay.
#
# Let the label be $y \in \{-1, 1\}$ and $P(y = 1) = \sigma(w^\top x + b)$. Training minimises
#
# $$ \mathbb{E}_{x, y}\; \zeta\!\left(-y\,(w^\top x + b)\right), \qquad
#    \zeta(z) = \log(1 + e^{z}) \ \text{(the softplus)} . $$
#
# The gradient of this loss with respect to $x$ is $-y\,\sigma(\cdot)\,w$, a positive multiple
# of $-y\,w$, so its sign is $-y\,\mathrm{sign}(w)$ and the FGSM example is
# $\tilde x = x - \epsilon\, y\, \mathrm{sign}(w)$. Because $w^\top \mathrm{sign}(w) =
# \lVert w \rVert_1$ and $y^2 = 1$,
#
# $$ y\,(w^\top \tilde x + b) = y\,(w^\top x + b) - \epsilon \lVert w \rVert_1 , $$
#
# and the loss at the adversarial example is
#
# $$ \zeta\!\left(\epsilon \lVert w \rVert_1 - y\,(w^\top x + b)\right) . $$
#
# This is also the exact worst case over all $\lVert \eta \rVert_\infty \le \epsilon$: the
# margin is linear in $\eta$, and $-y\,\epsilon\,\mathrm{sign}(w)$ is the corner of the
# max-norm ball that lowers it most. Adversarial training of logistic regression therefore
# minimises $\mathbb{E}\,\zeta(\epsilon \lVert w \rVert_1 - y(w^\top x + b))$ in closed form.
# The paper prints it as $\zeta(y(\epsilon \lVert w \rVert_1 - w^\top x - b))$, which is the
# same for $y = +1$; for $y = -1$ it *subtracts* the penalty, as if the perturbation widened
# the margin instead of narrowing it. In the correct form the label multiplies only the clean
# margin: every example loses $\epsilon \lVert w \rVert_1$ of margin, whatever its label. We
# check both numerically below.
#
# The form explains the comparison with weight decay. The penalty $\epsilon \lVert w \rVert_1$
# looks like L1 weight decay, but it is *inside* the softplus, subtracted from the margin,
# rather than added to the cost. Once the model classifies the perturbed points with a margin
# large enough, $\zeta$ is flat there and the penalty stops mattering; L1 weight decay never
# stops. The paper concludes that L1 weight decay is the more pessimistic of the two, that it
# hurts more when the model underfits, and that for a softmax over many classes it is more
# pessimistic still.

# %% tags=["parameters"]
eps: float = 0.25  # max-norm of the perturbation, in the attacks and in adversarial training
compare_eps: list = [0.05, 0.1, 0.25]  # eps values where adversarial training meets L1 decay
epochs: int = 100  # epochs of minibatch gradient descent for logistic regression
softmax_epochs: int = 20  # epochs of minibatch gradient descent for softmax regression
backend: str = "auto"  # array module of the linear models: auto (CuPy with a GPU), numpy, cupy
dataset: str = "mnist-embedded"  # mnist-embedded (offline), mnist (full) or fashion-mnist
seed: int = 0  # seed of the minibatch order (linear models) and of the maxout nets' training

# %%
import math

import altair as alt
import numpy as np
import pandas as pd

from advlib import linear
from advlib.book import charts, record
from advlib.data import binary_subset, describe_dataset, load_dataset
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_least, claims_table, data_note, when, within
from advlib.train import evaluate
from advlib.zoo import recipe, trained

xp = linear.backend(backend)
negative, positive = 3, 7  # the paper's Fig. 2: 3s (y = -1) against 7s (y = +1)
x_train, y_train = load_dataset(dataset, "train")
x_test, y_test = load_dataset(dataset, "test")
xb_np, yb_np = binary_subset(x_train, y_train, negative, positive)
xtb_np, ytb_np = binary_subset(x_test, y_test, negative, positive)
# float64 for the two-class problem (exact checks), float32 for the ten-class one (speed)
xb, yb = xp.asarray(xb_np, dtype=xp.float64), xp.asarray(yb_np)
xtb, ytb = xp.asarray(xtb_np, dtype=xp.float64), xp.asarray(ytb_np)
data_note(describe_dataset(dataset) + f"; Sec. 5 uses its {negative}s and {positive}s: "
          f"{len(yb_np):,} training and {len(ytb_np):,} test digits. Linear models run on "
          f"{linear.backend_name(xp)}.")
record("negative", negative)
record("positive", positive)
record("binary_train", len(yb_np))
record("binary_test", len(ytb_np))
record("eps", eps)
record("epochs", epochs)

# %% [markdown]
# ## Logistic regression on 3s and 7s (the paper's Fig. 2)
#
# We train logistic regression to tell {glue:text}`negative:d`s ($y = -1$) from
# {glue:text}`positive:d`s ($y = +1$) by minibatch gradient descent from $w = 0$
# ({func}`advlib.linear.fit_logistic`, {glue:text}`epochs:d` epochs), then attack the test
# digits with the closed-form FGSM example $x - \epsilon\,y\,\mathrm{sign}(w)$
# ({func}`advlib.linear.logistic_fgsm`, unclipped as in the paper).

# %%
def logistic_errors(fit, x, y, eps):
    """Clean and FGSM error of a logistic-regression fit on (x, y)."""
    clean = linear.error_rate(linear.logistic_predict(fit.w, fit.b, x), y)
    adv = linear.logistic_fgsm(fit.w, fit.b, x, y, eps)
    return clean, linear.error_rate(linear.logistic_predict(fit.w, fit.b, adv), y)


plain = linear.fit_logistic(xb, yb, objective="clean", epochs=epochs, seed=seed)
w, b = plain.w, plain.b
clean_error, fgsm_error = logistic_errors(plain, xtb, ytb, eps)
record("logistic_clean_error", clean_error)
record("logistic_fgsm_error", fgsm_error)
record("logistic_train_error", plain.history["error"][-1])
record("paper_C10_clean_error", PAPER["C10"]["clean_error"])
record("paper_C10_error", PAPER["C10"]["error"])

# %% [markdown]
# The weights $w$ and their signs come first (blue negative, red positive): $w$ is, roughly,
# a 7 minus a 3. Below them are test digits, clean and with
# $\epsilon$ = {glue:text}`eps:.2f` times $-y\,\mathrm{sign}(w)$ added; each is captioned with
# the predicted class and its probability, red where wrong.

# %% tags=["hide-input"]
w_np, b_np = linear.to_numpy(w), float(linear.to_numpy(b))
top = float(np.quantile(np.abs(w_np), 0.99))  # a few extreme weights would wash out the rest
weights = charts.digit_grid(
    np.stack([np.clip(w_np / top, -1, 1), np.sign(w_np)]), ["w", "sign(w)"], signed=True,
    columns=2, size=112,
    tooltips=[{"‖w‖₁": float(np.abs(w_np).sum()), "colour scale saturates at |w|": top},
              {"pixels with w > 0": int((w_np > 0).sum())}],
    title="Logistic regression weights (blue < 0 < red)")
shown = np.concatenate([np.flatnonzero(ytb_np == -1)[:5], np.flatnonzero(ytb_np == 1)[:5]])
x_shown, y_shown = xtb_np[shown], ytb_np[shown]
x_shown_adv = x_shown - eps * y_shown[:, None] * np.sign(w_np)[None, :]


def _as_digits(x, y):
    p = 1.0 / (1.0 + np.exp(-(x @ w_np + b_np)))  # P(y = +1)
    pred = np.where(p >= 0.5, positive, negative)
    return pred, np.where(pred == positive, p, 1 - p), np.where(y == 1, positive, negative)


pred_c, conf_c, labels = _as_digits(x_shown, y_shown)
pred_a, conf_a, _ = _as_digits(x_shown_adv, y_shown)
digits_chart = charts.digit_grid(
    np.concatenate([x_shown, x_shown_adv]),
    rows=["clean"] * len(shown) + [f"eps = {eps:g}"] * len(shown),
    labels=np.concatenate([labels, labels]), predicted=np.concatenate([pred_c, pred_a]),
    confidence=np.concatenate([conf_c, conf_a]),
    tooltips=[{"eps": 0.0}] * len(shown) + [{"eps": eps}] * len(shown),
    title="Test digits and their adversarial versions (unclipped, drawn clipped to [0, 1])")
alt.vconcat(weights, digits_chart)

# %% [markdown]
# On the test {glue:text}`negative:d`s and {glue:text}`positive:d`s the model errs on
# {glue:text}`logistic_clean_error:.1%` of the clean digits and on
# {glue:text}`logistic_fgsm_error:.1%` of the adversarial ones (paper:
# {glue:text}`paper_C10_clean_error:.1%` and {glue:text}`paper_C10_error:.0%`). The perturbation
# is $\mathrm{sign}(w)$ itself, scaled: it paints the 7-ness of the weights onto every 3 and
# takes it off every 7, and the model follows.
#
# ## The closed form, checked
#
# For the trained $w, b$ we compare the loss at the FGSM point, computed by building the
# perturbed digits, with the closed form ({func}`advlib.linear.logistic_adversarial_loss`), and
# with the form as printed in the paper, separately for the two labels.

# %%
def softplus(z):
    return np.logaddexp(0.0, z)


margin = ytb_np * (xtb_np @ w_np + b_np)  # y(wᵀx + b) per test digit
w_l1 = float(np.abs(w_np).sum())
ours_form = softplus(eps * w_l1 - margin)  # ζ(eps‖w‖₁ − y(wᵀx + b))
printed = softplus(ytb_np * (eps * w_l1 - (xtb_np @ w_np + b_np)))  # ζ(y(eps‖w‖₁ − wᵀx − b))
at_fgsm = float(linear.logistic_loss(w, b, linear.logistic_fgsm(w, b, xtb, ytb, eps), ytb))
closed = float(linear.logistic_adversarial_loss(w, b, xtb, ytb, eps))
rng = np.random.default_rng(seed)
corners = 20  # random corners of the eps-ball: none raises the loss as much as the FGSM corner
random_corners = max(
    float(linear.logistic_loss(w, b, xtb + xp.asarray(
        eps * rng.choice([-1.0, 1.0], size=xtb_np.shape)), ytb)) for _ in range(corners))
checks = pd.DataFrame([
    {"labels": "all", "loss at the FGSM point": at_fgsm, "ζ(eps‖w‖₁ − y(wᵀx+b))": closed,
     "paper's ζ(y(eps‖w‖₁ − wᵀx − b))": float(printed.mean())},
    *({"labels": f"y = {s:+d}", "loss at the FGSM point": float(linear.logistic_loss(
        w, b, linear.logistic_fgsm(w, b, xtb[ytb == s], ytb[ytb == s], eps), ytb[ytb == s])),
       "ζ(eps‖w‖₁ − y(wᵀx+b))": float(ours_form[ytb_np == s].mean()),
       "paper's ζ(y(eps‖w‖₁ − wᵀx − b))": float(printed[ytb_np == s].mean())}
      for s in (1, -1)),
])
record("closed_form_gap", abs(at_fgsm - closed))
record("printed_gap_positive", float(np.abs(printed - ours_form)[ytb_np == 1].max()))
record("printed_gap_negative", float(np.abs(printed - ours_form)[ytb_np == -1].mean()))
record("printed_loss_negative", float(printed[ytb_np == -1].mean()))
record("closed_loss_negative", float(ours_form[ytb_np == -1].mean()))
record("clean_loss", float(softplus(-margin).mean()))
record("closed_loss", closed)
record("random_corner_loss", random_corners)
record("corners", corners)
record("w_l1", w_l1)
checks.style.format(precision=4).hide(axis="index")

# %% [markdown]
# The loss at the FGSM point and the closed form agree to {glue:text}`closed_form_gap:.1e`
# (rounding), and the paper's printed form agrees with both on the
# {glue:text}`positive:d`s. On the {glue:text}`negative:d`s ($y = -1$) it gives a mean loss of
# {glue:text}`printed_loss_negative:.3g` where the true adversarial loss is
# {glue:text}`closed_loss_negative:.3g`: the printed form is exact only for $y = +1$. The
# perturbation is a worst case, not merely a bad one: {glue:text}`corners:d` random corners of
# the same max-norm ball raise the mean loss to at most {glue:text}`random_corner_loss:.3g`,
# against {glue:text}`closed_loss:.3g` at the FGSM corner and {glue:text}`clean_loss:.3g`
# clean. With $\lVert w \rVert_1$ = {glue:text}`w_l1:.1f`, the FGSM corner lowers every margin
# by $\epsilon \lVert w \rVert_1$, and a digit is misclassified exactly when its clean margin
# is smaller than that: hence the error rate above.

# %% [markdown]
# ## Adversarial training against L1 weight decay
#
# Differentiating the adversarial objective shows how it differs from weight decay. With
# $u = \epsilon \lVert w \rVert_1 - y(w^\top x + b)$,
#
# $$ \nabla_w\, \mathbb{E}\,\zeta(u) = \mathbb{E}\big[\sigma(u)\,(-y\,x)\big]
#    + \underbrace{\epsilon\,\mathbb{E}[\sigma(u)]}_{\text{effective L1 coefficient}}
#      \,\mathrm{sign}(w) , $$
#
# where $\sigma(u)$ is the probability the model gives the *wrong* label to the perturbed
# digit. The second term is an L1 penalty whose coefficient is $\epsilon$ times that
# probability: close to $\epsilon$ while the model gets the perturbed digits wrong, and fading
# towards 0 as it learns to classify them with a margin. L1 weight decay with coefficient
# $\lambda$, $\mathbb{E}\,\zeta(-y(w^\top x + b)) + \lambda \lVert w \rVert_1$, applies
# $\lambda$ for ever. Since $\zeta$ rises at most at slope 1, $\zeta(u) \le \zeta(-y(w^\top x +
# b)) + \epsilon \lVert w \rVert_1$: L1 decay at $\lambda = \epsilon$ is an upper bound on the
# adversarial loss — the worst case of the worst case.
#
# For each $\epsilon$ of the parameter `compare_eps` (here from {glue:text}`small_eps:g` to
# {glue:text}`large_eps:g`) we train the paper's adversarial objective (the loss at the FGSM
# point alone) and L1 weight decay with $\lambda = \epsilon$, from the same start and for the
# same {glue:text}`epochs:d` epochs, and log the effective coefficient after every epoch.

# %%
small_eps, large_eps = float(min(compare_eps)), float(max(compare_eps))
record("small_eps", small_eps)
record("large_eps", large_eps)
fits = {("clean", 0.0): plain}
for e in compare_eps:
    e = float(e)
    fits[("adversarial", e)] = linear.fit_logistic(xb, yb, objective="adversarial", eps=e,
                                                   epochs=epochs, seed=seed)
    fits[("L1 decay", e)] = linear.fit_logistic(xb, yb, objective="l1", l1=e, epochs=epochs,
                                                seed=seed)

curves, results = [], []
for (objective, e), fit in fits.items():
    test_clean, test_fgsm = logistic_errors(fit, xtb, ytb, e if e else eps)
    results.append({"objective": objective, "eps": e, "train error": fit.history["error"][-1],
                    "test error": test_clean, "FGSM test error (same eps)": test_fgsm,
                    f"FGSM test error (eps {eps:g})": logistic_errors(fit, xtb, ytb, eps)[1],
                    "‖w‖₁": fit.history["w_l1"][-1]})
    if objective == "clean":
        continue
    for epoch, weight, penalty in zip(fit.history["epoch"], fit.history["penalty_weight"],
                                      fit.history["penalty"]):
        curves.append({"training": f"{objective}, eps = {e:g}", "objective": objective,
                       "eps": f"{e:g}", "epoch": epoch, "L1 coefficient / eps": weight / e,
                       "penalty added to the loss": penalty})
linear_results = pd.DataFrame(results)
curves = pd.DataFrame(curves)

fade = {}
for e in compare_eps:
    mine = curves[(curves["objective"] == "adversarial") & (curves["eps"] == f"{float(e):g}")]
    share = mine["L1 coefficient / eps"].to_numpy()
    fade[float(e)] = {"peak": float(share.max()), "end": float(share[-1])}
    record(f"fade_peak_{float(e):g}", fade[float(e)]["peak"])
    record(f"fade_end_{float(e):g}", fade[float(e)]["end"])
record("fade_end_small", fade[small_eps]["end"])
record("fade_end_large", fade[large_eps]["end"])
record("fade_peak_large", fade[large_eps]["peak"])
table = linear_results.set_index(["objective", "eps"])
for objective, tag in (("adversarial", "adv"), ("L1 decay", "l1")):
    row = table.loc[(objective, large_eps)]
    record(f"logistic_{tag}_large_train_error", float(row["train error"]))
    record(f"logistic_{tag}_large_fgsm_error", float(row["FGSM test error (same eps)"]))
hard = fits[("adversarial", large_eps)]
record("adv_large_perturbed_train_error", linear.error_rate(linear.logistic_predict(
    hard.w, hard.b, linear.logistic_fgsm(hard.w, hard.b, xb, yb, large_eps)), yb))

# %% tags=["hide-input"]
dash = alt.StrokeDash("objective:N", title="objective",
                      scale=alt.Scale(domain=["adversarial", "L1 decay"], range=[[1, 0], [6, 3]]))
base = alt.Chart(curves).encode(
    x=alt.X("epoch:Q", title="epoch"),
    color=alt.Color("eps:N", title="eps"),
    strokeDash=dash,
    tooltip=["objective:N", "eps:N", "epoch:Q",
             alt.Tooltip("L1 coefficient / eps:Q", format=".1%"),
             alt.Tooltip("penalty added to the loss:Q", format=".4f")],
)
coefficient = alt.layer(
    base.mark_line().encode(y=alt.Y("L1 coefficient / eps:Q", axis=alt.Axis(format=".0%"),
                                    title="effective L1 coefficient / eps")),
    base.mark_point(size=12, filled=True).encode(y="L1 coefficient / eps:Q"),
).properties(width=280, height=220, title="The adversarial penalty fades; L1 decay does not")
penalty = alt.layer(
    base.mark_line().encode(y=alt.Y("penalty added to the loss:Q",
                                    title="what the penalty adds to the loss")),
    base.mark_point(size=12, filled=True).encode(y="penalty added to the loss:Q"),
).properties(width=280, height=220, title="Penalty added to the training loss")
alt.hconcat(coefficient, penalty)

# %% tags=["hide-input"]
linear_results.style.format(
    {c: "{:.1%}" for c in linear_results.columns if "error" in c} | {"‖w‖₁": "{:.1f}",
                                                                      "eps": "{:g}"}
).hide(axis="index")

# %% [markdown]
# The left panel is the argument of the section in one picture. L1 decay (dashed) charges the
# full coefficient $\epsilon$ from the first epoch to the last. The adversarial objective
# (solid) charges up to {glue:text}`fade_peak_large:.0%` of $\epsilon$ early on, then less and
# less as its margins grow: at $\epsilon$ = {glue:text}`small_eps:g` only
# {glue:text}`fade_end_small:.0%` of $\epsilon$ is left after {glue:text}`epochs:d` epochs.
# At $\epsilon$ = {glue:text}`large_eps:g` it still charges {glue:text}`fade_end_large:.0%`:
# at that size the perturbed digits stay hard — the adversarially trained model still gets
# {glue:text}`adv_large_perturbed_train_error:.1%` of the perturbed *training* digits wrong —
# and the penalty stays on. This is the paper's "underfitting regime", where adversarial
# training simply worsens underfitting.
#
# Both regularisers cost training accuracy, but the one that does not switch off costs more:
# at $\epsilon$ = {glue:text}`large_eps:g`, L1 decay leaves
# {glue:text}`logistic_l1_large_train_error:.1%` training error against
# {glue:text}`logistic_adv_large_train_error:.1%` for adversarial training, and its model is
# no more robust: {glue:text}`logistic_l1_large_fgsm_error:.1%` FGSM error against
# {glue:text}`logistic_adv_large_fgsm_error:.1%` (table above, for every $\epsilon$).
# Shrinking $w$ cannot buy robustness by itself: the FGSM error depends only on the direction of
# $(w, b)$, not on its length, and L1 decay
# only pushes the length down.

# %% [markdown]
# ## Softmax regression: L1 is more pessimistic still
#
# With $k$ classes the model has a weight vector $w_j$ per class and the cost is
# $J = -z_y + \log \sum_j e^{z_j}$ with $z_j = w_j^\top x + b_j$. A perturbation
# $\lVert \eta \rVert_\infty \le \epsilon$ changes each difference $z_j - z_y$ by at most
# $\epsilon \lVert w_j - w_y \rVert_1$, and the cost, which depends on $z$ only through these
# differences, rises by at most $\epsilon \max_j \lVert w_j - w_y \rVert_1$ (the "one-η
# bound"). L1 weight decay on all of $W$ charges $\epsilon \sum_j \lVert w_j \rVert_1$: it
# prices every output as if it could be perturbed by its own worst $\eta$, when one $\eta$
# cannot line up with the signs of all ten weight vectors at once. For logistic regression the
# two coincide ($\epsilon \lVert w \rVert_1$). We measure how far that overshoots the real
# rise of the cost at the FGSM point, for logistic and for softmax regression trained without
# regularisation, and then train softmax regression on all ten classes
# ({func}`advlib.linear.fit_softmax`, {glue:text}`softmax_epochs:d` epochs) with the adversarial
# objective and with L1 decay at $\lambda = \epsilon$.

# %%
x10 = xp.asarray(x_train, dtype=xp.float32)
y10 = xp.asarray(y_train)
xt10 = xp.asarray(x_test, dtype=xp.float32)
yt10 = xp.asarray(y_test)
record("softmax_epochs", softmax_epochs)


def softmax_errors(fit, x, y, e):
    """Clean and FGSM error of a softmax-regression fit on (x, y)."""
    clean = linear.error_rate(linear.softmax_predict(fit.w, fit.b, x), y)
    adv = linear.softmax_fgsm(fit.w, fit.b, x, y, e)
    return clean, linear.error_rate(linear.softmax_predict(fit.w, fit.b, adv), y)


soft = {("clean", 0.0): linear.fit_softmax(x10, y10, objective="clean", epochs=softmax_epochs,
                                           seed=seed)}
for e in compare_eps:
    e = float(e)
    # alpha = 0: the loss at the FGSM point alone, as for logistic regression above
    soft[("adversarial", e)] = linear.fit_softmax(x10, y10, objective="adversarial", eps=e,
                                                  alpha=0.0, epochs=softmax_epochs, seed=seed)
    soft[("L1 decay", e)] = linear.fit_softmax(x10, y10, objective="l1", l1=e,
                                               epochs=softmax_epochs, seed=seed)

pessimism = []
for e in compare_eps:
    e = float(e)
    rise = float(linear.logistic_adversarial_loss(w, b, xtb, ytb, e)
                 - linear.logistic_loss(w, b, xtb, ytb))
    pessimism.append({"model": "logistic regression", "eps": e, "rise of the cost": rise,
                      "one-η bound": e * w_l1, "L1 charge": e * w_l1})
    W = linear.to_numpy(soft[("clean", 0.0)].w)
    c = soft[("clean", 0.0)].b
    apart = np.abs(W[:, :, None] - W[:, None, :]).sum(axis=0)  # ‖w_j − w_k‖₁, (k, k)
    rise = float(linear.softmax_loss(soft[("clean", 0.0)].w, c, linear.softmax_fgsm(
        soft[("clean", 0.0)].w, c, xt10, yt10, e), yt10)
        - linear.softmax_loss(soft[("clean", 0.0)].w, c, xt10, yt10))
    pessimism.append({"model": "softmax regression", "eps": e, "rise of the cost": rise,
                      "one-η bound": e * float(apart.max(axis=0)[y_test].mean()),
                      "L1 charge": e * float(np.abs(W).sum())})
pessimism = pd.DataFrame(pessimism)
pessimism["L1 charge / one-η bound"] = pessimism["L1 charge"] / pessimism["one-η bound"]
pessimism["L1 charge / rise"] = pessimism["L1 charge"] / pessimism["rise of the cost"]
ratio = pessimism.set_index(["model", "eps"])["L1 charge / rise"]
structural = pessimism.set_index(["model", "eps"])["L1 charge / one-η bound"]
overshoot_eps = float(eps) if float(eps) in [float(e) for e in compare_eps] else large_eps
record("overshoot_eps", overshoot_eps)
record("logistic_overshoot", float(ratio.loc[("logistic regression", overshoot_eps)]))
record("softmax_overshoot", float(ratio.loc[("softmax regression", overshoot_eps)]))
record("logistic_charge_over_bound", float(structural.loc[("logistic regression", overshoot_eps)]))
record("softmax_charge_over_bound", float(structural.loc[("softmax regression", overshoot_eps)]))
pessimism.style.format({"eps": "{:g}", "rise of the cost": "{:.3g}", "one-η bound": "{:.3g}",
                        "L1 charge": "{:.3g}", "L1 charge / one-η bound": "{:.1f}×",
                        "L1 charge / rise": "{:.1f}×"}).hide(axis="index")

# %% [markdown]
# For softmax regression the L1 charge is {glue:text}`softmax_charge_over_bound:.1f` times the
# most one $\eta$ could do at $\epsilon$ = {glue:text}`overshoot_eps:g` (for logistic regression
# exactly once), and it overshoots the real rise of the cost at the FGSM point
# {glue:text}`softmax_overshoot:.1f` times, against {glue:text}`logistic_overshoot:.1f` times
# for logistic regression; the rest of the gap is margin, where the softplus is flat. Trained
# with that charge, the ten-class model pays for it:

# %%
soft_rows = []
for (objective, e), fit in soft.items():
    test_clean, test_fgsm = softmax_errors(fit, xt10, yt10, e if e else eps)
    soft_rows.append({"objective": objective, "eps": e, "train error": fit.history["error"][-1],
                      "test error": test_clean, "FGSM test error (same eps)": test_fgsm})
softmax_results = pd.DataFrame(soft_rows)
stable = softmax_results.set_index(["objective", "eps"])
gaps = {}
for e in compare_eps:
    e = float(e)
    gaps[e] = {
        "logistic": float(table.loc[("L1 decay", e), "train error"]
                          - table.loc[("adversarial", e), "train error"]),
        "softmax": float(stable.loc[("L1 decay", e), "train error"]
                         - stable.loc[("adversarial", e), "train error"]),
    }
record("softmax_clean_train_error", float(stable.loc[("clean", 0.0), "train error"]))
record("softmax_l1_small_train_error", float(stable.loc[("L1 decay", small_eps), "train error"]))
record("softmax_adv_small_train_error",
       float(stable.loc[("adversarial", small_eps), "train error"]))
record("softmax_l1_large_train_error", float(stable.loc[("L1 decay", large_eps), "train error"]))
record("softmax_adv_large_train_error",
       float(stable.loc[("adversarial", large_eps), "train error"]))
record("logistic_gap_small", gaps[small_eps]["logistic"])
record("softmax_gap_small", gaps[small_eps]["softmax"])
softmax_results.style.format(
    {c: "{:.1%}" for c in softmax_results.columns if "error" in c} | {"eps": "{:g}"}
).hide(axis="index")

# %% [markdown]
# At $\epsilon$ = {glue:text}`small_eps:g`, L1 decay leaves the ten-class model
# {glue:text}`softmax_l1_small_train_error:.1%` training error where adversarial training
# leaves {glue:text}`softmax_adv_small_train_error:.1%` (no regularisation:
# {glue:text}`softmax_clean_train_error:.1%`); the same comparison on the two-class problem
# costs L1 only {glue:text}`logistic_gap_small:.1%` more. At $\epsilon$ =
# {glue:text}`large_eps:g` both regularisers cripple softmax regression
# ({glue:text}`softmax_l1_large_train_error:.1%` and
# {glue:text}`softmax_adv_large_train_error:.1%` training error): a linear model over ten
# classes cannot hold a margin against a perturbation that large, so the adversarial penalty
# never fades either. (Plain subgradient descent leaves the weights that L1 holds at zero
# oscillating around it, so L1's training error is not monotone in $\lambda$ here; at every
# $\lambda$ = $\epsilon$ tried it is far above adversarial training's.)

# %% [markdown]
# ## The maxout network: L1 on the first layer against adversarial training
#
# The paper's last comparison is on its maxout network. With L1 weight decay on the first
# layer's weights, a coefficient of {glue:text}`paper_l1:.4f` already kept the network above
# {glue:text}`paper_train_error:.0%` error *on its training set*; smaller coefficients let it
# train but brought no regularisation benefit. Adversarial training at
# $\epsilon$ = {glue:text}`eps:.2f`, by contrast, works well (Section 6 takes it up). We train
# the four networks from the book's recipes — plain, L1 at the paper's coefficient, L1 at a
# small coefficient, adversarial — and measure each on its own training set, on the test set,
# and on FGSM test digits (unclipped). The book trains with Adam; because the strength of an
# L1 penalty depends on how the optimiser applies it, the plain and the L1 network are also
# trained with the maxout paper's SGD schedule (`optimizer="sgd"` in the recipe), the
# optimiser the paper's own numbers come from.

# %%
maxout_recipes = {
    "maxout": recipe("maxout", dataset=dataset, seed=seed),
    "maxout (L1, paper's coefficient)": recipe("maxout-l1", dataset=dataset, seed=seed),
    "maxout (L1, small coefficient)": recipe("maxout-l1-small", dataset=dataset, seed=seed),
    "maxout (adversarial)": recipe("maxout-adversarial", dataset=dataset, seed=seed, eps=eps),
    "maxout, SGD": recipe("maxout", dataset=dataset, seed=seed, optimizer="sgd"),
    "maxout (L1, paper's coefficient), SGD": recipe("maxout-l1", dataset=dataset, seed=seed,
                                                    optimizer="sgd"),
}
rows, losses = [], []
for name, r in maxout_recipes.items():
    model, history = trained(r)
    rows.append({"model": name, "optimiser": r.optimizer, "first-layer L1": r.l1,
                 "train error": evaluate(model, x_train, y_train)["error"],
                 "test error": evaluate(model, x_test, y_test)["error"],
                 "FGSM test error": evaluate(model, x_test, y_test, eps, clip=None)["error"]})
    losses += [{"model": name.removesuffix(", SGD"), "optimiser": r.optimizer,
                "epoch": row["epoch"], "training loss": row["loss"]}
               for row in history["epochs"] if row["phase"] == "fit"]
maxout_results = pd.DataFrame(rows)
mt = maxout_results.set_index("model")
plain_test, plain_fgsm = mt.loc["maxout", "test error"], mt.loc["maxout", "FGSM test error"]
n_test = len(y_test)
noise = {  # two standard errors of the plain network's rates on this test set
    "test": 2 * math.sqrt(plain_test * (1 - plain_test) / n_test),
    "fgsm": 2 * math.sqrt(plain_fgsm * (1 - plain_fgsm) / n_test),
}
record("paper_l1", PAPER["C12"]["l1"])
record("paper_train_error", PAPER["C12"]["train_error"])
record("l1_coefficient", maxout_recipes["maxout (L1, paper's coefficient)"].l1)
record("l1_small_coefficient", maxout_recipes["maxout (L1, small coefficient)"].l1)
record("maxout_epochs", maxout_recipes["maxout"].epochs)
for name, tag in (("maxout", "plain"), ("maxout (L1, paper's coefficient)", "l1"),
                  ("maxout (L1, small coefficient)", "l1_small"),
                  ("maxout (adversarial)", "adversarial"), ("maxout, SGD", "sgd_plain"),
                  ("maxout (L1, paper's coefficient), SGD", "sgd_l1")):
    for column, field in (("train error", "train"), ("test error", "test"),
                          ("FGSM test error", "fgsm")):
        record(f"maxout_{tag}_{field}_error", float(mt.loc[name, column]))
record("noise_test", noise["test"])
record("noise_fgsm", noise["fgsm"])
maxout_results.style.format(
    {"first-layer L1": "{:g}", "train error": "{:.1%}", "test error": "{:.1%}",
     "FGSM test error": "{:.1%}"}).hide(axis="index")

# %% tags=["hide-input"]
charts.rate_chart(pd.DataFrame(losses), x="epoch", y="training loss", y_format=".2f",
                  dash="optimiser", y_title="training cross-entropy (without the L1 term)",
                  title="Training the maxout networks", width=420)

# %% [markdown]
# With L1 at {glue:text}`l1_coefficient:g` on the first layer and Adam, the network ends
# {glue:text}`maxout_epochs:d` epochs at {glue:text}`maxout_l1_train_error:.1%` error on its
# own training digits, against {glue:text}`maxout_plain_train_error:.1%` for the plain network:
# the penalty, applied to every first-layer weight at every step whatever the margins, costs it
# most of its fit, though on our budget not the paper's {glue:text}`paper_train_error:.0%`.
# With SGD the same penalty is far stronger: the network stays at
# {glue:text}`maxout_sgd_l1_train_error:.1%` training error — it never learns, its loss stuck
# at chance (the flat dashed line at the top of the figure) — while plain SGD reaches
# {glue:text}`maxout_sgd_plain_train_error:.1%`. SGD moves every weight by the learning rate
# times the coefficient at every step, which wipes out the small initial first-layer weights
# before the data's gradient can grow them; Adam rescales each weight's step by the size of its
# recent gradients, so the same coefficient bites much less. At
# {glue:text}`l1_small_coefficient:g` it trains ({glue:text}`maxout_l1_small_train_error:.1%`
# training error) but gains nothing: {glue:text}`maxout_l1_small_test_error:.1%` test error and
# {glue:text}`maxout_l1_small_fgsm_error:.1%` FGSM error, against
# {glue:text}`maxout_plain_test_error:.1%` and {glue:text}`maxout_plain_fgsm_error:.1%` for the
# plain network. Adversarial training brings the FGSM error down to
# {glue:text}`maxout_adversarial_fgsm_error:.1%` at {glue:text}`maxout_adversarial_test_error:.1%`
# clean test error. Differences smaller than two standard errors of the plain network's rates
# ({glue:text}`noise_test:.1%` for test error, {glue:text}`noise_fgsm:.1%` for FGSM error) are
# treated as noise in the claims below.

# %% [markdown]
# ## Claims
#
# The paper's statements beside what this chapter computed; the rule column says how each
# verdict is decided.

# %%
data_why = (f"{len(ytb_np):,} test digits ({negative}s and {positive}s) of {dataset}; "
            f"{epochs} epochs from w = 0.")
paper_eps = float(PAPER["C10"]["eps"])
fade_all = all(v["end"] < v["peak"] for v in fade.values())
underfits_all = all(g["logistic"] >= 0 for g in gaps.values())
softmax_worse = gaps[small_eps]["softmax"] > gaps[small_eps]["logistic"]
gap_positive = float(np.abs(printed - ours_form)[ytb_np == 1].max())
gap_negative = float(np.abs(printed - ours_form)[ytb_np == -1].mean())
l1_model = mt.loc["maxout (L1, paper's coefficient)"]
small_model = mt.loc["maxout (L1, small coefficient)"]
adv_model = mt.loc["maxout (adversarial)"]
no_gain = (small_model["test error"] >= plain_test - noise["test"]
           and small_model["FGSM test error"] >= plain_fgsm - noise["fgsm"])
adv_gain = (adv_model["FGSM test error"] < plain_fgsm - noise["fgsm"]
            and adv_model["test error"] <= plain_test + noise["test"])
charge = {m: float(structural.loc[(m, overshoot_eps)])
          for m in ("logistic regression", "softmax regression")}
overshoot = {m: float(ratio.loc[(m, overshoot_eps)])
             for m in ("logistic regression", "softmax regression")}
softmax_large = {o: float(stable.loc[(o, large_eps), "train error"])
                 for o in ("L1 decay", "adversarial")}
maxout_why = (f"{dataset}; {maxout_recipes['maxout'].epochs} epochs of Adam, not SGD with "
              "early stopping on full MNIST.")
claims_table("05_linear_adversarial_training", [
    Claim("C9", "ζ(eps‖w‖₁ − y(wᵀx + b)) vs the loss at the FGSM point: gap", 0.0,
          abs(at_fgsm - closed), within(1e-9, points=False), pct=False, digits=2,
          why=f"Trained logistic regression, test digits, eps = {eps:g}."),
    Claim("C9", "the paper's printed ζ(y(eps‖w‖₁ − wᵀx − b)), y = +1: largest gap", 0.0,
          gap_positive, within(1e-9, points=False), pct=False, digits=2,
          why="Exact for y = +1."),
    Claim("C9", "the printed form, y = −1: mean gap to the adversarial loss", "not exact",
          gap_negative, when(gap_negative > 1e-3, "gap > 0.001"), pct=False, digits=3,
          why="For y = −1 the printed form subtracts the penalty; the worst case for both "
              "labels is ζ(eps‖w‖₁ − y(wᵀx + b))."),
    Claim("C10", "logistic regression, 3s vs 7s: clean test error",
          PAPER["C10"]["clean_error"], clean_error, within(0.02),
          why=f"{data_why} One test digit is {1 / len(ytb_np):.1%}."),
    Claim("C10", f"logistic regression, 3s vs 7s: FGSM test error at eps = {eps:g}",
          PAPER["C10"]["error"], fgsm_error, within(0.05),
          why=data_why + " Unclipped, as in the paper." + (
              "" if eps == paper_eps else f" Run at eps = {eps:g}, not the paper's .25.")),
    Claim("C11", f"adversarial training's L1 coefficient at the end, share of eps "
          f"(eps = {small_eps:g}; L1 decay: 100%)", "fades", fade[small_eps]["end"],
          when(fade_all, "falls below its peak at every eps"),
          why="At the end: " + ", ".join(f"eps {e:g}: {v['end']:.0%}" for e, v in fade.items())
              + ". It fades where the perturbed digits can be learnt."),
    Claim("C11", f"logistic regression, L1 decay at λ = eps = {large_eps:g}: training error "
          f"(adversarial: {table.loc[('adversarial', large_eps), 'train error']:.1%})",
          "worse", float(table.loc[("L1 decay", large_eps), "train error"]),
          when(underfits_all, "L1 ≥ adversarial at every eps"),
          why="L1 minus adversarial: "
              + ", ".join(f"eps {e:g}: {g['logistic']:+.1%}" for e, g in gaps.items()) + "."),
    Claim("C11", f"softmax: L1 charge over the most one η can raise the cost, eps = "
          f"{overshoot_eps:g} (logistic: {charge['logistic regression']:.1f}×)",
          "more pessimistic", charge["softmax regression"],
          when(charge["softmax regression"] > charge["logistic regression"],
               "softmax's ratio > logistic's"), pct=False, digits=2,
          why=f"Over the real rise at the FGSM point: {overshoot['softmax regression']:.1f}× "
              f"vs {overshoot['logistic regression']:.1f}×. Unregularised models, test digits."),
    Claim("C11", f"softmax, eps = {small_eps:g}: L1's extra training error over adversarial "
          f"training (logistic: {gaps[small_eps]['logistic']:+.1%})",
          "more pessimistic", gaps[small_eps]["softmax"],
          when(softmax_worse, "softmax's gap > logistic's"),
          why=f"{softmax_epochs} epochs, ten classes. At eps {large_eps:g} both underfit "
              f"({softmax_large['L1 decay']:.0%} and {softmax_large['adversarial']:.0%})."),
    Claim("C12", f"maxout, first-layer L1 at {l1_model['first-layer L1']:g}, Adam: training "
          "error", PAPER["C12"]["train_error"], float(l1_model["train error"]),
          at_least(PAPER["C12"]["train_error"], "ours"),
          why=f"Plain: {mt.loc['maxout', 'train error']:.1%}. Adam rescales the L1 step per "
              "weight, so the penalty bites less than under SGD. " + maxout_why),
    Claim("C12", f"the same with the maxout paper's SGD: training error (plain SGD: "
          f"{mt.loc['maxout, SGD', 'train error']:.1%})", PAPER["C12"]["train_error"],
          float(mt.loc["maxout (L1, paper's coefficient), SGD", "train error"]),
          at_least(PAPER["C12"]["train_error"], "ours"),
          why="It never learns: each step's lr·λ erases the small initial first-layer weights. "
              f"{maxout_recipes['maxout, SGD'].epochs} epochs, {dataset}."),
    Claim("C12", f"maxout, first-layer L1 at {small_model['first-layer L1']:g}: FGSM test error "
          f"(plain: {plain_fgsm:.1%})", "no benefit", float(small_model["FGSM test error"]),
          when(no_gain, "test and FGSM error not below plain by 2 s.e."),
          why=f"Trains: {small_model['train error']:.1%} training error; test error "
              f"{small_model['test error']:.1%} (plain {plain_test:.1%})."),
    Claim("C12", f"maxout, adversarial training at eps = {eps:g}: FGSM test error "
          f"(plain: {plain_fgsm:.1%})", "works well", float(adv_model["FGSM test error"]),
          when(adv_gain, "FGSM error below plain by 2 s.e., test error not above"),
          why=f"Test error {adv_model['test error']:.1%} (plain {plain_test:.1%}). "
              + maxout_why),
])
