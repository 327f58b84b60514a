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
# class is the one counted.

# %% tags=["parameters"]
dataset: str = "mnist-embedded"  # mnist-embedded (5k digits, shipped), mnist or fashion-mnist
seed: int = 0  # seed of the models and of the noise inputs
samples: int = 10000  # noise inputs drawn from N(0, I) (the paper: 10,000)
threshold: float = 0.5  # a class with probability above this is a false positive (the paper: .5)

# %%
import altair as alt
import numpy as np

from advlib.book import charts, record
from advlib.data import describe_dataset
from advlib.measure import rubbish
from advlib.book.paper import PAPER
from advlib.book.results import Claim, at_most, claims_table, data_note, when, within
from advlib.zoo import recipe, trained

data_note(describe_dataset(dataset) + f"; the inputs are {samples:,} draws of N(0, I), "
          f"seed {seed}, the same for every model")
record("samples", samples)
record("threshold", threshold)
names = {
    "softmax regression": "softmax",
    "maxout": "maxout",
    "maxout (sigmoid outputs)": "maxout-sigmoid",
    "maxout (adversarial)": "maxout-adversarial",
    "rbf": "rbf",
}
models = {name: trained(recipe(entry, dataset=dataset, seed=seed))[0]
          for name, entry in names.items()}

# %% [markdown]
# ## How many noise inputs get a confident class?

# %%
summary, classes = rubbish(models, n=samples, seed=seed, threshold=threshold)
paper_rate = {"softmax regression": PAPER["C28"]["softmax"], "maxout": PAPER["C28"]["maxout"],
              "maxout (sigmoid outputs)": PAPER["C28"]["sigmoid_maxout"],
              "rbf": PAPER["C28"]["rbf"]}
paper_confidence = {"softmax regression": PAPER["C28"]["softmax_confidence"],
                    "maxout": PAPER["C28"]["maxout_confidence"],
                    "maxout (sigmoid outputs)": PAPER["C28"]["sigmoid_maxout_confidence"]}
summary["paper rate"] = summary["model"].map(paper_rate)
summary["paper confidence"] = summary["model"].map(paper_confidence)
key = {name: entry.replace("-", "_") for name, entry in names.items()}
for _, row in summary.iterrows():
    record(f"{key[row['model']]}_rate", row["rate"])
    record(f"{key[row['model']]}_confidence", row["confidence"])
for k, v in PAPER["C28"].items():
    if not isinstance(v, str):  # the numbers, not the section and statement
        record(f"paper_{k}", v)
(summary.set_index("model")[["rate", "paper rate", "confidence", "paper confidence",
                             "mean_confidence"]]
 .rename(columns={"rate": f"share with p > {threshold}", "confidence": "their confidence",
                  "mean_confidence": "mean confidence, all inputs"})
 .style.format("{:.1%}", na_rep="—")
 .set_caption(f"{samples:,} inputs from N(0, I); paper numbers on full MNIST"))

# %%
long = summary.melt(id_vars="model", value_vars=["rate", "paper rate"], var_name="source",
                    value_name="share").dropna()
long["source"] = long["source"].map({"rate": "ours", "paper rate": "paper"})
alt.Chart(long).mark_bar().encode(
    y=alt.Y("model:N", sort=list(names), title=None, axis=alt.Axis(labelLimit=260)),
    x=alt.X("share:Q", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]),
            title=f"noise inputs given a class with p > {threshold}"),
    yOffset=alt.YOffset("source:N", sort=["ours", "paper"]),
    color=alt.Color("model:N", scale=charts.model_scale(list(names)), legend=None),
    opacity=alt.Opacity("source:N", scale=alt.Scale(domain=["ours", "paper"],
                                                    range=[1.0, 0.35])),
    tooltip=["model:N", "source:N", alt.Tooltip("share:Q", format=".1%")],
).properties(width=380, height=240,
             title="Rubbish-class rate: ours (solid) and the paper's (faint)")

