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
# (ch-adversarial-training)=
# # 6. Adversarial training of deep networks
#
# Section 5 showed that for a linear model adversarial training acts much like a weight
# penalty, and a linear model cannot become flat near its training points while still giving
# different points different outputs. {cite:t}`goodfellow2015explaining` then turn to networks
# with hidden layers. By the universal approximator theorem such a network can represent a
# function that resists adversarial perturbation; ordinary training does not find one. The
# section argues that training on adversarial examples does better, and that it regularises
# beyond what dropout {cite}`srivastava2014dropout` already gives.
#
# ## The objective
#
# With the fast gradient sign method of Section 4 an adversarial example costs one gradient,
# so it can be made afresh for every minibatch, against the parameters of the moment. The
# paper trains on
#
# $$
# \tilde J(\theta, x, y) = \alpha\, J(\theta, x, y)
#   + (1 - \alpha)\,
#     J\big(\theta,\; x + \epsilon\,\mathrm{sign}(\nabla_x J(\theta, x, y)),\; y\big),
# $$
#
# with $\alpha$ = {glue:text}`paper_C13_alpha:.1f` in every experiment (not tuned) and
# $\epsilon$ = {glue:text}`paper_C13_eps:.2f` on MNIST. The adversarial examples are never fixed:
# as $\theta$ moves, so does the direction in which the model is most sensitive, and the
# second term follows it. It is a kind of data augmentation, but not with inputs that could
# occur naturally, like translated digits: with the inputs that expose the flaws of the
# current model. The paper also reads it as active learning, in which the model asks for
# labels at new points near the data and a heuristic labeller copies the label of the nearby
# point.
#
# Why should this regularise, and why better than noise? To first order in $\eta$,
# $J(\theta, x + \eta, y) \approx J(\theta, x, y) + \eta^\top \nabla_x J$. Under
# $\lVert \eta \rVert_\infty \le \epsilon$ the sign perturbation maximises the second
# term, where it equals $\epsilon \lVert \nabla_x J \rVert_1$, so
#
# $$
# \tilde J(\theta, x, y) \approx J(\theta, x, y)
#   + (1 - \alpha)\,\epsilon\,\lVert \nabla_x J(\theta, x, y) \rVert_1 :
# $$
#
# a penalty on the $L^1$ norm of the input gradient, paid only where the data are. For a
# linear model it is the $\epsilon \lVert w \rVert_1$ term of Section 5; for a network it
# asks that the loss be flat around each training digit, in every pixel at once. Noise of the
# same max-norm does almost nothing to first order, as the paper points out: noise with zero
# mean drawn independently of the gradient has $\mathbb{E}[\eta^\top \nabla_x J] = 0$, so
# in most draws it leaves the loss about where it was instead of making the example harder.
# Its typical effect, of order $\epsilon \lVert \nabla_x J \rVert_2$, is smaller than the
# adversarial $\epsilon \lVert \nabla_x J \rVert_1$ by a factor of up to $\sqrt{n}$, reached
# for a gradient spread evenly over $n$ = {glue:text}`n_pixels:d` pixels; what remains on
# average is the second-order term $\tfrac12 \mathbb{E}[\eta^\top H \eta]$, a weak
# curvature penalty.
#
# This chapter trains the paper's maxout network {cite}`goodfellow2013maxout` with dropout,
# clean and with $\tilde J$, and measures what the paper measured: clean and adversarial test
# error, transfer between the two models, a larger network, the noise and hidden-layer
# baselines, and the first-layer weights. It adds three checks the paper did not make: where
# the FGSM direction inside $\tilde J$ comes from when the network uses dropout, what clipping
# $x + \eta$ to the pixel range changes, and whether the resistance it buys reaches beyond the
# one attack it was trained against.

# %% tags=["parameters"]
from typing import Literal

eps: float = 0.25  # max-norm of the FGSM attack on the test digits (the paper: .25)
train_eps: float = 0.25  # max-norm of the perturbation in every training objective (the paper: .25)
alpha: float = 0.5  # weight of the clean term of the adversarial objective (the paper: .5)
fgsm_dropout: Literal["off", "same"] = "off"  # FGSM direction in training: dropout off, or same mask
width: int = 1600  # units per hidden layer of the larger network (the paper: 1600)
seeds: int = 1  # seeds of the larger adversarially trained network (the paper: 5)
wide_epoch_cap: int = 0  # cap on the larger network's epochs (0: as every other model)
clip: bool = False  # clip x + eta to [0, 1] in the attacks the claims use (the paper did not)
scale: Literal["quick", "paper"] = "quick"  # quick: embedded digits, CI budget; paper: full MNIST
dataset: Literal["default", "mnist-embedded", "mnist", "fashion-mnist"] = "default"  # or the scale's
epoch_cap: int = 0  # cap on every model's training epochs (0: the scale's own)
seed: int = 0  # seed of every model; the larger adversarial ones use seed, seed + 1, ...

# %%
import altair as alt
import pandas as pd

from advlib.book import charts, record
from advlib.book.paper import PAPER
from advlib.book.results import (
                                 Claim,
                                 at_least,
                                 at_most,
                                 claims_table,
                                 data_note,
                                 record_paper,
                                 when,
)
from advlib.data import describe_dataset, load_dataset
from advlib.measure import (
                                 BIM_STEP_FACTOR,
                                 BIM_STEPS,
                                 activation_scale,
                                 bim_errors,
                                 fgsm_summary,
                                 robustness_curve,
                                 spared_fgsm_error,
                                 transfer_table,
                                 zero_gradient_share,
)
from advlib.weights import localisation_table, unit_images
from advlib.zoo import history_summary, recipe, scale_dataset, trained

