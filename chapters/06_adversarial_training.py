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
# with $\alpha$ = {glue:text}`paper_alpha:.1f` in every experiment (not tuned) and
# $\epsilon$ = {glue:text}`paper_eps:.2f` on MNIST. The adversarial examples are never fixed:
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
# baselines, and the first-layer weights. It adds two checks the paper did not make: where the
# FGSM direction inside $\tilde J$ comes from when the network uses dropout, and whether the
# resistance it buys reaches beyond the one attack it was trained against.

# %% tags=["parameters"]
eps: float = 0.25  # max-norm of the FGSM attack on the test digits (the paper: .25)
train_eps: float = 0.25  # max-norm of the perturbation in every training objective (the paper: .25)
alpha: float = 0.5  # weight of the clean term of the adversarial objective (the paper: .5)
fgsm_dropout: str = "off"  # FGSM direction in training: "off" (dropout off) or "same" (same mask)
width: int = 1600  # units per hidden layer of the larger network (the paper: 1600)
seeds: int = 1  # seeds of the larger adversarially trained network (the paper: 5)
clip: bool = False  # clip x + eta to [0, 1] in the attacks the claims use (the paper did not)
dataset: str = "mnist-embedded"  # mnist-embedded, mnist or fashion-mnist
seed: int = 0  # seed of every model; the larger adversarial ones use seed, seed + 1, ...

# %%
import inspect

import altair as alt
import numpy as np
import pandas as pd
import torch

from advlib.book import charts, record
from advlib.attacks import frozen
from advlib.data import describe_dataset, load_dataset
from advlib.measure import adversarial, robustness_curve, transfer
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_least, claims_table, data_note, when
from advlib.train import evaluate, fit
from advlib.weights import energy_share, localisation, spread, top_share
from advlib.zoo import recipe, trained

VARIANTS = {"same": "maxout (adversarial)", "off": "maxout (adversarial, dropout off)"}
if fgsm_dropout not in VARIANTS:
    raise ValueError(f"fgsm_dropout must be one of {sorted(VARIANTS)}, got {fgsm_dropout!r}")
if seeds < 1:
    raise ValueError(f"seeds must be at least 1, got {seeds}")

data_note(describe_dataset(dataset))
x_test, y_test = load_dataset(dataset, "test")
x_train, y_train = load_dataset(dataset, "train")
attack_clip = (0.0, 1.0) if clip else None
perturbed = dict(eps=train_eps, alpha=alpha, curves=True)  # every perturbed objective
on = dict(dataset=dataset, seed=seed)
recipes = {
    "maxout": recipe("maxout", **on, curves=True),
    "maxout (adversarial)": recipe("maxout-adversarial", **on, **perturbed),
    "maxout (adversarial, dropout off)": recipe("maxout-adversarial-dropout-off", **on,
                                                **perturbed),
    "maxout (sign noise)": recipe("maxout-noise-sign", **on, **perturbed),
    "maxout (uniform noise)": recipe("maxout-noise-uniform", **on, **perturbed),
    "maxout (hidden layer)": recipe("maxout-hidden", **on, fgsm_dropout=fgsm_dropout,
                                    **perturbed),
}
models, histories = {}, {}
for name, r in recipes.items():
    models[name], histories[name] = trained(r)
adv_name = VARIANTS[fgsm_dropout]  # "the" adversarially trained model of the claims rows
base = recipes["maxout"]
curve_eps = inspect.signature(fit).parameters["valid_eps"].default  # logged every epoch

for name, value in {
    "eps": eps, "train_eps": train_eps, "alpha": alpha, "fgsm_dropout": fgsm_dropout,
    "clip": clip, "epochs": base.epochs, "width_small": base.width, "pieces": base.pieces,
    "drop_in": base.dropout[0], "drop_hidden": base.dropout[1], "n_train": len(y_train),
    "n_test": len(y_test), "n_pixels": x_test.shape[1], "curve_eps": curve_eps,
    "paper_alpha": PAPER["C13"]["alpha"], "paper_eps": PAPER["C13"]["eps"],
}.items():
    record(name, value)

