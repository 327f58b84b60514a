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
# (ch-beyond)=
# # 12. Beyond the paper: robustness curves, iterative attacks, and a full-size data set
#
# {cite:t}`goodfellow2015explaining` measure every model at one perturbation size and with one
# attack, the fast gradient sign method (FGSM), on MNIST. Readers today ask three more
# questions, and this chapter puts them to the paper's models:
#
# 1. **How does the error grow with $\epsilon$?** One number at $\epsilon$ = .25 hides the
#    shape of the curve, and the shape says something: for a model that is really more robust,
#    a larger perturbation can only do more harm.
# 2. **Does adversarial training against FGSM hold up against a stronger attack?** FGSM takes
#    one step along the sign of the gradient. Projected gradient descent (PGD,
#    {cite:t}`madry2018towards`) takes many smaller steps from a random point in the
#    $\epsilon$-ball and projects back into it after each, so it finds perturbations that one
#    step misses. Later work found that networks trained on FGSM examples resist FGSM much
#    better than they resist iterative attacks {cite}`kurakin2017scale,tramer2018ensemble`.
# 3. **Does the picture survive a full-size data set?** The book's default data are 5,000
#    MNIST digits; Fashion-MNIST {cite}`xiao2017fashion` has 60,000 training and 10,000 test
#    images of clothing in MNIST's format, and Debian ships it.
#
# The four models are those of the paper's Sections 4, 6 and 7: softmax regression, the maxout
# network, the same maxout network adversarially trained, and the shallow RBF network. None of
# the numbers below is a claim of the paper, so the closing table compares them with what the
# later literature leads one to expect, under ids B1–B5.

# %% tags=["parameters"]
eps_grid: list = [0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3]  # FGSM sizes of the curves
eps_small: float = 0.1  # the smaller eps at which FGSM and PGD are compared
eps_large: float = 0.25  # the larger eps of the comparison (the paper's MNIST value)
pgd_steps: int = 20  # PGD steps, each of size 2.5 eps / steps (Madry et al.), one random start
clip: bool = False  # headline attacks clipped to [0, 1]; False as in the paper and the training
fashion: bool = True  # run the full-size Fashion-MNIST part (when its files are installed)
fashion_epochs: int = 10  # training epochs of each of the four models on full Fashion-MNIST
dataset: str = "mnist-embedded"  # main part's data: mnist-embedded, mnist (full), fashion-mnist
seed: int = 0  # seed of every model's training and of PGD's random start

# %%
import time

import pandas as pd
import torch
from IPython.display import Markdown, display

from advlib.book import charts, record
from advlib.attacks import model_loss
from advlib.data import describe_dataset, fashion_mnist_available, fashion_mnist_dirs, load_dataset
from advlib.measure import adversarial, robustness_curve, transfer
from advlib.book.results import Claim, at_most, claims_table, data_note, when
from advlib.zoo import recipe, trained

if not 0 < eps_small < eps_large:
    raise ValueError(f"need 0 < eps_small < eps_large, got {eps_small} and {eps_large}")
if pgd_steps < 1:
    raise ValueError(f"pgd_steps must be at least 1, got {pgd_steps}")

# name in the book (and its colour) → the advlib.zoo recipe
MODELS = {"softmax regression": "softmax", "maxout": "maxout",
          "maxout (adversarial, dropout off)": "maxout-adversarial-dropout-off", "rbf": "rbf"}
KEYS = dict(zip(MODELS, ("softmax", "maxout", "adv", "rbf")))  # short names of records
ADV = "maxout (adversarial, dropout off)"
SIZES = {"small": float(eps_small), "large": float(eps_large)}
PIXELS = {False: "unclipped", True: "clipped to [0, 1]"}
headline, beside = PIXELS[clip], PIXELS[not clip]

data_note(describe_dataset(dataset) + "; every number in the main part is measured on its "
          "test split.")
for name, value in {"eps_small": eps_small, "eps_large": eps_large, "pgd_steps": pgd_steps,
                    "pgd_step_factor": 2.5, "headline": headline, "beside": beside}.items():
    record(name, value)