# %%
data = scale_dataset(scale, dataset)
data_note(describe_dataset(data))
x_test, y_test = load_dataset(data, "test")
x_train, y_train = load_dataset(data, "train")
attack_clip = (0.0, 1.0) if clip else None
on = dict(scale=scale, dataset=dataset, seed=seed, epoch_cap=epoch_cap, curves=True)
perturbed = dict(eps=train_eps, alpha=alpha)  # every perturbed objective
recipes = {
    "maxout": recipe("maxout", **on),
    "maxout (adversarial)": recipe("maxout-adversarial", **on, **perturbed),
    "maxout (adversarial, dropout off)": recipe("maxout-adversarial-dropout-off", **on,
                                                **perturbed),
    "maxout (adversarial, trained clipped)": recipe("maxout-adversarial-clipped", **on,
                                                    **perturbed),
    "maxout (sign noise)": recipe("maxout-noise-sign", **on, **perturbed),
    "maxout (uniform noise)": recipe("maxout-noise-uniform", **on, **perturbed),
    "maxout (hidden layer)": recipe("maxout-hidden", **on, fgsm_dropout=fgsm_dropout,
                                    **perturbed),
}

# %%
runs = {name: trained(r) for name, r in recipes.items()}
models = {name: model for name, (model, _) in runs.items()}
histories = {name: history for name, (_, history) in runs.items()}
VARIANTS = {"same": "maxout (adversarial)", "off": "maxout (adversarial, dropout off)"}
adv_name, base = VARIANTS[fgsm_dropout], recipes["maxout"]  # "the" adversarially trained model
curve = "test" if base.curves else "valid"  # paper scale: the validation curves

# %% tags=["remove-cell"]
record({"eps": eps, "train_eps": train_eps, "alpha": alpha, "fgsm_dropout": fgsm_dropout,
        "clip": clip, "width_small": base.width, "pieces": base.pieces,
        "drop_in": base.dropout[0], "drop_hidden": base.dropout[1], "n_train": len(y_train),
        "n_test": len(y_test), "n_pixels": x_test.shape[1], "curve_eps": base.valid_eps,
        "training": base.describe(), "curve_set": curve, "adv_name": adv_name,
        **{f"{k}_{name}": v for name, short in (("clean", "maxout"), ("adv", adv_name))
           for k, v in history_summary(histories[short]).items()}})
record_paper("C13", "C14", "C15", "C16", "C17", "C18", "C19", "C21")

# %% [markdown]
# Every network here is the maxout network of {cite:t}`goodfellow2013maxout`: two maxout
# layers of {glue:text}`width_small:d` units with {glue:text}`pieces:d` pieces each,
# dropout before every layer (drop probability {glue:text}`drop_in:.1f` on the input,
# {glue:text}`drop_hidden:.1f` on the hidden layers) and the maxout paper's max-norm
# constraint, trained on the {glue:text}`n_train:,d` training digits with
# {glue:text}`training:s` (the clean-trained one ran {glue:text}`epochs_fit_clean:d` epochs,
# the adversarially trained one {glue:text}`epochs_fit_adv:d`). The paper gives no optimiser
# settings of its own; it starts from the maxout paper's SGD, which ran until 100 epochs passed
# without improvement on the validation split. The perturbed objectives use
# $\alpha$ = {glue:text}`alpha:.2f` and $\epsilon$ = {glue:text}`train_eps:.2f`. Models come
# from the book's model cache (`advlib.zoo.trained`), so rebuilding this page trains nothing.
#
# What each network ran: its epoch cap, the epochs before the early-stopping choice (where
# there is one), the chosen epoch, the epochs of retraining on every training digit, and the
# seconds it took, with the device. A baseline whose cap is below the headline networks' was
# given a shorter budget to fit two CPU cores; the paper's networks all ran the maxout paper's
# protocol to its end.

# %% tags=["hide-input"]
pd.DataFrame({name: {"epoch cap": recipes[name].epochs, **history_summary(histories[name])}
              for name in recipes}).T

# %% [markdown]
# ## Training with the adversarial objective
#
# The error after every epoch, on the clean {glue:text}`curve_set:s` digits and on their FGSM
# examples at $\epsilon$ = {glue:text}`curve_eps:.2f` (unclipped) made against the model of
# that epoch, for the network trained clean and for the two forms of the adversarial objective
# that a later section compares. (At the paper scale these are the validation digits the
# early stopping watches; the test digits stay untouched while the models train.)

# %% tags=["hide-input"]
curve_models = ["maxout", "maxout (adversarial)", "maxout (adversarial, dropout off)"]
charts.training_curves(
    {name: histories[name] for name in curve_models}, clean=f"{curve}_error",
    adversarial=f"{curve}_adv_error", y_title=f"{curve} error",
    title=f"Error while training (dashed: FGSM at eps = {base.valid_eps:g})")

# %% tags=["remove-cell"]
fitted = {name: [row for row in histories[name]["epochs"] if row["phase"] == "fit"]
          for name in curve_models}  # retraining logs no curves
record({"curve_min_adv_clean": min(row[f"{curve}_adv_error"] for row in fitted["maxout"]),
        **{f"curve_{kind}_{short}": fitted[name][-1][f"{curve}{column}"]
           for short, name in zip(("clean", "same", "off"), curve_models, strict=False)
           for kind, column in (("adv", "_adv_error"), ("clean", "_error"))}})

# %% [markdown]
# Trained clean, the network's FGSM error never falls below
# {glue:text}`curve_min_adv_clean:.1%`, however far its clean error falls (to
# {glue:text}`curve_clean_clean:.1%`). Under the adversarial objective the FGSM error falls as
# training goes on: to {glue:text}`curve_adv_same:.1%` with the direction taken under the clean
# pass's dropout mask and to {glue:text}`curve_adv_off:.1%` with the direction from the
# network with dropout off, while the clean error ends at {glue:text}`curve_clean_same:.1%`
# and {glue:text}`curve_clean_off:.1%`.
#
# ## Clean and adversarial error
#
# Each model's error on the {glue:text}`n_test:,d` clean test digits and on their FGSM
# examples at $\epsilon$ = {glue:text}`eps:.2f` made against the model itself. The paper never
# clipped $x + \eta$ to the pixel range $[0, 1]$, so its numbers compare with the unclipped
# columns; the clipped ones are beside them. "Confidence on mistakes" is the mean probability
# a model gives its (wrong) answer on the adversarial examples it gets wrong.