# %% [markdown]
# Every network here is the maxout network of {cite:t}`goodfellow2013maxout`: two maxout
# layers of {glue:text}`width_small:d` units with {glue:text}`pieces:d` pieces each, dropout
# before every layer (drop probability {glue:text}`drop_in:.1f` on the input,
# {glue:text}`drop_hidden:.1f` on the hidden layers) and the maxout paper's max-norm
# constraint. Each is trained for {glue:text}`epochs:d` epochs with Adam
# {cite}`kingma2015adam` on the {glue:text}`n_train:,d` training digits — far fewer steps and
# digits than the paper's SGD runs on full MNIST. The perturbed objectives use
# $\alpha$ = {glue:text}`alpha:.2f` and $\epsilon$ = {glue:text}`train_eps:.2f`. Models come
# from the book's model cache (`advlib.zoo.trained`), so rebuilding this page trains nothing.
#
# ## Training with the adversarial objective
#
# The test error after every epoch, on the clean test digits and on their FGSM examples at
# $\epsilon$ = {glue:text}`curve_eps:.2f` (unclipped) made against the model of that epoch,
# for the network trained clean and for the two forms of the adversarial objective that a
# later section compares.

# %% tags=["hide-input"]
curve_models = ["maxout", "maxout (adversarial)", "maxout (adversarial, dropout off)"]
charts.training_curves(
    {name: histories[name] for name in curve_models},
    clean="test_error", adversarial="test_adv_error", y_title="test error",
    title=f"Test error while training (dashed: FGSM at eps = {curve_eps:g})",
)

# %%
def last(name, column):
    """The value of a logged column after the last training epoch of model ``name``."""
    return histories[name]["epochs"][-1][column]


for name, value in {
    "curve_min_adv_clean": min(row["test_adv_error"] for row in histories["maxout"]["epochs"]),
    "curve_adv_same": last("maxout (adversarial)", "test_adv_error"),
    "curve_adv_off": last("maxout (adversarial, dropout off)", "test_adv_error"),
    "curve_clean_clean": last("maxout", "test_error"),
    "curve_clean_same": last("maxout (adversarial)", "test_error"),
    "curve_clean_off": last("maxout (adversarial, dropout off)", "test_error"),
}.items():
    record(name, value)

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
def measured(model):
    """Clean error, and error and confidence on mistakes under FGSM, unclipped and clipped."""
    clean = evaluate(model, x_test, y_test, clip=None)
    raw = evaluate(model, x_test, y_test, eps, clip=None)
    clipped = evaluate(model, x_test, y_test, eps, clip=(0.0, 1.0))
    return {
        "clean error": clean["error"],
        "FGSM error": raw["error"],
        "confidence on mistakes": raw["mistake_confidence"],
        "FGSM error (clipped)": clipped["error"],
        "confidence on mistakes (clipped)": clipped["mistake_confidence"],
    }


results = pd.DataFrame({name: measured(m) for name, m in models.items()}).T
headline = "FGSM error (clipped)" if clip else "FGSM error"
headline_conf = "confidence on mistakes (clipped)" if clip else "confidence on mistakes"
clean_err = results.loc["maxout", "clean error"]
adv_clean_err = results.loc[adv_name, "clean error"]
fgsm_clean = results.loc["maxout", headline]
fgsm_adv = results.loc[adv_name, headline]


def effect(before, after):
    """How clipping moved an error rate, in words for the prose."""
    return "raises" if after > before else ("lowers" if after < before else "does not change")


for name, value in {
    "clean_error_clean": clean_err, "clean_error_adv": adv_clean_err,
    "clean_change_points": 100 * (adv_clean_err - clean_err),
    "clean_se_points": 100 * np.sqrt(clean_err * (1 - clean_err) / len(y_test)),
    "clean_cost_word": "does not" if adv_clean_err <= clean_err else "does, a little",
    "fgsm_clean": fgsm_clean, "fgsm_adv": fgsm_adv, "fgsm_ratio": fgsm_adv / fgsm_clean,
    "fgsm_clean_unclipped": results.loc["maxout", "FGSM error"],
    "fgsm_clean_clipped": results.loc["maxout", "FGSM error (clipped)"],
    "fgsm_adv_unclipped": results.loc[adv_name, "FGSM error"],
    "fgsm_adv_clipped": results.loc[adv_name, "FGSM error (clipped)"],
    "clip_effect_clean": effect(results.loc["maxout", "FGSM error"],
                                results.loc["maxout", "FGSM error (clipped)"]),
    "clip_effect_adv": effect(results.loc[adv_name, "FGSM error"],
                              results.loc[adv_name, "FGSM error (clipped)"]),
    "mistake_conf_clean": results.loc["maxout", headline_conf],
    "mistake_conf_adv": results.loc[adv_name, headline_conf],
    "headline": "clipped" if clip else "unclipped", "adv_name": adv_name,
    "paper_C14_clean": PAPER["C14"]["clean_error"],
    "paper_C14_adv": PAPER["C14"]["adversarial_training_error"],
    "paper_C14_gain_points": 100 * (PAPER["C14"]["clean_error"]
                                    - PAPER["C14"]["adversarial_training_error"]),
    "paper_C16_before": PAPER["C16"]["before"], "paper_C16_after": PAPER["C16"]["after"],
    "paper_C19_confidence": PAPER["C19"]["confidence"],
}.items():
    record(name, value)