# %% [markdown]
# Softmax regression gives {glue:text}`softmax_rate:.1%` of the noise inputs a class with
# probability above {glue:text}`threshold:.2f` (paper: {glue:text}`paper_softmax:.1%`), at a
# mean confidence of {glue:text}`softmax_confidence:.1%` on those (paper:
# {glue:text}`paper_softmax_confidence:.1%`). The maxout network does so for
# {glue:text}`maxout_rate:.1%` (paper: {glue:text}`paper_maxout:.2%`) at
# {glue:text}`maxout_confidence:.1%` (paper: {glue:text}`paper_maxout_confidence:.1%`). With
# ten independent sigmoid outputs instead of a softmax — each unit free to say "none of
# these" — the maxout network still does it for {glue:text}`maxout_sigmoid_rate:.1%` (paper:
# {glue:text}`paper_sigmoid_maxout:.0%`) at {glue:text}`maxout_sigmoid_confidence:.1%`
# (paper: {glue:text}`paper_sigmoid_maxout_confidence:.1%`): dropping the softmax's forced
# choice helps, but the units are still close to linear in the noise, and a linear unit that
# may answer "no" still answers "yes" with confidence on one side of its hyperplane. The
# adversarially trained maxout network of {ref}`ch-adversarial-training`, which the paper did
# not test on noise, gives {glue:text}`maxout_adversarial_rate:.1%`. The RBF network gives
# {glue:text}`rbf_rate:.1%` (paper: {glue:text}`paper_rbf:.0%`): no noise input comes near
# any of its centres.

# %% [markdown]
# ## Which classes do the false positives get?
#
# The paper notes that the maxout network's false positives are far from uniform over the
# classes: {glue:text}`paper_maxout_share_of_5s:.1%` of them are 5s and none are 8s. Where a
# model sends noise is a property of its weights, not of the noise. For softmax regression the
# logit of class $k$ on $x \sim \mathcal N(0, I)$ is Gaussian with mean $b_k$ and standard
# deviation $\lVert w_k \rVert_2$ (on average {glue:text}`softmax_weight_norm:.1f` here), so
# classes with long weight vectors win more often: across the ten classes, the length of
# $w_k$ and the share of false positives of class $k$ correlate with
# $r$ = {glue:text}`softmax_norm_share_r:.2f`.

# %%
maxout_classes = classes[classes["model"] == "maxout"].set_index("class")
norms = models["softmax regression"].linear.weight.detach().norm(dim=1).numpy()
softmax_shares = classes[classes["model"] == "softmax regression"]["share"].to_numpy()
record("softmax_weight_norm", float(norms.mean()))
record("softmax_norm_share_r", float(np.corrcoef(norms, softmax_shares)[0, 1]))
top = int(maxout_classes["share"].idxmax())
record("maxout_top_class", top)
record("maxout_top_share", float(maxout_classes["share"].max()))
record("maxout_share_of_5s", float(maxout_classes.loc[5, "share"]))
record("maxout_share_of_8s", float(maxout_classes.loc[8, "share"]))
record("maxout_false_positives", int(maxout_classes["count"].sum()))
fooled = [m for m in names if summary.set_index("model").loc[m, "rate"] > 0]
record("models_fooled", len(fooled))
alt.Chart(classes[classes["model"].isin(fooled)].assign(
    **{"class": lambda d: d["class"].astype(str)})).mark_bar().encode(
    x=alt.X("class:N", title="class of the false positive", axis=alt.Axis(labelAngle=0)),
    y=alt.Y("share:Q", axis=alt.Axis(format=".0%"), title="share of false positives"),
    color=alt.Color("model:N", scale=charts.model_scale(list(names)), legend=None),
    tooltip=["model:N", "class:N", alt.Tooltip("share:Q", format=".1%"),
             alt.Tooltip("count:Q", title="noise inputs")],
).properties(width=170, height=130).facet(
    facet=alt.Facet("model:N", sort=list(names), title=None), columns=2,
).properties(title="Classes given to noise inputs, per model (models with any false positive)")

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
# {glue:text}`paper_c29_error:.1%` get a class with probability above .5, at
# {glue:text}`paper_c29_confidence:.1%` mean confidence, and
# {glue:text}`paper_c29_frogs:.1%` of the false positives are frogs. It also reports that one
# signed-gradient step from noise toward a chosen class (a targeted FGSM step) reaches that
# class {glue:text}`paper_c29_targeted:.1%` of the time on average. CIFAR-10 does not ship with
# the book and no convolutional network is trained here, so claim C29 is not run.