# %%
results = fgsm_summary(models, x_test, y_test, eps)
results["BIM error"] = bim_errors(models, x_test, y_test, eps, clip=attack_clip)
headline = "FGSM error (clipped)" if clip else "FGSM error"
headline_conf = "FGSM confidence on mistakes" + (" (clipped)" if clip else "")
clean_err, adv_clean_err = results.loc["maxout", "clean error"], results.loc[adv_name, "clean error"]
fgsm_clean, fgsm_adv = results.loc["maxout", headline], results.loc[adv_name, headline]
results.loc[["maxout", adv_name]].style.format("{:.1%}")

# %% tags=["remove-cell"]
record({"clean_error_clean": clean_err, "clean_error_adv": adv_clean_err,
        "clean_change_points": 100 * (adv_clean_err - clean_err),
        "clean_se_points": 100 * (clean_err * (1 - clean_err) / len(y_test)) ** 0.5,
        "clean_cost_word": "does not" if adv_clean_err <= clean_err else "does, a little",
        "fgsm_clean": fgsm_clean, "fgsm_adv": fgsm_adv, "fgsm_ratio": fgsm_adv / fgsm_clean,
        "headline": "clipped" if clip else "unclipped",
        "mistake_conf_clean": results.loc["maxout", headline_conf],
        "mistake_conf_adv": results.loc[adv_name, headline_conf],
        "paper_C14_gain_points": 100 * (PAPER["C14"]["clean_error"]
                                        - PAPER["C14"]["adversarial_training_error"]),
        **{f"clean_{short}": results.loc[name, "clean error"] for short, name in VARIANTS.items()},
        **{f"fgsm_{short}_{kind}": results.loc[name, column]
           for short, name in (("clean", "maxout"), ("adv", adv_name))
           for kind, column in (("unclipped", "FGSM error"), ("clipped", "FGSM error (clipped)"))}})

# %% [markdown]
# Trained clean, the network errs on {glue:text}`clean_error_clean:.2%` of the clean test
# digits and on {glue:text}`fgsm_clean:.1%` of their FGSM examples
# ({glue:text}`headline:s`; the paper: {glue:text}`paper_C14_clean_error:.2%` and
# {glue:text}`paper_C16_before:.1%`). Trained with the adversarial objective
# ({glue:text}`adv_name:s`), its clean error is {glue:text}`clean_error_adv:.2%` and its FGSM
# error falls to {glue:text}`fgsm_adv:.1%` — {glue:text}`fgsm_ratio:.0%` of what it was (the
# paper: {glue:text}`paper_C14_adversarial_training_error:.2%` and
# {glue:text}`paper_C16_after:.1%`).
#
# The change in clean error, {glue:text}`clean_change_points:+.2f` points, is to be read
# against the resolution of a test set of {glue:text}`n_test:,d` digits: a binomial standard
# error of about {glue:text}`clean_se_points:.2f` points on each error rate. The paper's gain
# of {glue:text}`paper_C14_gain_points:.2f` points was measured on the full MNIST test set, with
# about a tenth of a point of standard error. On this budget adversarial training
# {glue:text}`clean_cost_word:s` cost clean accuracy.
#
# Where the adversarially trained network is still fooled, it is still sure of itself: its
# mean confidence on those mistakes is {glue:text}`mistake_conf_adv:.1%` (the paper:
# {glue:text}`paper_C19_confidence:.1%`), against {glue:text}`mistake_conf_clean:.1%` for the
# clean-trained network.
#
# ## Clipped or not: what the paper's 17.9% measures
#
# The paper trained on and attacked with $x + \eta$ unclipped, so a background pixel can be
# pushed to $-\epsilon$ and a stroke to $1 + \epsilon$: values no image holds. A network
# trained on such examples can learn that a pixel outside $[0, 1]$ gives the attack away. The
# table crosses how the adversarially trained network (dropout off) was trained, unclipped as
# the paper or clipped to $[0, 1]$, with how it is attacked.

# %%
crossed = pd.DataFrame({
    f"trained {kind}": {"attacked unclipped": results.loc[name, "FGSM error"],
                        "attacked clipped": results.loc[name, "FGSM error (clipped)"],
                        "clean error": results.loc[name, "clean error"]}
    for kind, name in (("unclipped", "maxout (adversarial, dropout off)"),
                       ("clipped", "maxout (adversarial, trained clipped)"))})
cross = {f"cross_{train}_{attack}": crossed.loc[f"attacked {attack}", f"trained {train}"]
         for train in ("unclipped", "clipped") for attack in ("unclipped", "clipped")}
record({**cross, "cross_word": "more" if cross["cross_unclipped_clipped"]
        > cross["cross_unclipped_unclipped"] else "less"})
crossed.style.format("{:.1%}")

# %% [markdown]
# Trained unclipped, the network errs on {glue:text}`cross_unclipped_unclipped:.1%` of
# unclipped FGSM examples and on {glue:text}`cross_unclipped_clipped:.1%` of clipped ones: the
# clipped perturbation, which keeps only the part of each step that stays inside the image,
# fools it {glue:text}`cross_word:s`. Trained clipped, it errs on
# {glue:text}`cross_clipped_clipped:.1%` of clipped and {glue:text}`cross_clipped_unclipped:.1%`
# of unclipped examples. Where the weaker, clipped attack fools the unclipped-trained network
# more often, part of its resistance is to pixels outside $[0, 1]$ — a sign only an unclipped
# attack carries — not to the perturbation as a change an image could hold. The paper's
# {glue:text}`paper_C16_after:.1%` is the error under the attack the network trained on: it
# says how well the network learned to resist that attack, and the clipped column says how
# much of that carries over to examples a real image could be.