main_table = results.loc[["maxout", adv_name]]
main_table.style.format("{:.1%}")

# %% [markdown]
# Trained clean, the network errs on {glue:text}`clean_error_clean:.1%` of the clean test
# digits and on {glue:text}`fgsm_clean:.1%` of their FGSM examples
# ({glue:text}`headline:s`; the paper: {glue:text}`paper_C14_clean:.2%` and
# {glue:text}`paper_C16_before:.1%`). Trained with the adversarial objective
# ({glue:text}`adv_name:s`), its clean error is {glue:text}`clean_error_adv:.1%` and its FGSM
# error falls to {glue:text}`fgsm_adv:.1%` — {glue:text}`fgsm_ratio:.0%` of what it was (the
# paper: {glue:text}`paper_C14_adv:.2%` and
# {glue:text}`paper_C16_after:.1%`). Clipping the examples to $[0, 1]$ throws part of each
# perturbation away, and for the clean-trained network it {glue:text}`clip_effect_clean:s` the
# error ({glue:text}`fgsm_clean_unclipped:.1%` unclipped, {glue:text}`fgsm_clean_clipped:.1%`
# clipped); for the adversarially trained one it {glue:text}`clip_effect_adv:s` it
# ({glue:text}`fgsm_adv_unclipped:.1%` → {glue:text}`fgsm_adv_clipped:.1%`). Where a weaker
# perturbation fools a model more often, its resistance is tied to the exact perturbation it
# was trained on; the section on how far the robustness reaches takes this up.
#
# The change in clean error, {glue:text}`clean_change_points:+.1f` points, is to be read
# against the resolution of a test set of {glue:text}`n_test:,d` digits: a binomial standard
# error of about {glue:text}`clean_se_points:.1f` points on each error rate. The paper's gain
# of {glue:text}`paper_C14_gain_points:.2f` points was measured on the full MNIST test set and
# is below what ours can resolve. Ours can say whether adversarial training costs clean
# accuracy: on this budget it {glue:text}`clean_cost_word:s`.
#
# Where the adversarially trained network is still fooled, it is still sure of itself: its
# mean confidence on those mistakes is {glue:text}`mistake_conf_adv:.1%` (the paper:
# {glue:text}`paper_C19_confidence:.1%`), against {glue:text}`mistake_conf_clean:.1%` for the
# clean-trained network.

# %% [markdown]
# ## Where the FGSM direction comes from: an open choice
#
# $\tilde J$ needs $\nabla_x J(\theta, x, y)$, but during training $J$ is random: dropout
# draws a new mask at every forward pass. The paper does not say which network the direction
# was taken from. advlib offers both (`fgsm_dropout` in `advlib.train.fit`):
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
keep_in = 1.0 - base.dropout[0]
probe = models["maxout (adversarial)"]  # any network with input dropout would do
xb, yb = torch.as_tensor(x_train[:1000]).clone(), torch.as_tensor(y_train[:1000])
zero_share = {}
for mode in (True, False):  # dropout on (one training step's mask), dropout off
    with torch.random.fork_rng(devices=[]), frozen(probe, train=mode):
        torch.manual_seed(seed)
        xg = xb.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(probe(xg), yb)
        (grad,) = torch.autograd.grad(loss, xg)
    zero_share[mode] = float((grad == 0).double().mean())
record("zero_grad_share_dropout", zero_share[True])
record("zero_grad_share_eval", zero_share[False])

rng = np.random.default_rng(seed)
partial = f"FGSM error ({1 - keep_in:.0%} of pixels left alone)"
spared = []
for name in curve_models:
    model = models[name]
    x_adv = adversarial(model, x_test, y_test, eps, clip=None).numpy()
    mask = rng.random(x_adv.shape) < keep_in
    x_part = x_test + (x_adv - x_test) * mask
    if attack_clip is not None:
        x_part = np.clip(x_part, *attack_clip)
    spared.append({"model": name, "FGSM error (every pixel)": results.loc[name, headline],
                   partial: evaluate(model, x_part, y_test, clip=None)["error"],
                   "clean error": results.loc[name, "clean error"]})
