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
# (ch-rubbish-class)=
# # Appendix A: rubbish class examples
#
# Adversarial examples are close to real data and classified wrongly. *Rubbish class
# examples* (also called fooling images, {cite:t}`nguyen2015deep`) are the other side of the
# same coin: inputs that look like nothing at all — noise — to which a model nevertheless
# assigns a class with high confidence. The appendix of {cite:t}`goodfellow2015explaining`
# shows that no search is needed to find them: plain Gaussian noise will do.
#
# The linear view predicts this. A softmax unit's logit $w_k^\top x + b_k$ on a noise vector
# $x \sim \mathcal N(0, I_n)$ is itself Gaussian with standard deviation $\lVert w_k \rVert_2$.
# With $n = 784$ inputs and weights tuned to respond to digits, the logits of noise spread
# over a range far wider than the gaps a softmax needs to be confident, so the top class
# usually takes most of the probability. An RBF unit $p_k(x) = \exp(-\sum_i b_{ki}(x_i -
# \mu_{ki})^2)$ behaves the opposite way: a noise vector is far from every centre in all
# 784 coordinates at once, so every unit says "absent".
#
# Following the paper, we draw {glue:text}`samples:,d` inputs from $\mathcal N(0, I_{784})$
# (note: not images — most values fall outside $[0, 1]$, and every model accepts them as they
# are), and count an input as a false positive when some class gets probability above
# {glue:text}`threshold:.2f`. For models with a softmax that can be at most one class; for
# the models with independent output units (sigmoid outputs, RBF units) the most probable
# class is the one counted. The models are the book's, trained on the data named below (the
# maxout networks by {glue:text}`maxout_recipe`); the paper's were trained on full MNIST by
# the maxout paper's protocol, which the parameter `scale="paper"` runs.

# %% tags=["parameters"]
from typing import Literal

scale: Literal["quick", "paper"] = "quick"  # quick: the embedded digits; paper: full MNIST
dataset: Literal["default", "mnist-embedded", "mnist", "fashion-mnist"] = "default"  # the scale's
epoch_cap: int = 0  # when > 0, caps every model's training epochs
seed: int = 0  # seed of the models and of the noise inputs
samples: int = 10000  # noise inputs drawn from N(0, I) (the paper's count: C28's samples)
threshold: float = 0.5  # a class with probability above this is a false positive (C28's)

# %%
import numpy as np

from advlib.book import charts, record, record_paper
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_most, claims_table, data_note, when, within
from advlib.data import describe_dataset
from advlib.measure import rubbish
from advlib.zoo import recipe, scale_dataset, trained

data = scale_dataset(scale, dataset)
data_note(describe_dataset(data) + f"; the inputs are {samples:,} draws of N(0, I), "
          f"seed {seed}, the same for every model")
names = {"softmax regression": "softmax", "maxout": "maxout", "maxout (sigmoid outputs)":
         "maxout-sigmoid", "maxout (adversarial)": "maxout-adversarial", "rbf": "rbf"}
recipes = {name: recipe(entry, scale=scale, dataset=dataset, seed=seed, epoch_cap=epoch_cap)
           for name, entry in names.items()}
models = {name: trained(r)[0] for name, r in recipes.items()}
record({"samples": samples, "threshold": threshold, "maxout_recipe": recipes["maxout"].describe()})
record_paper("C28", "C29")

# %% [markdown]
# ## How many noise inputs get a confident class?
#
# For each model: the share of the noise inputs it gives a class with probability above the
# threshold and its mean confidence on those; the chart sets the shares beside the paper's
# (the claims table at the end has the paper's confidences too).

# %%
summary, classes = rubbish(models, n=samples, seed=seed, threshold=threshold)
s, P = summary.set_index("model"), PAPER["C28"]
record({f"{names[m].replace('-', '_')}_{field}": s.loc[m, field]
        for m in s.index for field in ("rate", "confidence")})