# %% [markdown]
# ## Where the FGSM direction comes from: an open choice
#
# $\tilde J$ needs $\nabla_x J(\theta, x, y)$, but during training $J$ is random: dropout
# draws a new mask at every forward pass. The paper does not say which network the direction
# was taken from. advlib offers both (`fgsm_dropout` in `advlib.train.Recipe`):
#
# * **same mask** (`"same"`, two passes per step): the gradient comes out of the clean half's
#   own backward pass, under that pass's dropout mask;
# * **dropout off** (`"off"`, three passes per step): a pass of its own through the
#   deterministic network — the one the model is tested with and the attack is defined on.
#
# The two give very different models, and the input dropout explains why. A pixel the mask
# drops never reaches the network, so the loss does not depend on it: its gradient is exactly
# zero, and $\mathrm{sign}(0) = 0$ leaves it unperturbed. Under the same mask every training
# digit is perturbed in only the pixels the mask keeps, never in all of them as at test time.
# Two measurements test this: the share of exactly-zero entries of the input gradient under a
# training-time mask, and each model's error when the attack itself leaves a random
# {glue:text}`drop_in:.0%` of the pixels alone.

# %%
probe, xb, yb = models["maxout (adversarial)"], x_train[:1000], y_train[:1000]
spared = pd.DataFrame({name: {
    "FGSM error (every pixel)": results.loc[name, headline],
    "FGSM error (a random share left alone)": spared_fgsm_error(
        models[name], x_test, y_test, eps, spare=base.dropout[0], seed=seed, clip=attack_clip),
    "clean error": results.loc[name, "clean error"]} for name in curve_models}).T
record({"zero_grad_share_dropout": zero_gradient_share(probe, xb, yb, train=True, seed=seed),
        "zero_grad_share_eval": zero_gradient_share(probe, xb, yb, train=False),
        **{f"spared_{short}": spared.loc[name, "FGSM error (a random share left alone)"]
           for short, name in (("clean", "maxout"), *VARIANTS.items())},
        **{f"fgsm_{short}": spared.loc[name, "FGSM error (every pixel)"]  # fgsm_clean: above
           for short, name in VARIANTS.items()}})
spared.style.format("{:.1%}")

# %% [markdown]
# Under a training-time mask {glue:text}`zero_grad_share_dropout:.1%` of the input gradient's
# entries are exactly zero, for an input drop probability of {glue:text}`drop_in:.0%`;
# with dropout off, {glue:text}`zero_grad_share_eval:.1%`. Trained under the same mask, the
# network errs on {glue:text}`fgsm_same:.1%` of full FGSM examples but on
# {glue:text}`spared_same:.1%` when the attack leaves a random {glue:text}`drop_in:.0%` of
# the pixels alone — the kind of perturbation it was trained on. Trained with the direction
# from the deterministic network, it errs on {glue:text}`fgsm_off:.1%` and
# {glue:text}`spared_off:.1%`; the clean-trained one on {glue:text}`fgsm_clean:.1%` and
# {glue:text}`spared_clean:.1%`.
#
# This chapter takes **dropout off** as its form of the paper's objective (the parameter
# `fgsm_dropout`; this page ran with "{glue:text}`fgsm_dropout:s`"). It reads the paper's
# formula literally — $\nabla_x J$ of the network as it is used and attacked — so the
# perturbation the model learns to resist is the one it is tested with, in every pixel, while
# the adversarial half of the loss still sees a fresh dropout mask. The price is a third pass
# per step. Every row below that says "adversarially trained" uses the chosen form, and the
# section on how far the robustness reaches shows that the choice also decides what kind of
# robustness the model gets.

# %% [markdown]
# ## Transfer between the two models
#
# Examples made on one model and shown to the other. The paper found that they transfer both
# ways, but that the adversarially trained network resists the other's examples better than the
# other resists its own.

# %%
pair = {"maxout (trained clean)": models["maxout"], adv_name: models[adv_name]}
transfers = transfer_table(pair, x_test, y_test, eps, clip=attack_clip)
forward, backward = transfers.iloc[0], transfers.iloc[1]
record({"transfer_to_adv": forward["error"], "transfer_to_clean": backward["error"],
        "transfer_word": "resists better" if forward["error"] < backward["error"]
        else "does not resist better"})
transfers.style.format("{:.1%}", subset=["error", "confidence on mistakes", "source error"])

# %% [markdown]
# Examples made on the clean-trained network fool the adversarially trained one on
# {glue:text}`transfer_to_adv:.1%` of the test digits (the paper:
# {glue:text}`paper_C17_error:.1%`); examples made on the adversarially trained network fool
# the clean-trained one on {glue:text}`transfer_to_clean:.1%` (the paper:
# {glue:text}`paper_C18_error:.1%`). Both directions transfer, and the adversarially trained
# network {glue:text}`transfer_word:s` the other's examples than the other resists its own.

# %% [markdown]
# ## How far does the robustness reach?
#
# The paper measured FGSM at one size, the size used in training. Two cheap checks ask whether
# the resistance reaches further: the same attack at other sizes, and an iterative attack at
# the test $\epsilon$ — BIM, {glue:text}`bim_steps:d` signed-gradient steps, each of size
# {glue:text}`bim_factor:.1f` × $\epsilon$ / {glue:text}`bim_steps:d` and each projected back
# into the $\epsilon$-ball (`advlib.measure.bim_errors`, Madry et al.'s step rule). A model that is robust in the plain sense errs more as $\epsilon$ grows, and
# several small steps fool it only somewhat more often than one large step.