spared = pd.DataFrame(spared).set_index("model")
record("spared_clean", spared.loc["maxout", partial])
for short, name in VARIANTS.items():
    record(f"fgsm_{short}", spared.loc[name, "FGSM error (every pixel)"])
    record(f"spared_{short}", spared.loc[name, partial])
    record(f"clean_{short}", spared.loc[name, "clean error"])
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
forward = transfer(models["maxout"], models[adv_name], x_test, y_test, eps, clip=attack_clip)
backward = transfer(models[adv_name], models["maxout"], x_test, y_test, eps, clip=attack_clip)
for name, value in {
    "transfer_to_adv": forward["error"], "transfer_to_clean": backward["error"],
    "transfer_word": "resists better" if forward["error"] < backward["error"]
    else "does not resist better",
    "paper_C17": PAPER["C17"]["error"], "paper_C18": PAPER["C18"]["error"],
}.items():
    record(name, value)
pd.DataFrame({
    "examples made on": ["maxout (trained clean)", adv_name],
    "tested on": [adv_name, "maxout (trained clean)"],
    "error of the tested model": [forward["error"], backward["error"]],
    "its confidence on mistakes": [forward["mistake_confidence"],
                                   backward["mistake_confidence"]],
    "error of the model that made them": [forward["source_error"], backward["source_error"]],
}).style.format({c: "{:.1%}" for c in ("error of the tested model",
                                        "its confidence on mistakes",
                                        "error of the model that made them")}).hide()

# %% [markdown]
# Examples made on the clean-trained network fool the adversarially trained one on
# {glue:text}`transfer_to_adv:.1%` of the test digits (the paper:
# {glue:text}`paper_C17:.1%`); examples made on the adversarially trained network fool the
# clean-trained one on {glue:text}`transfer_to_clean:.1%` (the paper:
# {glue:text}`paper_C18:.1%`). Both directions transfer, and the adversarially trained
# network {glue:text}`transfer_word:s` the other's examples than the other resists its own.

# %% [markdown]
# ## How far does the robustness reach?
#
# The paper measured FGSM at one size, the size used in training. Two cheap checks ask whether
# the resistance reaches further: the same attack at other sizes, and an iterative attack at
# the test $\epsilon$ — BIM, {glue:text}`bim_steps:d` signed-gradient steps, each of size
# {glue:text}`bim_factor:.1f` × $\epsilon$ / {glue:text}`bim_steps:d` and each projected back
# into the $\epsilon$-ball (`advlib.measure.adversarial`). A model that is
# robust in the plain sense errs more as $\epsilon$ grows, and several small steps fool it
# only somewhat more often than one large step.

# %%
eps_grid = sorted({0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, float(eps)})
curve = robustness_curve(models, x_test, y_test, eps_grid, clip=attack_clip)
bim_steps, bim_factor = 20, 2.5
results["BIM error"] = [
    evaluate(m, adversarial(m, x_test, y_test, eps, attack="bim", steps=bim_steps,
                            step=bim_factor * eps / bim_steps, clip=attack_clip),
             y_test, clip=None)["error"]
    for m in models.values()]
own = curve[(curve["model"] == adv_name) & (curve["eps"] > 0) & (curve["eps"] < eps)]
peak = own.loc[own["error"].idxmax()] if len(own) else None
rises = peak is None or peak["error"] <= fgsm_adv
for name, value in {
    "bim_steps": bim_steps, "bim_factor": bim_factor,
    "bim_clean": results.loc["maxout", "BIM error"], "bim_adv": results.loc[adv_name, "BIM error"],
    "bim_same": results.loc[VARIANTS["same"], "BIM error"],
    "bim_off": results.loc[VARIANTS["off"], "BIM error"],
    "adv_peak_error": float(peak["error"]) if peak is not None else fgsm_adv,
    "adv_peak_eps": float(peak["eps"]) if peak is not None else eps,
    "adv_monotone": "rises steadily" if rises else "does not rise steadily",
}.items():
    record(name, value)