(s[["rate", "confidence", "mean_confidence"]].rename(columns={
    "rate": f"share with p > {threshold}", "confidence": "their confidence",
    "mean_confidence": "mean confidence, all inputs"}).style.format("{:.1%}", na_rep="—")
 .set_caption(f"{samples:,} inputs from N(0, I)"))

# %%
paper_key = {"softmax regression": "softmax", "maxout": "maxout",  # the paper's number of each
             "maxout (sigmoid outputs)": "sigmoid_maxout", "rbf": "rbf"}
charts.paper_bars({"ours": s["rate"].to_dict(), "paper": {m: P[k] for m, k in paper_key.items()}},
                  category="model", by_model=True, x_title=f"noise inputs given a class with p > "
                  f"{threshold}", title="Rubbish-class rate: ours (solid) and the paper's (faint)")

# %% [markdown]
# Softmax regression gives {glue:text}`softmax_rate:.1%` of the noise inputs a class with
# probability above {glue:text}`threshold:.2f` (paper: {glue:text}`paper_C28_softmax:.1%`), at a
# mean confidence of {glue:text}`softmax_confidence:.1%` on those (paper:
# {glue:text}`paper_C28_softmax_confidence:.1%`). The maxout network does so for
# {glue:text}`maxout_rate:.1%` (paper: {glue:text}`paper_C28_maxout:.2%`) at
# {glue:text}`maxout_confidence:.1%` (paper: {glue:text}`paper_C28_maxout_confidence:.1%`). With
# ten independent sigmoid outputs instead of a softmax — each unit free to say "none of
# these" — the maxout network still does it for {glue:text}`maxout_sigmoid_rate:.1%` (paper:
# {glue:text}`paper_C28_sigmoid_maxout:.0%`) at {glue:text}`maxout_sigmoid_confidence:.1%`
# (paper: {glue:text}`paper_C28_sigmoid_maxout_confidence:.1%`): dropping the softmax's forced
# choice helps, but the units are still close to linear in the noise, and a linear unit that
# may answer "no" still answers "yes" with confidence on one side of its hyperplane. The
# adversarially trained maxout network of {ref}`ch-adversarial-training`, which the paper did
# not test on noise, gives {glue:text}`maxout_adversarial_rate:.1%`. The RBF network gives
# {glue:text}`rbf_rate:.1%` (paper: {glue:text}`paper_C28_rbf:.0%`): no noise input comes near
# any of its centres.

# %% [markdown]
# ## Which classes do the false positives get?
#
# The paper notes that the maxout network's false positives are far from uniform over the
# classes: {glue:text}`paper_C28_maxout_share_of_5s:.1%` of them are 5s and none are 8s. Where a
# model sends noise is a property of its weights, not of the noise. For softmax regression the
# logit of class $k$ on $x \sim \mathcal N(0, I)$ is Gaussian with mean $b_k$ and standard
# deviation $\lVert w_k \rVert_2$ (on average {glue:text}`softmax_weight_norm:.1f` here), so
# classes with long weight vectors win more often: across the ten classes, the length of
# $w_k$ and the share of false positives of class $k$ correlate with
# $r$ = {glue:text}`softmax_norm_share_r:.2f`.

# %%
share = classes.pivot(index="model", columns="class", values="share")  # of each one's positives
norms = models["softmax regression"].linear.weight.detach().norm(dim=1).numpy()
fooled, top = [m for m in names if s.loc[m, "rate"] > 0], share.loc["maxout"]
record({"softmax_weight_norm": float(norms.mean()), "models_fooled": len(fooled),
        "softmax_norm_share_r": float(np.corrcoef(norms, share.loc["softmax regression"])[0, 1]),
        "maxout_top_class": int(top.idxmax()), "maxout_top_share": float(top.max()),
        "maxout_share_of_5s": float(top[5]), "maxout_share_of_8s": float(top[8]),
        "maxout_false_positives": int(classes[classes["model"] == "maxout"]["count"].sum())})
charts.class_shares(classes, fooled, title="Classes given to noise inputs, per model (models "
                    "with any false positive)")