# %% tags=["hide-input"]
eps_grid = sorted({0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, float(eps)})
sizes = robustness_curve(models, x_test, y_test, eps_grid, clip=attack_clip)
own = sizes[(sizes["model"] == adv_name) & (sizes["eps"] > 0) & (sizes["eps"] < eps)]
peak = own.loc[own["error"].idxmax()] if len(own) else pd.Series({"error": fgsm_adv, "eps": eps})
record({"bim_steps": BIM_STEPS, "bim_factor": BIM_STEP_FACTOR,
        "bim_clean": results.loc["maxout", "BIM error"],
        "bim_adv": results.loc[adv_name, "BIM error"],
        **{f"bim_{short}": results.loc[name, "BIM error"] for short, name in VARIANTS.items()},
        "adv_peak_error": peak["error"], "adv_peak_eps": peak["eps"],
        "adv_monotone": "rises steadily" if peak["error"] <= fgsm_adv
        else "does not rise steadily"})
charts.robustness_chart(sizes[sizes["model"].isin(curve_models)][["model", "eps", "error",
                                                                  "confidence"]],
                        title=f"FGSM of growing size ({'clipped' if clip else 'unclipped'})")
# %% [markdown]
# For the adversarially trained network the FGSM error {glue:text}`adv_monotone:s` with
# $\epsilon$: its largest error below the test size is {glue:text}`adv_peak_error:.1%`, at
# $\epsilon$ = {glue:text}`adv_peak_eps:.2f`, against {glue:text}`fgsm_adv:.1%` at
# $\epsilon$ = {glue:text}`eps:.2f`. BIM at $\epsilon$ = {glue:text}`eps:.2f` fools it on
# {glue:text}`bim_adv:.1%` of the test digits; the clean-trained network on
# {glue:text}`bim_clean:.1%`, the two forms of adversarial training on
# {glue:text}`bim_same:.1%` (same mask) and {glue:text}`bim_off:.1%` (dropout off).
#
# An error that is higher for a smaller perturbation, and a defence that a few more steps of
# the same attack undo, are the marks of what later work called gradient masking: training on
# one-step examples can bend the loss surface near the data so that its gradient no longer
# points to the worst perturbation; the one-step attack then fails while nearby perturbations
# still succeed {cite}`tramer2018ensemble,athalye2018obfuscated`. FGSM training is known to
# fall into this state ("catastrophic overfitting", {cite:t}`wong2020fast`), and training that
# resists iterative attacks came later {cite}`madry2018towards`. The paper tested FGSM only,
# at the training size, so it could not have seen this. Where our numbers match the paper's,
# they measure the same thing: resistance to FGSM at that size.

# %% [markdown]
# ## A larger network
#
# The paper noticed that its network did not reach zero error on the adversarial versions of
# its own training digits, and made two changes. It widened the network to
# {glue:text}`paper_C15_width:,d` units per layer (from {glue:text}`width_small:d`); trained
# clean, the wider network overfits slightly. And since, under adversarial training, its clean
# validation error levelled off early and barely moved while the adversarial validation error
# kept falling, it stopped early on the *adversarial* validation error, then trained again from
# scratch on all training digits for the chosen number of epochs. Over
# {glue:text}`paper_C15_seeds:d` seeds this gave the best result on permutation-invariant MNIST at
# the time, statistically level with deep Boltzmann machines {cite}`salakhutdinov2009deep`
# fine-tuned with dropout {cite}`srivastava2014dropout`.
#
# Here the wide network has {glue:text}`width:,d` units per layer (the parameter `width`) and
# is trained with {glue:text}`wide_training:s`; the adversarial one, with the same form of
# $\tilde J$ as above, stops early on its adversarial validation error and is trained with
# {glue:text}`seeds:d` seed(s) (the parameter `seeds`). A wide network costs about seven times
# the small one's compute, so on two CPU cores the default is one seed, and at the paper scale
# the parameter `wide_epoch_cap` can cap its epochs; set `seeds` to
# {glue:text}`paper_C15_seeds:d` for the paper's protocol, which is hours on a GPU.

# %%
wide_on = dict(on, width=width, epoch_cap=wide_epoch_cap or epoch_cap)
wide_recipe = recipe("maxout-1600", **wide_on)
wide_clean, wide_clean_history = trained(wide_recipe)
wide_models = {seed + k: trained(recipe("maxout-1600-adversarial", **{**wide_on, "seed": seed + k},
                                        fgsm_dropout=fgsm_dropout, **perturbed))
               for k in range(seeds)}
wide = fgsm_summary({f"seed {s}": m for s, (m, _) in wide_models.items()}, x_test, y_test, eps)
wide_clean_result = fgsm_summary({"clean": wide_clean}, x_test, y_test, eps).iloc[0]
first_seed, first_history = wide_models[seed][0], wide_models[seed][1]
wide_epochs = history_summary(wide_clean_history)["epochs_fit"]
small_rows = [row for row in histories["maxout"]["epochs"] if row["phase"] == "fit"]
small_at_wide_epochs = small_rows[min(wide_epochs, len(small_rows)) - 1][f"{curve}_error"]
wide_transfer = transfer_table({"maxout (trained clean)": models["maxout"], "wide": first_seed},
                               x_test, y_test, eps, clip=attack_clip)
wide_table = pd.concat([wide_clean_result.to_frame(f"{width} (trained clean)").T,
                        wide.set_axis([f"{width} (adversarial, {s})" for s in wide.index])])
wide_table.style.format("{:.1%}")