# %% [markdown]
# ## The models and the attacks
#
# The models come from the book's model cache, with the recipes the earlier chapters use
# (`advlib.zoo`: "softmax", "maxout", "maxout-adversarial-dropout-off" and "rbf"). The
# adversarially trained network is the one {ref}`ch-adversarial-training` treats as *the*
# adversarially trained model: the paper's objective with $\alpha$ = .5 and $\epsilon$ = .25,
# its FGSM direction taken from the network with dropout off. It was trained on unclipped FGSM
# examples, as the paper's were.
#
# Both attacks are measured with `advlib.measure.robustness_curve`, each against the model it
# attacks (white-box). PGD runs {glue:text}`pgd_steps:d` signed-gradient steps of size
# {glue:text}`pgd_step_factor:.1f` × $\epsilon$ / {glue:text}`pgd_steps:d` from one uniform
# random start in the $\epsilon$-ball, projecting back into the ball after every step
# (`advlib.attacks.pgd`).
#
# **Clipped or not.** The paper's attacks, and the FGSM examples the network was trained on,
# are not clipped to the pixel range; PGD is usually run clipped to $[0, 1]$, so that every
# example is a valid image. The headline numbers here are {glue:text}`headline:s` (the
# parameter `clip`): that is the set of perturbations the adversarial training defended
# against, so it is the fair test of whether the defence holds. The {glue:text}`beside:s`
# numbers are shown beside them. The clipped ball is a subset of the unclipped one, so the
# worst case over it can be no worse for the model; an attack, which need not find the worst
# case, can still come out either way.

# %%
def study(data, **overrides):
    """The four models trained on ``data``, their FGSM curves, FGSM against PGD at the two
    sizes (headline and other clip), and the checks on the adversarially trained model."""
    x, y = load_dataset(data, "test")
    n_train = len(load_dataset(data, "train")[1])
    recipes = {name: recipe(entry, dataset=data, seed=seed, **overrides)
               for name, entry in MODELS.items()}
    models = {name: trained(r)[0] for name, r in recipes.items()}
    grid = sorted({float(e) for e in eps_grid} | {0.0, *SIZES.values()})
    curve = robustness_curve(models, x, y, grid, clip=(0.0, 1.0) if clip else None)
    parts = []
    for clipped in (clip, not clip):
        for attack in ("fgsm", "pgd"):
            if clipped == clip and attack == "fgsm":  # the curve has these
                part = curve[curve["eps"].isin(SIZES.values())]
            else:
                part = robustness_curve(models, x, y, list(SIZES.values()), attack=attack,
                                        clip=(0.0, 1.0) if clipped else None,
                                        steps=pgd_steps, seed=seed)
            parts.append(part.assign(attack=attack, pixels=PIXELS[clipped]))
    attacks = pd.concat(parts, ignore_index=True)
    headline_clip = (0.0, 1.0) if clip else None
    checks = {}
    for size, e in SIZES.items():
        # Black-box: FGSM examples made on the clean maxout network, shown to the trained one.
        checks[f"transfer_{size}"] = transfer(models["maxout"], models[ADV], x, y, e,
                                              clip=headline_clip)["error"]
        # J = -log p_y of the RBF network after each attack (which attack climbed J higher).
        for attack in ("fgsm", "pgd"):
            x_adv = adversarial(models["rbf"], x, y, e, attack=attack, clip=headline_clip,
                                steps=pgd_steps, seed=seed)
            with torch.no_grad():
                checks[f"rbf_loss_{attack}_{size}"] = float(
                    model_loss(models["rbf"], models["rbf"](x_adv), torch.as_tensor(y)))
    return {"data": data, "n_test": len(y), "n_train": n_train, "recipes": recipes, "curve": curve,
            "attacks": attacks, "checks": checks}


def error(result, name, attack, size, pixels=headline):
    """Error of model ``name`` under ``attack`` at eps ``SIZES[size]``, from ``study``."""
    a = result["attacks"]
    row = a[(a["model"] == name) & (a["attack"] == attack) & (a["eps"] == SIZES[size])
            & (a["pixels"] == pixels)]
    return float(row["error"].iloc[0])