# %% [markdown]
# Our maxout network sends the largest share of its {glue:text}`maxout_false_positives:,d`
# false positives to class {glue:text}`maxout_top_class:d` ({glue:text}`maxout_top_share:.1%`);
# {glue:text}`maxout_share_of_5s:.1%` are 5s and {glue:text}`maxout_share_of_8s:.1%` are 8s.
# Which class wins is a property of one trained network and differs between networks and data
# sets; that the distribution is lopsided is the paper's point, and it holds here too.

# %% [markdown]
# ## CIFAR-10
#
# The paper repeats the experiment on CIFAR-10 {cite}`krizhevsky2009learning` with a
# convolutional maxout network: of its draws from $\mathcal N(0, I_{3072})$,
# {glue:text}`paper_C29_error:.1%` get a class with probability above
# {glue:text}`paper_C29_threshold:.1f`, at
# {glue:text}`paper_C29_confidence:.1%` mean confidence, and
# {glue:text}`paper_C29_frog_share:.1%` of the false positives are frogs. It also reports that one
# signed-gradient step from noise toward a chosen class (a targeted FGSM step) reaches that
# class {glue:text}`paper_C29_targeted_success:.1%` of the time on average. CIFAR-10 does not
# ship with the book and no convolutional network is trained here, so claim C29 is not run.

# %% [markdown]
# ## Claims
#
# A rate is the paper's number when it lies within two standard errors of it over the inputs it
# counts: the {glue:text}`samples:,d` noise draws, or a model's false positives for their
# confidence and their classes. Rows at another threshold than the paper's are not compared.

# %%
why = f"One network per model (seed {seed}, {data}); the rates depend on each network's weights."
rate, conf, t = s["rate"], s["confidence"], f"{threshold:g}"
hits = {m: max(1, round(rate[m] * samples)) for m in names}  # each model's false positives
C28 = []  # quantity, the paper's number, ours, rule, digits, and the inputs a rate counts
for m, key in list(paper_key.items())[:3]:
    C28 += [(f"{m}: noise given a class with p > {t}", P[key], rate[m], within(0.15),
             2 if m == "maxout" else 1, samples),
            (f"{m}: mean confidence on those", P[f"{key}_confidence"], conf[m], within(0.15), 1,
             hits[m])]
C28 += [
    (f"RBF network: noise given a class with p > {t}", P["rbf"], rate["rbf"], at_most(0.01), 1,
     samples),
    ("maxout confidently classifies much noise, RBF almost none: maxout's rate minus RBF's",
     P["maxout"] - P["rbf"], rate["maxout"] - rate["rbf"], when(
         rate["maxout"] >= 0.5 and rate["rbf"] <= 0.01, "maxout ≥ 50% and RBF ≤ 1%"), 2, samples),
    *[(f"maxout's false positives: share of {k}s", P[f"maxout_share_of_{k}s"], float(top[k]),
       rule, 1, hits["maxout"])
      for k, rule in ((5, within(0.15)), (8, at_most(0.02)))],
]

# %%
cifar = "Needs CIFAR-10 and a convolutional maxout network; neither ships with the book."
claims_table("10_rubbish_class", [
    *[Claim("C28", quantity, paper, ours, rule, digits=digits, n=n,
            comparable=threshold == P["threshold"], why=why)
      for quantity, paper, ours, rule, digits, n in C28],
    Claim("C29", f"CIFAR-10: N(0, I) noise given a class with p > {PAPER['C29']['threshold']:g}",
          PAPER["C29"]["error"], None, None, n=PAPER["C29"]["samples"], why=cifar),
    Claim("C29", "CIFAR-10: targeted signed-gradient step from noise succeeds",
          PAPER["C29"]["targeted_success"], None, None, n=PAPER["C29"]["samples"], why=cifar),
], scale=scale, context=f"{describe_dataset(data)}. {samples:,} noise inputs. Models: "
                        f"{recipes['maxout'].describe()}.")