# %% tags=["remove-cell"]
record({"width": width, "seeds": seeds, "wide_epochs": wide_epochs,
        "wide_training": wide_recipe.describe(), "wide_clean_error": wide_clean_result["clean error"],
        "wide_adv_mean": wide["clean error"].mean(), "wide_adv_best": wide["clean error"].min(),
        "wide_adv_fgsm": wide[headline].mean(), "wide_best_epoch": first_history["best_epoch"],
        "clean_error_small_at_wide_epochs": small_at_wide_epochs,
        "wide_overfit_word": "more" if wide_clean_result["clean error"] > small_at_wide_epochs
        else "not more", "wide_transfer_to_adv": wide_transfer.iloc[0]["error"],
        "wide_transfer_to_clean": wide_transfer.iloc[1]["error"]})

# %% tags=["hide-input"]
fit_rows = pd.DataFrame(first_history["epochs"]).query("phase == 'fit'").assign(model="wide")
chosen = pd.DataFrame({"epoch": [first_history["best_epoch"]], "what": ["chosen epoch"]})
charts.training_curves(fit_rows, y_title="validation error",
                       title=f"{width}-unit net, adversarially trained, seed {seed}: early "
                             "stopping on adversarial validation error") + alt.Chart(
    chosen).mark_rule(strokeDash=[2, 2], color="#555").encode(x="epoch:Q",
                                                             tooltip=["what:N", "epoch:Q"])
# %% [markdown]
# Trained clean for {glue:text}`wide_epochs:d` epochs, the {glue:text}`width:,d`-unit network
# errs on {glue:text}`wide_clean_error:.1%` of the test digits (the paper:
# {glue:text}`paper_C15_clean_error:.2%`). The {glue:text}`width_small:d`-unit network errs on
# {glue:text}`clean_error_clean:.1%` after its {glue:text}`epochs_fit_clean:d` epochs and on
# {glue:text}`clean_error_small_at_wide_epochs:.1%` after {glue:text}`wide_epochs:d`: on the
# same budget the wider network errs {glue:text}`wide_overfit_word:s`. The paper's
# overfitting shows after long training.
#
# Trained adversarially, with the number of epochs chosen on the adversarial validation error
# (epoch {glue:text}`wide_best_epoch:d` of {glue:text}`wide_epochs:d` for the first seed) and
# retrained on all training digits, it errs on {glue:text}`wide_adv_mean:.1%` of the test
# digits on average over {glue:text}`seeds:d` seed(s), {glue:text}`wide_adv_best:.1%` at best
# (the paper: {glue:text}`paper_C15_mean_error:.3%` and {glue:text}`paper_C15_best_error:.2%`). Its FGSM
# error is {glue:text}`wide_adv_fgsm:.1%`, and transfer errs on
# {glue:text}`wide_transfer_to_adv:.1%` (examples from the clean-trained
# {glue:text}`width_small:d`-unit network) and {glue:text}`wide_transfer_to_clean:.1%` (the
# reverse). The paper's paragraph on robustness follows its paragraph on the wider network, so
# its FGSM and transfer numbers may have been measured on the wider network; the
# {glue:text}`width_small:d`-unit pair above is the like-for-like comparison, and the claims
# table gives both.

# %% [markdown]
# ## Noise is not the worst case; the input is the place to perturb
#
# The paper's baselines keep $\tilde J$ but replace the FGSM perturbation by noise of the same
# max-norm — random signs $\pm\epsilon$, or $U(-\epsilon, \epsilon)$ — or move the FGSM
# perturbation from the input to a hidden layer. Noise, by the first-order argument above,
# should barely help. For hidden layers the paper gives two reasons to prefer the input.
# {cite:t}`szegedy2014intriguing` found hidden-layer perturbations the better regulariser on
# sigmoid networks, but units with unbounded activations, like maxout units, can simply grow
# until a perturbation of fixed size is small beside them. And adversarial training helps only
# where the layers after the perturbation can learn to resist it: a universal approximator can,
# the final softmax layer on its own cannot, and the paper's best hidden-layer runs never
# perturbed the last hidden layer. Ours perturbs the first (`layer=1`), with the same
# $\epsilon$ added to the maxout activations.

# %% tags=["hide-input"]
baselines = ["maxout", adv_name, "maxout (sign noise)", "maxout (uniform noise)",
             "maxout (hidden layer)"]
charts.robustness_chart(sizes[sizes["model"].isin(baselines)][["model", "eps", "error",
                                                               "confidence"]],
                        title=f"FGSM against each training ({'clipped' if clip else 'unclipped'})")

# %%
comparison = results.loc[baselines, ["clean error", headline, headline_conf,
                                     "FGSM error (clipped)", "BIM error"]]
comparison["mean |layer-1 activation|"] = [activation_scale(models[n], x_test) for n in baselines]
act = comparison["mean |layer-1 activation|"]
record({**{f"{kind}_{short}": results.loc[name, column]
           for short, name in (("sign", "maxout (sign noise)"), ("uniform", "maxout (uniform noise)"),
                               ("hidden", "maxout (hidden layer)"))
           for kind, column in (("fgsm", headline), ("conf", headline_conf),
                                ("clean", "clean error"))},
        "act_clean": act["maxout"], "act_adv": act[adv_name], "act_hidden": act[baselines[-1]],
        "act_ratio": act[baselines[-1]] / act["maxout"],
        "act_word": "grew" if act[baselines[-1]] > act["maxout"] else "did not grow"})
comparison.style.format("{:.1%}").format("{:.2f}", subset=["mean |layer-1 activation|"])