def summarise(result, prefix=""):
    """Record a study's numbers under ``prefix`` and return them as a dict."""
    curve, out = result["curve"], {}
    for name, key in KEYS.items():
        mine = curve[curve["model"] == name].set_index("eps")
        out[f"{key}_clean"] = float(mine.loc[0.0, "error"])
        out[f"{key}_top_confidence"] = float(mine["confidence"].iloc[-1])
        for size in SIZES:
            for attack in ("fgsm", "pgd"):
                out[f"{key}_{attack}_{size}"] = error(result, name, attack, size)
                out[f"{key}_{attack}_{size}_beside"] = error(result, name, attack, size, beside)
    for size in SIZES:
        for attack in ("fgsm", "pgd"):
            out[f"gain_{attack}_{size}"] = (out[f"maxout_{attack}_{size}"]
                                            - out[f"adv_{attack}_{size}"])
            out[f"gain_{attack}_{size}_beside"] = (out[f"maxout_{attack}_{size}_beside"]
                                                   - out[f"adv_{attack}_{size}_beside"])
        for tail in ("", "_beside"):  # no share of a gain FGSM does not show
            fgsm_gain = out[f"gain_fgsm_{size}{tail}"]
            out[f"gain_kept_{size}{tail}"] = (out[f"gain_pgd_{size}{tail}"] / fgsm_gain
                                              if fgsm_gain > 0 else None)
    below = curve[(curve["model"] == ADV) & (curve["eps"] > 0) & (curve["eps"] < eps_large)]
    peak = below.loc[below["error"].idxmax()] if len(below) else None
    out["adv_peak_error"] = float(peak["error"]) if peak is not None else None
    out["adv_peak_eps"] = float(peak["eps"]) if peak is not None else None
    kept = out["gain_kept_large"]
    out["large_verdict"] = ("no more robust than the network trained without adversarial "
                            "examples" if out["gain_pgd_large"] <= 0 or kept is None
                            else "only a little more robust than the network trained clean"
                            if kept < 0.5 else "still clearly more robust than the clean one")
    out.update(result["checks"])
    out["n_test"] = result["n_test"]
    out["model_epochs"] = {KEYS[name]: r.epochs for name, r in result["recipes"].items()}
    for name, value in out.items():
        record(prefix + name, value)
    record(prefix + "curve", curve[["model", "eps", "error", "confidence"]].to_dict("records"))
    record(prefix + "attacks", result["attacks"][["model", "eps", "attack", "pixels", "error"]]
           .to_dict("records"))
    return out