# %%
record("paper_c29_error", PAPER["C29"]["error"])
record("paper_c29_confidence", PAPER["C29"]["confidence"])
record("paper_c29_frogs", PAPER["C29"]["frog_share"])
record("paper_c29_targeted", PAPER["C29"]["targeted_success"])

# %% [markdown]
# ## Claims

# %%
s = summary.set_index("model")
why = (f"One network per model (seed {seed}, {dataset}), trained for the CI budget; the "
       "rates depend on each network's weights.")
claims_table("10_rubbish_class", [
    Claim("C28", "softmax regression: noise given a class with p > .5",
          PAPER["C28"]["softmax"], s.loc["softmax regression", "rate"], within(0.15), why=why),
    Claim("C28", "softmax regression: mean confidence on those",
          PAPER["C28"]["softmax_confidence"], s.loc["softmax regression", "confidence"],
          within(0.15), why=why),
    Claim("C28", "maxout: noise given a class with p > .5", PAPER["C28"]["maxout"],
          s.loc["maxout", "rate"], within(0.15), digits=2, why=why),
    Claim("C28", "maxout: mean confidence on those", PAPER["C28"]["maxout_confidence"],
          s.loc["maxout", "confidence"], within(0.15), why=why),
    Claim("C28", "maxout with sigmoid outputs: noise given a class with p > .5",
          PAPER["C28"]["sigmoid_maxout"], s.loc["maxout (sigmoid outputs)", "rate"],
          within(0.15), why=why),
    Claim("C28", "maxout with sigmoid outputs: mean confidence on those",
          PAPER["C28"]["sigmoid_maxout_confidence"],
          s.loc["maxout (sigmoid outputs)", "confidence"], within(0.15), why=why),
    Claim("C28", "RBF network: noise given a class with p > .5", PAPER["C28"]["rbf"],
          s.loc["rbf", "rate"], at_most(0.01), why=why),
    Claim("C28", "maxout confidently classifies much noise, RBF almost none: maxout's rate "
          "minus RBF's", PAPER["C28"]["maxout"] - PAPER["C28"]["rbf"],
          s.loc["maxout", "rate"] - s.loc["rbf", "rate"],
          when(s.loc["maxout", "rate"] >= 0.5 and s.loc["rbf", "rate"] <= 0.01,
               "maxout ≥ 50% and RBF ≤ 1%"), digits=2, why=why),
    Claim("C28", "maxout's false positives: share of 5s", PAPER["C28"]["maxout_share_of_5s"],
          float(maxout_classes.loc[5, "share"]), within(0.15), why=why),
    Claim("C28", "maxout's false positives: share of 8s", PAPER["C28"]["maxout_share_of_8s"],
          float(maxout_classes.loc[8, "share"]), at_most(0.02), why=why),
    Claim("C29", "CIFAR-10: N(0, I) noise given a class with p > .5",
          PAPER["C29"]["error"], None, None,
          why="Needs CIFAR-10 and a convolutional maxout network; neither ships with the book."),
    Claim("C29", "CIFAR-10: targeted signed-gradient step from noise succeeds",
          PAPER["C29"]["targeted_success"], None, None,
          why="Needs CIFAR-10 and a convolutional maxout network; neither ships with the book."),
])