# %% [markdown]
# Training with $\pm\epsilon$ sign noise leaves an FGSM error of {glue:text}`fgsm_sign:.1%`
# at {glue:text}`conf_sign:.1%` confidence on the mistakes (the paper:
# {glue:text}`paper_C21_sign_error:.1%` at {glue:text}`paper_C21_sign_confidence:.1%`);
# uniform noise leaves {glue:text}`fgsm_uniform:.1%` at {glue:text}`conf_uniform:.1%` (the
# paper: {glue:text}`paper_C21_uniform_error:.1%` at
# {glue:text}`paper_C21_uniform_confidence:.1%`), against {glue:text}`fgsm_adv:.1%` after
# adversarial training and {glue:text}`fgsm_clean:.1%` after
# clean training. Their clean errors are {glue:text}`clean_sign:.1%` and
# {glue:text}`clean_uniform:.1%` (trained clean: {glue:text}`clean_error_clean:.1%`):
# whatever noise does for clean accuracy, it does next to nothing against the worst case.
#
# Perturbing the first hidden layer instead of the input gives {glue:text}`fgsm_hidden:.1%`
# FGSM error and {glue:text}`clean_hidden:.1%` clean error. In the network trained that way
# the mean absolute activation of the perturbed layer is {glue:text}`act_hidden:.2f`,
# {glue:text}`act_ratio:.1f` times the clean-trained network's {glue:text}`act_clean:.2f`
# (input-trained: {glue:text}`act_adv:.2f`). The paper's reason to prefer the input is that
# such units can grow until a perturbation of fixed size is small beside them; here they
# {glue:text}`act_word:s`.

# %% [markdown]
# ## What the first layer learns
#
# The paper's Fig. 3 shows the first-layer weights of both networks and calls the
# adversarially trained ones more localised and interpretable. Below, the weight image of the
# first piece of the first {glue:text}`shown:d` units of each network, trained clean (top row)
# and adversarially (bottom row): red positive, blue negative, each image scaled to its own
# largest weight; hover for the measures defined below.

# %% tags=["hide-input"]
shown, top_fraction = 8, 0.1
grid_models = {"clean": models["maxout"], "adversarial": models[adv_name]}
charts.weight_grid({label: unit_images(model, shown) for label, model in grid_models.items()},
                   fraction=top_fraction,
                   title=f"First-layer weights (piece 1 of units 1–{shown})")

# %% [markdown]
# "Localised" can be given a number. For each of a network's {glue:text}`filters:,d`
# first-layer weight images we compute two quantities from its energy $w_i^2$
# (`advlib.weights`): the share of the energy held by its top {glue:text}`top_fraction:.0%` of
# pixels, and the spread — the root-mean-square distance, in pixels, of the energy from its
# centre of mass. A unit that looks at a few strokes has a high share and a small spread. The
# untrained network, whose weights ignore position, is the reference.

# %%
blank = x_train.max(axis=0) == 0  # pixels blank in every training digit
local = localisation_table({"untrained": base.build(), **models}, blank, top_fraction)
top_col = f"top-{top_fraction:.0%} energy share"
more_top = local.loc[adv_name, top_col] > local.loc["maxout", top_col]
less_spread = local.loc[adv_name, "spread (pixels)"] < local.loc["maxout", "spread (pixels)"]
record({"shown": shown, "top_fraction": top_fraction, "blank_pixels": int(blank.sum()),
        "filters": models["maxout"].first_layer.weight.shape[0],
        "localised_word": "more" if more_top and less_spread
        else "less" if not more_top and not less_spread else "not clearly more",
        **{f"{key}_{short}": local.loc[row, column]
           for key, column in (("top_share", top_col), ("spread", "spread (pixels)"),
                               ("blank_share", "energy on blank pixels"))
           for short, row in (("clean", "maxout"), ("adv", adv_name), ("untrained", "untrained"))}})
local.style.format({top_col: "{:.1%}", "spread (pixels)": "{:.2f}",
                    "energy on blank pixels": "{:.1%}"})

# %% [markdown]
# The top {glue:text}`top_fraction:.0%` of pixels hold {glue:text}`top_share_clean:.1%` of a
# clean-trained unit's energy on average and {glue:text}`top_share_adv:.1%` of an
# adversarially trained one's ({glue:text}`top_share_untrained:.1%` untrained); the spread is
# {glue:text}`spread_clean:.2f` pixels against {glue:text}`spread_adv:.2f`
# ({glue:text}`spread_untrained:.2f` untrained). By these measures the adversarially trained
# weights are {glue:text}`localised_word:s` concentrated than the clean-trained ones.
#
# The measures and the eye can disagree. The clean-trained units are broad blobs over the
# digit, but their energy stays off the border, where no digit ever has ink and the weights
# never move from their small initial values. The adversarially trained units show short
# strokes — the localised features of the paper's Fig. 3 — on top of a pixel-level speckle.
# Part of that speckle lies on the {glue:text}`blank_pixels:d` pixels that are blank in every
# training digit, which only the perturbation ever changes: they hold
# {glue:text}`blank_share_adv:.1%` of an adversarially trained unit's energy, against
# {glue:text}`blank_share_clean:.1%` of a clean-trained one's. Both measures count
# concentration of weight, not interpretability, which stays a matter of looking.

# %% [markdown]
# ## Claims
#
# The paper's statements beside what this chapter computed, with two verdicts: the rule (the
# direction the paper reports) and whether our number is the paper's, within two standard
# errors of a rate on our {glue:text}`n_test:,d` test digits. Rows computed at another setting
# than the paper's (another $\epsilon$ or $\alpha$, clipped attacks) are not compared with the
# paper's number. At the quick scale the data are a small subset of MNIST and the budget a small
# fraction of the paper's, so the rules, not the paper's numbers, are what to expect to hold.

# %% tags=["hide-input"]
n = len(y_test)
paper_setting = (eps, train_eps, alpha, clip) == (PAPER["C13"]["eps"], PAPER["C13"]["eps"],
                                                  PAPER["C13"]["alpha"], False)