def steps(r, n_train):
    """Minibatch steps of training recipe ``r`` on ``n_train`` examples."""
    return -(-n_train // r.batch_size) * r.epochs


def rate(value):
    return f"{value:.1%}"


def share(value):
    return "—" if value is None else f"{value:.0%}"


def attack_table(result):
    """FGSM beside PGD per model and eps, headline pixels first; error rates."""
    a = result["attacks"].copy()
    a["attack"] = a["attack"].str.upper()
    table = a.pivot_table(index=["model", "eps"], columns=["pixels", "attack"], values="error",
                          sort=False)
    table = table[[(p, k) for p in (headline, beside) for k in ("FGSM", "PGD")]]
    return table.style.format("{:.1%}").format_index("{:g}", level=1)


main = study(dataset)
ours = summarise(main)
record("steps", steps(main["recipes"]["maxout"], main["n_train"]))

# %% [markdown]
# ## Error and confidence as $\epsilon$ grows
#
# FGSM at every size of the grid, {glue:text}`headline:s`, on the {glue:text}`n_test:,d` test
# digits ($\epsilon$ = 0 is the clean test set). Hover over a point for its numbers.

# %% tags=["hide-input"]
charts.robustness_chart(
    main["curve"][["model", "eps", "error", "confidence"]],
    title=f"FGSM ({headline}): error and mean confidence against eps")

# %% [markdown]
# Three of the curves rise as one expects. Softmax regression errs on
# {glue:text}`softmax_fgsm_small:.1%` of the digits already at $\epsilon$ =
# {glue:text}`eps_small:.2f`; the maxout network climbs more slowly, to
# {glue:text}`maxout_fgsm_large:.1%` at $\epsilon$ = {glue:text}`eps_large:.2f`. At the
# largest $\epsilon$ both are sure of their wrong answers (mean confidence
# {glue:text}`softmax_top_confidence:.1%` and {glue:text}`maxout_top_confidence:.1%`), the
# linear behaviour of {ref}`ch-fgsm`. The RBF network errs on only
# {glue:text}`rbf_fgsm_large:.1%` at $\epsilon$ = {glue:text}`eps_large:.2f`, and its
# confidence falls toward zero as $\epsilon$ grows ({glue:text}`rbf_top_confidence:.2%` at
# the largest): the low-capacity, unconfident behaviour of {ref}`ch-model-capacity`.
#
# The adversarially trained network's curve is the odd one. Its FGSM error peaks at
# {glue:text}`adv_peak_error:.1%` at $\epsilon$ = {glue:text}`adv_peak_eps:.3f` and then
# *falls*, to {glue:text}`adv_fgsm_large:.1%` at $\epsilon$ = {glue:text}`eps_large:.2f`, the
# size it was trained with. The ball of the larger radius contains every smaller ball, so a
# model that were truly harder to fool at $\epsilon$ = {glue:text}`eps_large:.2f` could not be easier to
# fool at a smaller $\epsilon$: the attack, not the model, got weaker. Attack success that does
# not grow with the perturbation budget is one of the signs of masked gradients that
# {cite:t}`athalye2018obfuscated` list.

# %% [markdown]
# ## FGSM against PGD
#
# Each model's error under FGSM and under PGD at $\epsilon$ = {glue:text}`eps_small:.2f` and
# {glue:text}`eps_large:.2f`, {glue:text}`headline:s` (left) and {glue:text}`beside:s`
# (right).

# %%
attack_table(main)

# %% [markdown]
# For softmax regression and both maxout networks PGD fools the model at least as often as
# FGSM, as an attack that takes many steps should. Softmax regression has little left to
# lose; for the maxout network trained on clean digits PGD raises the error from
# {glue:text}`maxout_fgsm_small:.1%` to {glue:text}`maxout_pgd_small:.1%` at
# $\epsilon$ = {glue:text}`eps_small:.2f`; for the adversarially trained one the gap is
# much wider: {glue:text}`adv_fgsm_small:.1%` → {glue:text}`adv_pgd_small:.1%`
# at $\epsilon$ = {glue:text}`eps_small:.2f`, and {glue:text}`adv_fgsm_large:.1%` →
# {glue:text}`adv_pgd_large:.1%` at $\epsilon$ = {glue:text}`eps_large:.2f`.
#
# **How much of adversarial training's gain survives.** Measured by FGSM, adversarial training
# lowers the maxout network's error from {glue:text}`maxout_fgsm_small:.1%` to
# {glue:text}`adv_fgsm_small:.1%` at $\epsilon$ = {glue:text}`eps_small:.2f` and from
# {glue:text}`maxout_fgsm_large:.1%` to {glue:text}`adv_fgsm_large:.1%` at
# $\epsilon$ = {glue:text}`eps_large:.2f`. Measured by PGD, from
# {glue:text}`maxout_pgd_small:.1%` to {glue:text}`adv_pgd_small:.1%` and from
# {glue:text}`maxout_pgd_large:.1%` to {glue:text}`adv_pgd_large:.1%`. Of the gain FGSM
# shows, PGD leaves {glue:text}`gain_kept_small:.0%` at the smaller $\epsilon$ and
# {glue:text}`gain_kept_large:.0%` at the larger ({glue:text}`headline:s`): at the paper's
# $\epsilon$ the FGSM-trained network is, to PGD, {glue:text}`large_verdict:s`.
#
# The pixel rule matters here. With the other one ({glue:text}`beside:s`) PGD leaves
# {glue:text}`gain_kept_small_beside:.0%` of the gain at $\epsilon$ =
# {glue:text}`eps_small:.2f` and {glue:text}`gain_kept_large_beside:.0%` at
# {glue:text}`eps_large:.2f`. Most MNIST pixels are black background: the clipped ball lets
# them move only upward, the unclipped one also below black, so the two balls differ most
# exactly where the digits have no ink. A single PGD run is an attack, not a bound: where it
# leaves some of the gain, a stronger attack may still take it.
#
# **The RBF network is the exception**: PGD fools it *less* often than FGSM
# ({glue:text}`rbf_fgsm_large:.1%` against {glue:text}`rbf_pgd_large:.1%` at
# $\epsilon$ = {glue:text}`eps_large:.2f`). Its attack objective, $J = -\log p_y =
# \sum_i \beta_{yi} (x_i - \mu_{yi})^2$, is a convex sum of one term per pixel. Over an
# unclipped box each term is largest at the end farther from $\mu_{yi}$, which is exactly
# where FGSM's step, $\epsilon\,\mathrm{sign}(x_i - \mu_{yi})$, puts it: for this model FGSM
# is the exact maximiser of $J$, and no attack can raise $J$ further. PGD's random start puts
# some pixels on the other side of $\mu_{yi}$, and its steps then climb to the nearer end
# instead, a lower local maximum: the mean $J$ after FGSM is
# {glue:text}`rbf_loss_fgsm_large:.2f` against {glue:text}`rbf_loss_pgd_large:.2f` after PGD.
# "PGD is at least as strong as FGSM" is an expectation for non-convex networks, not a
# theorem. Clipping breaks the symmetry of the box, FGSM is no longer optimal, and clipped PGD
# does beat clipped FGSM on the RBF network (in the table).

# %% [markdown]
# ## What FGSM training learned
#
# Work after the paper describes three effects that bear on a defence that holds against FGSM
# and crumbles under PGD; our numbers speak to each differently.
#
# - **Gradient masking.** {cite:t}`kurakin2017scale` found FGSM-trained networks far weaker
#   against iterative attacks than against FGSM, and {cite:t}`tramer2018ensemble` explained
#   why: training on one-step examples drives the model to a degenerate optimum in which the
#   loss has sharp curvature near the data points, so that its gradient at $x$ no longer points toward the
#   worst perturbation in the ball. The model does not become robust; it makes the one-step
#   attack weak. {cite:t}`athalye2018obfuscated` list the signs of such masked gradients;
#   two of them are here. Attack success that does not grow with $\epsilon$ is the curve
#   above. A black-box attack beating the white-box one is the other: FGSM examples made on
#   the clean maxout network and shown to the adversarially trained one fool it on
#   {glue:text}`transfer_large:.1%` of the digits at $\epsilon$ = {glue:text}`eps_large:.2f`,
#   against {glue:text}`adv_fgsm_large:.1%` for FGSM computed on the model itself; at
#   $\epsilon$ = {glue:text}`eps_small:.2f` the figures are {glue:text}`transfer_small:.1%`
#   and {glue:text}`adv_fgsm_small:.1%`.
# - **Label leaking.** {cite:t}`kurakin2017scale` found that a network trained on FGSM
#   examples made from the *true* label can learn to read the label off the perturbation, and
#   then classifies FGSM examples *better* than clean ones. Here the adversarially trained
#   network errs on {glue:text}`adv_clean:.1%` of the clean digits and on
#   {glue:text}`adv_fgsm_large:.1%` of their FGSM examples at $\epsilon$ =
#   {glue:text}`eps_large:.2f`: the strong form is absent. Whether leaking contributes to the
#   dip of the curve cannot be told from the trained model alone: the test is to train again
#   with the predicted label in place of the true one, a training option `advlib` does not
#   have.
# - **Catastrophic overfitting.** {cite:t}`wong2020fast` watched FGSM training with PGD
#   evaluated during training and saw PGD robustness collapse within a single epoch while
#   FGSM robustness kept rising; a random start before the FGSM step, with a suitable step
#   size, and early stopping when PGD error jumps avoid it. Our training logs only FGSM error per epoch, so we see the end state —
#   no robustness to PGD at the training $\epsilon$ — but not whether the network ever had
#   some and lost it.
#
# The remedy that stood is {cite:t}`madry2018towards`'s: train on PGD examples, the strongest
# first-order attack one can afford, and evaluate with attacks at least that strong. The paper
# measured FGSM only, at the training size, so it could not have seen any of this. Where our
# FGSM numbers match the paper's ({ref}`ch-adversarial-training`), they measure what the paper
# measured: resistance to FGSM at that size, not robustness in the ball.

# %% [markdown]
# ## The same study on full-size Fashion-MNIST
#
# The study again, on Fashion-MNIST {cite}`xiao2017fashion`: the same four recipes trained on
# its 60,000 training images and tested on its 10,000 test images. The catalogue's epochs on
# fifteen times the digits would take far beyond the book's CPU budget, so each model gets
# {glue:text}`fashion_epochs:d` epochs here (the parameter `fashion_epochs`): for the maxout
# networks {glue:text}`fashion_steps:,d` minibatch steps, against
# {glue:text}`steps:,d` on the main data, and all four train in a few minutes on two cores.
# The parameter `fashion` turns the part off; it runs only when the data are installed
# (`apt-get install dataset-fashion-mnist`, or `$ADVLIB_FASHION_MNIST`).

# %%
FASHION_TRAIN = 60_000  # images in Fashion-MNIST's training split
record("fashion_epochs", fashion_epochs)
record("fashion_steps", steps(recipe("maxout", dataset="fashion-mnist", epochs=fashion_epochs),
                              FASHION_TRAIN))
looked = ", ".join(str(d) for d in fashion_mnist_dirs())
if not fashion:
    fashion_status = "switched off by the parameter fashion"
elif dataset == "fashion-mnist":
    fashion_status = "not needed, the main part above already ran on Fashion-MNIST"
elif not fashion_mnist_available():
    fashion_status = f"its files were not found; looked in {looked}"
else:
    fashion_status = "ran"
record("fashion_status", fashion_status)
if fashion_status == "ran":
    data_note(describe_dataset("fashion-mnist") + f"; each model trained {fashion_epochs} "
              "epochs; every number in this part is measured on the test split.")
    started = time.perf_counter()
    fashion_run = study("fashion-mnist", epochs=fashion_epochs)
    record("fashion_seconds", time.perf_counter() - started)
    theirs = summarise(fashion_run, prefix="fashion_")
else:
    data_note(f"the Fashion-MNIST part did not run: {fashion_status}. This is not an error; "
              "its rows in the table at the end say 'not run'.")
    fashion_run = theirs = None

# %% tags=["hide-input"]
if theirs is not None:
    display(charts.robustness_chart(
        fashion_run["curve"][["model", "eps", "error", "confidence"]],
        title=f"Fashion-MNIST, FGSM ({headline}): error and mean confidence against eps"))
    display(attack_table(fashion_run))

# %% [markdown]
# The findings on Fashion-MNIST, from the numbers just above:

# %% tags=["hide-input"]
if theirs is None:
    findings = f"Not run here: {fashion_status}."
else:
    t = theirs
    findings = (
        f"Clean test error: softmax regression {rate(t['softmax_clean'])}, maxout "
        f"{rate(t['maxout_clean'])}, adversarially trained maxout {rate(t['adv_clean'])}, RBF "
        f"{rate(t['rbf_clean'])} (with {fashion_epochs} epochs each). FGSM at ε = "
        f"{eps_large:g} ({headline}) fools softmax regression on {rate(t['softmax_fgsm_large'])}"
        f" and maxout on {rate(t['maxout_fgsm_large'])}. Adversarial training lowers maxout's "
        f"FGSM error to {rate(t['adv_fgsm_small'])} at ε = {eps_small:g} and "
        f"{rate(t['adv_fgsm_large'])} at ε = {eps_large:g}; PGD raises it to "
        f"{rate(t['adv_pgd_small'])} and {rate(t['adv_pgd_large'])}, keeping "
        f"{share(t['gain_kept_small'])} and {share(t['gain_kept_large'])} of adversarial "
        f"training's FGSM gain ({beside}: {share(t['gain_kept_small_beside'])} and "
        f"{share(t['gain_kept_large_beside'])}). FGSM examples made on the clean maxout network "
        f"fool the adversarially trained one on {rate(t['transfer_large'])} at ε = "
        f"{eps_large:g}, against {rate(t['adv_fgsm_large'])} for its own FGSM. The RBF network "
        f"errs on {rate(t['rbf_fgsm_large'])} under FGSM and {rate(t['rbf_pgd_large'])} under "
        f"PGD at ε = {eps_large:g}. The verdicts are in the table below."
    )
display(Markdown(findings))

# %% [markdown]
# Fashion-MNIST is a harder problem than MNIST {cite}`xiao2017fashion`, so clean errors are
# higher and every rate starts from a different place; the closing table puts the two data
# sets side by side, expectation by expectation.
#
# ## Claims
#
# These are not the paper's claims. Each row states what the literature after the paper leads
# one to expect and checks it on our numbers, for the main data and for full Fashion-MNIST
# (ids B1–B5; the summary page lists them under "beyond"). Errors are {glue:text}`headline:s`
# unless the row says otherwise; a test set of {glue:text}`n_test:,d` images resolves rates to
# about a point or two.

# %%
WHAT = {
    "B1": "PGD error against FGSM error, four models, two eps",
    "B2": "share of adversarial training's FGSM gain that PGD leaves",
    "B3": "adversarially trained maxout: FGSM error at the larger eps",
    "B4": "adversarially trained maxout: black-box transfer against white-box FGSM",
    "B5": "adversarially trained maxout: FGSM error below clean error",
}
EXPECT = {
    "B1": "PGD ≥ FGSM (Madry et al. 2018)",
    "B2": "small (Kurakin et al. 2017; Tramèr et al. 2018)",
    "B3": "below the error at the smaller eps (Kurakin et al. 2017; Athalye et al. 2018)",
    "B4": "above white-box FGSM (Tramèr et al. 2018)",
    "B5": "below the clean error (Kurakin et al. 2017)",
}
KEPT = 0.5  # "small": PGD leaves at most half of the FGSM gain


def beyond_claims(label, t, why):
    """The B rows of one data set (``t``: ``summarise``'s dict, None when not run)."""
    if t is None:
        return [Claim(b, f"{label}: {WHAT[b]}", EXPECT[b], None, None, why=why)
                for b in EXPECT]
    rows = []
    for name, key in KEYS.items():
        for size, e in SIZES.items():
            fgsm_e, pgd_e = t[f"{key}_fgsm_{size}"], t[f"{key}_pgd_{size}"]
            note = ""
            if key == "rbf" and pgd_e < fgsm_e:
                note = (f" For this model FGSM is the exact maximiser of J = −log p_y (mean J "
                        f"{t[f'rbf_loss_fgsm_{size}']:.2f} vs {t[f'rbf_loss_pgd_{size}']:.2f} "
                        "after PGD); see the text.")
            rows.append(Claim(
                "B1", f"{label}, {name}, eps {e:g}: PGD error (FGSM: {fgsm_e:.1%})",
                EXPECT["B1"], pgd_e, when(pgd_e >= fgsm_e, "PGD error ≥ FGSM error"),
                why=f"{beside}: FGSM {t[f'{key}_fgsm_{size}_beside']:.1%}, PGD "
                    f"{t[f'{key}_pgd_{size}_beside']:.1%}. {why}{note}"))
    for size, e in SIZES.items():
        kept = t[f"gain_kept_{size}"]
        rows.append(Claim(
            "B2", f"{label}, eps {e:g}: share of adversarial training's FGSM gain that PGD "
            f"leaves (gain {100 * t[f'gain_fgsm_{size}']:.1f} → "
            f"{100 * t[f'gain_pgd_{size}']:.1f} points)",
            EXPECT["B2"], kept, at_most(KEPT, "share kept"), digits=0,
            why=(f"{beside}: {share(t[f'gain_kept_{size}_beside'])} kept. " if kept is not None
                 else "FGSM shows no gain to keep. ") + why))
    rows += [
        Claim("B3", f"{label}, adversarially trained maxout: FGSM error at eps {eps_large:g} "
              f"(at {eps_small:g}: {t['adv_fgsm_small']:.1%})", EXPECT["B3"],
              t["adv_fgsm_large"], when(t["adv_fgsm_large"] < t["adv_fgsm_small"],
                                        f"error at {eps_large:g} < error at {eps_small:g}"),
              why=f"Highest FGSM error below eps {eps_large:g}: {t['adv_peak_error']:.1%} at "
                  f"{t['adv_peak_eps']:g}. A sign of label leaking or gradient masking. {why}"),
        Claim("B4", f"{label}, adversarially trained maxout: error on FGSM examples made on the "
              f"clean maxout at eps {eps_large:g} (own FGSM: {t['adv_fgsm_large']:.1%})",
              EXPECT["B4"], t["transfer_large"],
              when(t["transfer_large"] > t["adv_fgsm_large"], "black-box > white-box"),
              why=f"At eps {eps_small:g}: {t['transfer_small']:.1%} against "
                  f"{t['adv_fgsm_small']:.1%}. {why}"),
        Claim("B5", f"{label}, adversarially trained maxout: FGSM error at eps {eps_large:g} "
              f"(clean: {t['adv_clean']:.1%})", EXPECT["B5"], t["adv_fgsm_large"],
              when(t["adv_fgsm_large"] < t["adv_clean"], "FGSM error < clean error"),
              why=f"Kurakin et al.'s strong form of label leaking, seen on ImageNet. {why}"),
    ]
    return rows


main_why = (f"{ours['n_test']:,} test images of {dataset}; the book's recipes "
            f"({ours['model_epochs']['maxout']} epochs for maxout).")
if theirs is not None:
    fashion_why = (f"{theirs['n_test']:,} Fashion-MNIST test images; {fashion_epochs} epochs "
                   "per model.")
else:
    fashion_why = f"The Fashion-MNIST part did not run: {fashion_status}."
claims_table("12_beyond", beyond_claims(dataset, ours, main_why)
             + beyond_claims("Fashion-MNIST", theirs, fashion_why))