charts.robustness_chart(
    curve[curve["model"].isin(curve_models)][["model", "eps", "error", "confidence"]],
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
# {glue:text}`paper_width:,d` units per layer (from {glue:text}`width_small:d`); trained
# clean, the wider network overfits slightly. And since, under adversarial training, its clean
# validation error levelled off early and barely moved while the adversarial validation error
# kept falling, it stopped early on the *adversarial* validation error, then trained again from
# scratch on all training digits for the chosen number of epochs. Over
# {glue:text}`paper_seeds:d` seeds this gave the best result on permutation-invariant MNIST at
# the time, statistically level with deep Boltzmann machines {cite}`salakhutdinov2009deep`
# fine-tuned with dropout {cite}`srivastava2014dropout`.
#
# Here the wide network has {glue:text}`width:,d` units per layer (the parameter `width`) and
# is trained for {glue:text}`wide_epochs:d` epochs; the adversarial one, with the same form of
# $\tilde J$ as above, holds out {glue:text}`valid_fraction:.0%` of the training digits for
# early stopping and is trained with {glue:text}`seeds:d` seed(s) (the parameter `seeds`).
# Each wide adversarial network costs minutes on two CPU cores, so the default is the one seed
# the book's CI budget allows; set `seeds` to {glue:text}`paper_seeds:d` for the paper's
# protocol.

# %%
wide_on = dict(dataset=dataset, width=width, curves=True)
wide_clean, wide_clean_history = trained(recipe("maxout-1600", **wide_on, seed=seed))
wide_name = f"maxout {width}"
wide_adv_name = f"maxout {width} (adversarial)"
wide_runs = []
for k in range(seeds):
    model, history = trained(recipe("maxout-1600-adversarial", **wide_on, seed=seed + k,
                                    eps=train_eps, alpha=alpha, fgsm_dropout=fgsm_dropout))
    wide_runs.append({"seed": seed + k, "model": model, "history": history,
                      "best_epoch": history["best_epoch"], **measured(model)})
wide = pd.DataFrame([{k: v for k, v in run.items() if k not in ("model", "history")}
                     for run in wide_runs]).set_index("seed")
wide_clean_result = measured(wide_clean)
wide_mean = float(wide["clean error"].mean())
wide_best = float(wide["clean error"].min())
wide_fgsm = float(wide[headline].mean())
wide_epochs = recipe("maxout-1600").epochs
# the 240-unit network after as many epochs as the wide one got: the like-for-like budget
small_rows = [row for row in histories["maxout"]["epochs"] if row["phase"] == "fit"]
small_at_wide_epochs = small_rows[min(wide_epochs, len(small_rows)) - 1]["test_error"]
for name, value in {
    "width": width, "seeds": seeds, "wide_epochs": wide_epochs,
    "wide_clean_error": wide_clean_result["clean error"],
    "wide_fgsm_clean": wide_clean_result[headline], "wide_adv_mean": wide_mean,
    "wide_adv_best": wide_best, "wide_adv_fgsm": wide_fgsm,
    "wide_best_epoch": wide_runs[0]["best_epoch"],
    "valid_fraction": recipe("maxout-1600-adversarial").valid_fraction,
    "clean_error_small_at_wide_epochs": small_at_wide_epochs,
    "wide_overfit_word": "more" if wide_clean_result["clean error"] > small_at_wide_epochs
    else "not more",
    "paper_C15_clean": PAPER["C15"]["clean_error"], "paper_C15_mean": PAPER["C15"]["mean_error"],
    "paper_C15_best": PAPER["C15"]["best_error"], "paper_width": PAPER["C15"]["width"],
    "paper_seeds": PAPER["C15"]["seeds"],
}.items():
    record(name, value)
wide_forward = transfer(models["maxout"], wide_runs[0]["model"], x_test, y_test, eps,
                        clip=attack_clip)
wide_backward = transfer(wide_runs[0]["model"], models["maxout"], x_test, y_test, eps,
                         clip=attack_clip)
record("wide_transfer_to_adv", wide_forward["error"])
record("wide_transfer_to_clean", wide_backward["error"])
wide_table = pd.concat([
    pd.DataFrame([{"model": wide_name, "seed": seed, **wide_clean_result}]),
    wide.reset_index().assign(model=wide_adv_name),
]).set_index(["model", "seed"]).drop(columns="best_epoch")
wide_table.style.format("{:.1%}")

# %% tags=["hide-input"]
first = pd.DataFrame(wide_runs[0]["history"]["epochs"])
first = first[first["phase"] == "fit"].assign(model=wide_adv_name)
curves = charts.training_curves(
    first, y_title="validation error",
    title=f"{wide_adv_name}, seed {seed}: early stopping on adversarial validation error")
chosen = pd.DataFrame({"epoch": [wide_runs[0]["best_epoch"]], "what": ["chosen epoch"]})
curves + alt.Chart(chosen).mark_rule(strokeDash=[2, 2], color="#555").encode(
    x="epoch:Q", tooltip=["what:N", "epoch:Q"])

# %% [markdown]
# Trained clean for {glue:text}`wide_epochs:d` epochs, the {glue:text}`width:,d`-unit network
# errs on {glue:text}`wide_clean_error:.1%` of the test digits (the paper:
# {glue:text}`paper_C15_clean:.2%`). The {glue:text}`width_small:d`-unit network errs on
# {glue:text}`clean_error_clean:.1%` after its {glue:text}`epochs:d` epochs and on
# {glue:text}`clean_error_small_at_wide_epochs:.1%` after {glue:text}`wide_epochs:d`: on the
# same budget the wider network errs {glue:text}`wide_overfit_word:s`. The paper's
# overfitting shows after long training, which our budget does not reach.
#
# Trained adversarially, with the number of epochs chosen on the adversarial validation error
# (epoch {glue:text}`wide_best_epoch:d` of {glue:text}`wide_epochs:d` for the first seed) and
# retrained on all training digits, it errs on {glue:text}`wide_adv_mean:.1%` of the test
# digits on average over {glue:text}`seeds:d` seed(s), {glue:text}`wide_adv_best:.1%` at best
# (the paper: {glue:text}`paper_C15_mean:.3%` and {glue:text}`paper_C15_best:.2%`). Its FGSM
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
charts.robustness_chart(
    curve[curve["model"].isin(baselines)][["model", "eps", "error", "confidence"]],
    title=f"FGSM against each training ({'clipped' if clip else 'unclipped'})")

# %%
for short, name in (("sign", "maxout (sign noise)"), ("uniform", "maxout (uniform noise)"),
                    ("hidden", "maxout (hidden layer)")):
    record(f"fgsm_{short}", results.loc[name, headline])
    record(f"conf_{short}", results.loc[name, headline_conf])
    record(f"clean_{short}", results.loc[name, "clean error"])
for field in ("sign_error", "uniform_error", "sign_confidence", "uniform_confidence"):
    record(f"paper_C21_{field}", PAPER["C21"][field])


def activation(model, layer=1):
    """Mean absolute activation of hidden ``layer`` over the test digits, dropout off."""
    with frozen(model), torch.no_grad():
        return float(model.features(torch.as_tensor(x_test), layer).abs().mean())


comparison = results.loc[baselines, ["clean error", "FGSM error", "confidence on mistakes",
                                     "FGSM error (clipped)", "BIM error"]]
comparison["mean |layer-1 activation|"] = [activation(models[n]) for n in baselines]
act = comparison["mean |layer-1 activation|"]
act_ratio = act["maxout (hidden layer)"] / act["maxout"]
for name, value in {
    "act_clean": act["maxout"], "act_adv": act[adv_name],
    "act_hidden": act["maxout (hidden layer)"],
    "act_ratio": act_ratio, "act_word": "grew" if act_ratio > 1 else "did not grow",
}.items():
    record(name, value)
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
record("shown", shown)
record("top_fraction", top_fraction)
pieces = base.pieces
rows_of = [u * pieces for u in range(shown)]  # piece 0 of units 0..11
grid_models = {"clean": models["maxout"], "adversarial": models[adv_name]}
images, captions, row_names, tips = [], [], [], []
for label, model in grid_models.items():
    w = model.first_layer.weight.detach().numpy()[rows_of]
    shares, radii = top_share(w, top_fraction), spread(w)
    for u, image in enumerate(w):
        images.append(image)
        captions.append(f"unit {u}")
        row_names.append(label)
        tips.append({f"top-{top_fraction:.0%} energy share": float(shares[u]),
                     "spread (pixels)": float(radii[u])})
charts.digit_grid(np.array(images), captions, rows=row_names, signed=True, size=52,
                  tooltips=tips, title=f"First-layer weights (piece 1 of units 1–{shown})")

# %% [markdown]
# "Localised" can be given a number. For each of a network's {glue:text}`filters:,d`
# first-layer weight images we compute two quantities from its energy $w_i^2$
# (`advlib.weights`): the share of the energy held by its top {glue:text}`top_fraction:.0%` of
# pixels, and the spread — the root-mean-square distance, in pixels, of the energy from its
# centre of mass. A unit that looks at a few strokes has a high share and a small spread. The
# untrained network, whose weights ignore position, is the reference.

# %%
untrained = base.build()
local = pd.DataFrame(
    {"untrained": localisation(untrained.first_layer.weight, top_fraction),
     **{name: localisation(m.first_layer.weight, top_fraction) for name, m in models.items()}}).T
top_col = f"top-{top_fraction:.0%} energy share"
local.columns = [top_col, "spread (pixels)"]
blank = x_train.max(axis=0) == 0  # pixels blank in every training digit
local["energy on blank pixels"] = [
    float(energy_share(m.first_layer.weight, blank).mean())
    for m in [untrained, *models.values()]]
more_top = local.loc[adv_name, top_col] > local.loc["maxout", top_col]
less_spread = local.loc[adv_name, "spread (pixels)"] < local.loc["maxout", "spread (pixels)"]
for name, value in {
    "filters": models["maxout"].first_layer.weight.shape[0], "blank_pixels": int(blank.sum()),
    "localised_word": "more" if more_top and less_spread
    else "less" if not more_top and not less_spread else "not clearly more",
    **{f"{key}_{short}": local.loc[row, column]
       for key, column in (("top_share", top_col), ("spread", "spread (pixels)"),
                           ("blank_share", "energy on blank pixels"))
       for short, row in (("clean", "maxout"), ("adv", adv_name), ("untrained", "untrained"))},
}.items():
    record(name, value)
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
# The paper's statement beside what this chapter computed. The rule column says how each
# verdict is decided. Our data are a small subset of MNIST (see the data note above) and our
# training budget a small fraction of the paper's, so the absolute error rates are higher than
# the paper's throughout; the rules test the directions the paper reports.

# %% tags=["hide-input"]
budget = f"{len(y_train):,} training digits, {base.epochs} epochs of Adam."
sign_err = results.loc["maxout (sign noise)", headline]
uniform_err = results.loc["maxout (uniform noise)", headline]
sign_conf = results.loc["maxout (sign noise)", headline_conf]
uniform_conf = results.loc["maxout (uniform noise)", headline_conf]
hidden_err = results.loc["maxout (hidden layer)", headline]
hidden_clean = results.loc["maxout (hidden layer)", "clean error"]
adv_conf = results.loc[adv_name, headline_conf]
noise_rule = "noise removes < half the FGSM error adversarial training removes"
attack = f"{'Clipped' if clip else 'Unclipped'}, eps = {eps:g}."
paper_seeds = f"The paper: {PAPER['C15']['seeds']} seeds."
claims_table("06_adversarial_training", [
    Claim("C13", "objective α·J(x) + (1 − α)·J(x + eps·sign(∇ₓJ)): α, eps",
          f"α = {PAPER['C13']['alpha']:g}, eps = {PAPER['C13']['eps']:g}",
          f"α = {alpha:g}, eps = {train_eps:g}",
          when(alpha == PAPER["C13"]["alpha"] and train_eps == PAPER["C13"]["eps"],
               "same α and eps as the paper"),
          why="Examples regenerated at every step."),
    Claim("C13", "open: FGSM error after training with the direction from the net with "
          "dropout off / under the same dropout mask", "not stated",
          f"{results.loc[VARIANTS['off'], headline]:.1%} / "
          f"{results.loc[VARIANTS['same'], headline]:.1%}",
          when(results.loc[VARIANTS["off"], headline] < results.loc[VARIANTS["same"], headline],
               "dropout off < same mask"),
          why=f"Same mask: dropped pixels have zero gradient, so are never perturbed. Used "
              f"here: {fgsm_dropout!r}."),
    Claim("C14", f"clean test error, adversarially trained (trained clean: paper "
          f"{PAPER['C14']['clean_error']:.2%}, ours {clean_err:.1%})",
          PAPER["C14"]["adversarial_training_error"], adv_clean_err,
          when(adv_clean_err <= clean_err, "ours ≤ the clean-trained model's"), digits=2,
          why=f"{budget} Standard error ≈ "
              f"{100 * np.sqrt(clean_err * (1 - clean_err) / len(y_test)):.1f} points."),
    Claim("C15", f"{width}-unit net trained clean ({base.width} units after as many epochs: "
          f"{small_at_wide_epochs:.1%})", PAPER["C15"]["clean_error"],
          wide_clean_result["clean error"],
          when(wide_clean_result["clean error"] > small_at_wide_epochs,
               f"ours > the {base.width}-unit net's on the same budget"),
          digits=2, why=f"{wide_epochs} epochs; the paper's overfitting needs long training."),
    Claim("C15", f"{width}-unit net, adversarially trained, early stopping on adversarial "
          f"validation error, retrained: mean of {seeds} seed(s)", PAPER["C15"]["mean_error"],
          wide_mean, when(wide_mean < wide_clean_result["clean error"],
                          f"ours < the {width}-unit clean-trained net's"),
          digits=2, why=f"{paper_seeds} {budget}"),
    Claim("C15", f"{width}-unit net, adversarially trained: best of {seeds} seed(s)",
          PAPER["C15"]["best_error"], wide_best,
          when(wide_best <= min(clean_err, adv_clean_err),
               f"ours ≤ both {base.width}-unit nets' clean error"),
          digits=2, why=f"{paper_seeds} {budget}"),
    Claim("C16", f"FGSM error, adversarially trained (trained clean: paper "
          f"{PAPER['C16']['before']:.1%}, ours {fgsm_clean:.1%})",
          PAPER["C16"]["after"], fgsm_adv,
          when(fgsm_adv <= fgsm_clean / 2, "ours ≤ half the clean-trained net's"),
          why=f"{attack} BIM: {results.loc[adv_name, 'BIM error']:.1%}; the resistance is to "
              "FGSM."),
    Claim("C16", f"FGSM error, {width}-unit net adversarially trained (mean of {seeds} "
          "seed(s))", PAPER["C16"]["after"], wide_fgsm,
          when(wide_fgsm <= fgsm_clean / 2, "ours ≤ half the clean-trained net's"),
          why=f"{attack} The paper's number may be this net's."),
    Claim("C17", "transfer: examples made on the clean-trained net → adversarially trained",
          PAPER["C17"]["error"], forward["error"],
          when(forward["error"] < backward["error"], "ours < the reverse direction (C18)"),
          why=attack),
    Claim("C18", "transfer: examples made on the adversarially trained net → clean-trained",
          PAPER["C18"]["error"], backward["error"],
          when(backward["error"] >= 5 * clean_err, "ours ≥ 5 × its clean error (they transfer)"),
          why=attack),
    Claim("C19", "confidence of the adversarially trained net on its FGSM mistakes",
          PAPER["C19"]["confidence"], adv_conf, at_least(0.5, "ours"),
          why=f"Trained clean: {results.loc['maxout', headline_conf]:.1%}."),
    Claim("C20", f"first-layer weights more localised: {top_col}, adversarial / clean",
          "more localised",
          f"{local.loc[adv_name, top_col]:.1%} / {local.loc['maxout', top_col]:.1%}",
          when(more_top and less_spread, "higher share and smaller spread"),
          why=f"Spread {local.loc[adv_name, 'spread (pixels)']:.1f} / "
              f"{local.loc['maxout', 'spread (pixels)']:.1f} pixels. Measures concentration, "
              "not interpretability."),
    Claim("C21", "FGSM error after training with ±eps sign noise", PAPER["C21"]["sign_error"],
          sign_err, when(fgsm_clean - sign_err <= (fgsm_clean - fgsm_adv) / 2, noise_rule),
          why=attack),
    Claim("C21", "FGSM error after training with U(−eps, eps) noise",
          PAPER["C21"]["uniform_error"], uniform_err,
          when(fgsm_clean - uniform_err <= (fgsm_clean - fgsm_adv) / 2, noise_rule),
          why=attack),
    Claim("C21", "confidence on mistakes after sign / uniform noise training",
          f"{PAPER['C21']['sign_confidence']:.1%} / {PAPER['C21']['uniform_confidence']:.1%}",
          f"{sign_conf:.1%} / {uniform_conf:.1%}",
          when(min(sign_conf, uniform_conf) >= adv_conf, "both ≥ the adversarially trained net's"),
          why=f"Adversarially trained: {adv_conf:.1%}."),
    Claim("C22", "clean error, perturbing hidden layer 1 instead of the input",
          "regularises less", hidden_clean,
          when(hidden_clean >= adv_clean_err and hidden_err > fgsm_adv,
               "clean and FGSM error ≥ input perturbation's"),
          why=f"Input: {adv_clean_err:.1%} clean. FGSM error {hidden_err:.1%} vs "
              f"{fgsm_adv:.1%}."),
])