same, off = results.loc[VARIANTS["same"], headline], results.loc[VARIANTS["off"], headline]
rows = {k: results.loc[name] for k, name in (("sign", "maxout (sign noise)"),
                                              ("uniform", "maxout (uniform noise)"),
                                              ("hidden", "maxout (hidden layer)"))}
noise_rule = "noise removes < half the FGSM error adversarial training removes"
attack = f"{'Clipped' if clip else 'Unclipped'}, eps = {eps:g}; BIM: "
claims = [
    Claim("C13", "open: FGSM error after training with the direction from the net with "
          "dropout off / under the same dropout mask", "not stated", f"{off:.1%} / {same:.1%}",
          when(off < same, "dropout off < same mask"),
          why=f"Same mask: dropped pixels have zero gradient, so are never perturbed. Used "
              f"here: {fgsm_dropout!r}."),
    Claim("C14", "clean test error, trained clean", PAPER["C14"]["clean_error"], clean_err,
          at_most(0.012, "ours"), digits=2, n=n, why="Rule: the book's target on a CPU budget."),
    Claim("C14", "clean test error, adversarially trained", PAPER["C14"][
          "adversarial_training_error"], adv_clean_err, when(adv_clean_err <= clean_err,
                                                              "ours ≤ the clean-trained net's"),
          digits=2, n=n, comparable=paper_setting),
    Claim("C16", "FGSM error, trained clean", PAPER["C16"]["before"], fgsm_clean,
          at_least(0.5, "ours"), n=n, comparable=paper_setting,
          why=attack + f"{results.loc['maxout', 'BIM error']:.1%}."),
    Claim("C16", "FGSM error, adversarially trained", PAPER["C16"]["after"], fgsm_adv,
          when(fgsm_adv <= fgsm_clean / 2, "ours ≤ half the clean-trained net's"), n=n,
          comparable=paper_setting,
          why=attack + f"{results.loc[adv_name, 'BIM error']:.1%}; trained clipped, attacked "
              f"clipped: {cross['cross_clipped_clipped']:.1%}."),
]

# %% tags=["hide-input"]
claims += [
    Claim("C17", "transfer: examples made on the clean-trained net → adversarially trained",
          PAPER["C17"]["error"], forward["error"], when(forward["error"] < backward["error"],
                                                        "ours < the reverse direction (C18)"),
          n=n, comparable=paper_setting),
    Claim("C18", "transfer: examples made on the adversarially trained net → clean-trained",
          PAPER["C18"]["error"], backward["error"],
          when(backward["error"] >= 5 * clean_err, "ours ≥ 5 × its clean error (they transfer)"),
          n=n, comparable=paper_setting),
    Claim("C19", "confidence of the adversarially trained net on its FGSM mistakes",
          PAPER["C19"]["confidence"], results.loc[adv_name, headline_conf], at_least(0.5, "ours"),
          n=n, comparable=paper_setting,
          why=f"Trained clean: {results.loc['maxout', headline_conf]:.1%}."),
    Claim("C20", f"first-layer weights more localised: {top_col}, adversarial / clean",
          "more localised",
          f"{local.loc[adv_name, top_col]:.1%} / {local.loc['maxout', top_col]:.1%}",
          when(more_top and less_spread, "higher share and smaller spread"),
          why=f"Spread {local.loc[adv_name, 'spread (pixels)']:.1f} / "
              f"{local.loc['maxout', 'spread (pixels)']:.1f} pixels. Measures concentration."),
    *[Claim("C21", f"FGSM error after training with {what} noise", PAPER["C21"][f"{k}_error"],
            rows[k][headline], when(fgsm_clean - rows[k][headline] <= (fgsm_clean - fgsm_adv) / 2,
                                    noise_rule), n=n, comparable=paper_setting)
      for k, what in (("sign", "±eps sign"), ("uniform", "U(−eps, eps)"))],
    *[Claim("C21", f"confidence on FGSM mistakes after {k} noise training",
            PAPER["C21"][f"{k}_confidence"], rows[k][headline_conf],
            when(rows[k][headline_conf] >= results.loc[adv_name, headline_conf],
                 "≥ the adversarially trained net's"), n=n, comparable=paper_setting)
      for k in ("sign", "uniform")],
]

# %% tags=["hide-input"]
wide_clean_error = wide_clean_result["clean error"]
claims += [
    Claim("C15", f"{width}-unit net trained clean ({base.width} units after as many epochs: "
          f"{small_at_wide_epochs:.1%})", PAPER["C15"]["clean_error"], wide_clean_error,
          when(wide_clean_error > small_at_wide_epochs, f"ours > the {base.width}-unit net's"),
          digits=2, n=n, comparable=width == PAPER["C15"]["width"],
          why=f"{wide_recipe.describe()}; the paper's overfitting needs long training."),
    Claim("C15", f"{width}-unit net, adversarially trained, early stopping on adversarial "
          f"validation error, retrained: mean of {seeds} seed(s)", PAPER["C15"]["mean_error"],
          wide["clean error"].mean(), when(wide["clean error"].mean() < wide_clean_error,
                                           f"ours < the {width}-unit clean-trained net's"),
          digits=2, n=n, comparable=width == PAPER["C15"]["width"] and paper_setting,
          why=f"The paper: {PAPER['C15']['seeds']} seeds."),
    Claim("C22", "clean error, perturbing hidden layer 1 instead of the input",
          "regularises less", rows["hidden"]["clean error"],
          when(rows["hidden"]["clean error"] >= adv_clean_err and rows["hidden"][headline] >
               fgsm_adv, "clean and FGSM error ≥ input perturbation's"),
          why=f"Input: {adv_clean_err:.1%} clean. FGSM error {rows['hidden'][headline]:.1%} vs "
              f"{fgsm_adv:.1%}."),
]
claims_table("06_adversarial_training", claims, scale=scale,
             context=f"{describe_dataset(data)}; {base.describe()}.")
