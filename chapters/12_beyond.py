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
# 1. **How does the error grow with $\epsilon$?** One number at
#    $\epsilon$ = {glue:text}`paper_C5_eps:.2f` hides the shape of the curve, and the shape says
#    something: for a model that is really more robust, a larger perturbation can only do more
#    harm.
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
from typing import Literal

scale: Literal["quick", "paper"] = "quick"  # quick: the embedded digits; paper: full MNIST
dataset: Literal["default", "mnist-embedded", "mnist", "fashion-mnist"] = "default"  # main part's
epoch_cap: int = 0  # when > 0, caps every model's training epochs
seed: int = 0  # seed of every model's training and of PGD's random start
eps_grid: list = [0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3]  # FGSM sizes of the curves
eps_small: float = 0.1  # the smaller eps at which FGSM and PGD are compared
eps_large: float = 0.25  # the larger eps of the comparison (the paper's MNIST eps: C5's)
pgd_steps: int = 20  # PGD steps, each of size 2.5 eps / steps (Madry et al.), one random start
clip: bool = False  # headline attacks clipped to [0, 1]; False as in the paper and the training
fashion: bool = True  # run the full-size Fashion-MNIST part (when its files are installed)
fashion_epochs: int = 10  # epoch cap of each of the four models on full Fashion-MNIST

# %%
import time

from IPython.display import Markdown, display

from advlib import measure
from advlib.book import charts, record, record_paper
from advlib.book.results import Claim, at_most, claims_table, data_note, when
from advlib.data import describe_dataset, fashion_mnist_available, fashion_mnist_dirs, load_dataset
from advlib.zoo import recipe, scale_dataset, trained

# name in the book (and its colour) → the advlib.zoo recipe, and the short key of its records
MODELS = {"softmax regression": "softmax", "maxout": "maxout",
          "maxout (adversarial, dropout off)": "maxout-adversarial-dropout-off", "rbf": "rbf"}
KEYS = dict(zip(MODELS, ("softmax", "maxout", "adv", "rbf"), strict=False))
ADV = "maxout (adversarial, dropout off)"  # the adversarially trained network
SIZES = {"small": float(eps_small), "large": float(eps_large)}
headline, beside = measure.PIXEL_RULES[clip], measure.PIXEL_RULES[not clip]
data = scale_dataset(scale, dataset)
data_note(describe_dataset(data) + "; every number in the main part is measured on its "
          "test split.")
record({"eps_small": eps_small, "eps_large": eps_large, "pgd_steps": pgd_steps,
        "pgd_step_factor": 2.5, "headline": headline, "beside": beside})
record_paper("C5", "C13")

# %% [markdown]
# ## The models and the attacks
#
# The models come from the book's model cache, with the recipes the earlier chapters use
# (`advlib.zoo`: "softmax", "maxout", "maxout-adversarial-dropout-off" and "rbf"; the maxout
# networks trained by {glue:text}`recipe`, on the data named above). The
# adversarially trained network is the one {ref}`ch-adversarial-training` treats as *the*
# adversarially trained model: the paper's objective with
# $\alpha$ = {glue:text}`paper_C13_alpha:.1f` and $\epsilon$ = {glue:text}`paper_C13_eps:.2f`,
# its FGSM direction taken from the network with dropout off. It was trained on unclipped FGSM
# examples, as the paper's were.
#
# Both attacks are measured with `advlib.measure.attack_study`, each against the model it
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
setting = dict(scale=scale, seed=seed, epoch_cap=epoch_cap)
study = dict(keys=KEYS, clean="maxout", trained=ADV, clip=clip, steps=pgd_steps, seed=seed,
             loss_of="rbf")
recipes = {name: recipe(entry, dataset=dataset, **setting) for name, entry in MODELS.items()}
x_test, y_test = load_dataset(data, "test")
main = measure.attack_study({name: trained(r)[0] for name, r in recipes.items()}, x_test, y_test,
                            eps_grid, SIZES, **study)
ours = {**main["numbers"], "n_test": len(y_test),
        "model_epochs": {KEYS[name]: r.epochs for name, r in recipes.items()}}
maxout_steps = -(-len(load_dataset(data, "train")[1]) // recipes["maxout"].batch_size) * (
    recipes["maxout"].epochs)  # minibatch steps of the maxout networks' training
record({**ours, "steps": maxout_steps, "recipe": recipes["maxout"].describe(),
        "curve": main["curve"][["model", "eps", "error", "confidence"]].to_dict("records"),
        "attacks": main["attacks"][["model", "eps", "attack", "pixels", "error"]]
        .to_dict("records")})

# %% [markdown]
# ## Error and confidence as $\epsilon$ grows
#
# FGSM at every size of the grid, {glue:text}`headline:s`, on the {glue:text}`n_test:,d` test
# digits ($\epsilon$ = 0 is the clean test set). Hover over a point for its numbers.

# %% tags=["hide-input"]
charts.robustness_chart(main["curve"][["model", "eps", "error", "confidence"]],
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
# {glue:text}`adv_peak_error:.1%` at $\epsilon$ = {glue:text}`adv_peak_eps:.3f` and then *falls*, to
# {glue:text}`adv_fgsm_large:.1%` at $\epsilon$ = {glue:text}`eps_large:.2f`, the size it was
# trained with. The ball of the larger radius contains every smaller ball, so a model that were
# truly harder to fool at $\epsilon$ = {glue:text}`eps_large:.2f` could not be easier to fool at a
# smaller $\epsilon$: the attack, not the model, got weaker. Attack success that does not grow with
# the perturbation budget is one of the signs of masked gradients that
# {cite:t}`athalye2018obfuscated` list.

# %% [markdown]
# ## FGSM against PGD
#
# Each model's error under FGSM and under PGD at $\epsilon$ = {glue:text}`eps_small:.2f` and
# {glue:text}`eps_large:.2f`, {glue:text}`headline:s` (left) and {glue:text}`beside:s`
# (right).

# %%
measure.attack_table(main["attacks"], headline=headline).style.format("{:.1%}").format_index(
    "{:g}", level=1)

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
#   loss has sharp curvature near the data points, so that its gradient at $x$ no longer points
#   toward the worst perturbation in the ball. The model does not become robust; it makes the
#   one-step attack weak. {cite:t}`athalye2018obfuscated` list the signs of such masked gradients;
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
#   size, and early stopping when PGD error jumps avoid it. Our training logs only FGSM error per
#   epoch, so we see the end state — at the
#   training $\epsilon$ the network is {glue:text}`large_verdict:s` against PGD — but
#   not whether it ever had more and lost it.
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
cap = min(fashion_epochs, epoch_cap) if epoch_cap else fashion_epochs
fashion_recipes = {name: recipe(entry, dataset="fashion-mnist", scale=scale, seed=seed,
                                epoch_cap=cap) for name, entry in MODELS.items()}
fashion_status = (
    "switched off by the parameter fashion" if not fashion
    else "not needed, the main part above already ran on Fashion-MNIST" if data == "fashion-mnist"
    else "its files were not found; looked in " + ", ".join(map(str, fashion_mnist_dirs()))
    if not fashion_mnist_available() else "ran")
record({"fashion_epochs": fashion_epochs, "fashion_status": fashion_status, "fashion_steps": -(
    -FASHION_TRAIN // fashion_recipes["maxout"].batch_size) * fashion_recipes["maxout"].epochs})
theirs = None
if fashion_status == "ran":
    data_note(describe_dataset("fashion-mnist") + f"; each model trained {cap} epochs; every "
              "number in this part is measured on the test split.")
    started, (x_f, y_f) = time.perf_counter(), load_dataset("fashion-mnist", "test")
    fashion_run = measure.attack_study({n: trained(r)[0] for n, r in fashion_recipes.items()},
                                       x_f, y_f, eps_grid, SIZES, **study)
    theirs = {**fashion_run["numbers"], "n_test": len(y_f),
              "model_epochs": {KEYS[n]: r.epochs for n, r in fashion_recipes.items()}}
    record({"fashion_seconds": time.perf_counter() - started,
            **{f"fashion_{k}": v for k, v in theirs.items()},
            "fashion_curve": fashion_run["curve"][["model", "eps", "error", "confidence"]]
            .to_dict("records"), "fashion_attacks": fashion_run["attacks"][
                ["model", "eps", "attack", "pixels", "error"]].to_dict("records")})
else:
    data_note(f"the Fashion-MNIST part did not run: {fashion_status}. This is not an error; "
              "its rows in the table at the end say 'not run'.")

# %% tags=["hide-input"]
if theirs is not None:
    display(charts.robustness_chart(
        fashion_run["curve"][["model", "eps", "error", "confidence"]],
        title=f"Fashion-MNIST, FGSM ({headline}): error and mean confidence against eps"))
    display(measure.attack_table(fashion_run["attacks"], headline=headline)
            .style.format("{:.1%}").format_index("{:g}", level=1))

# %% [markdown]
# The findings on Fashion-MNIST, from the numbers just above:

# %% tags=["hide-input"]
t = {k: "—" if v is None else f"{v:.0%}" if "kept" in k else f"{v:.1%}" if isinstance(v, float)
     else v for k, v in (theirs or {}).items()}  # the numbers as the sentences below show them
display(Markdown(f"Not run here: {fashion_status}." if theirs is None else (
    f"Clean test error: softmax regression {t['softmax_clean']}, maxout {t['maxout_clean']}, "
    f"adversarially trained maxout {t['adv_clean']}, RBF {t['rbf_clean']} (with {cap} epochs "
    f"each). FGSM at ε = {eps_large:g} ({headline}) fools softmax regression on "
    f"{t['softmax_fgsm_large']} and maxout on {t['maxout_fgsm_large']}. Adversarial training "
    f"lowers maxout's FGSM error to {t['adv_fgsm_small']} at ε = {eps_small:g} and "
    f"{t['adv_fgsm_large']} at ε = {eps_large:g}; PGD raises it to {t['adv_pgd_small']} and "
    f"{t['adv_pgd_large']}, keeping {t['gain_kept_small']} and {t['gain_kept_large']} of "
    f"adversarial training's FGSM gain ({beside}: {t['gain_kept_small_beside']} and "
    f"{t['gain_kept_large_beside']}). FGSM examples made on the clean maxout network fool the "
    f"adversarially trained one on {t['transfer_large']} at ε = {eps_large:g}, against "
    f"{t['adv_fgsm_large']} for its own FGSM. The RBF network errs on {t['rbf_fgsm_large']} "
    f"under FGSM and {t['rbf_pgd_large']} under PGD at ε = {eps_large:g}. The verdicts are in "
    "the table below.")))

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

# %%
main_why = (f"{ours['n_test']:,} test images of {data}; the book's recipes "
            f"({ours['model_epochs']['maxout']} epochs for maxout).")
fashion_why = (f"{theirs['n_test']:,} Fashion-MNIST test images; {cap} epochs per model."
               if theirs is not None else f"The Fashion-MNIST part did not run: {fashion_status}.")
sets = {data: (ours, main_why), "Fashion-MNIST": (theirs, fashion_why)}
rows = {label: [] for label in sets}  # each data set's B rows, in order
for label, (t, why) in sets.items():
    for name, key in KEYS.items() if t is not None else ():
        for size, e in SIZES.items():
            fgsm_e, pgd_e = t[f"{key}_fgsm_{size}"], t[f"{key}_pgd_{size}"]
            note = "" if key != "rbf" or pgd_e >= fgsm_e else (
                f" For this model FGSM is the exact maximiser of J = −log p_y (mean J "
                f"{t[f'rbf_loss_fgsm_{size}']:.2f} vs {t[f'rbf_loss_pgd_{size}']:.2f} after PGD)"
                "; see the text.")
            rows[label].append(Claim(
                "B1", f"{label}, {name}, eps {e:g}: PGD error (FGSM: {fgsm_e:.1%})",
                EXPECT["B1"], pgd_e, when(pgd_e >= fgsm_e, "PGD error ≥ FGSM error"),
                why=f"{beside}: FGSM {t[f'{key}_fgsm_{size}_beside']:.1%}, PGD "
                    f"{t[f'{key}_pgd_{size}_beside']:.1%}. {why}{note}"))

# %%
for label, (t, why) in sets.items():
    if t is None:
        rows[label] = [Claim(b, f"{label}: {WHAT[b]}", EXPECT[b], None, None, why=why)
                       for b in EXPECT]
        continue
    for size, e in SIZES.items():
        kept = t[f"gain_kept_{size}"]
        rows[label].append(Claim(
            "B2", f"{label}, eps {e:g}: share of adversarial training's FGSM gain that PGD "
            f"leaves (gain {100 * t[f'gain_fgsm_{size}']:.1f} → "
            f"{100 * t[f'gain_pgd_{size}']:.1f} points)", EXPECT["B2"], kept,
            at_most(KEPT, "share kept"), digits=0,
            why=(f"{beside}: {t[f'gain_kept_{size}_beside']:.0%} kept. " if kept is not None
                 else "FGSM shows no gain to keep. ") + why))
    small, large, clean = t["adv_fgsm_small"], t["adv_fgsm_large"], t["adv_clean"]
    rows[label] += [
        Claim("B3", f"{label}, adversarially trained maxout: FGSM error at eps {eps_large:g} "
              f"(at {eps_small:g}: {small:.1%})", EXPECT["B3"], large,
              when(large < small, f"error at {eps_large:g} < error at {eps_small:g}"),
              why=f"Highest FGSM error below eps {eps_large:g}: {t['adv_peak_error']:.1%} at "
                  f"{t['adv_peak_eps']:g}. A sign of label leaking or gradient masking. {why}"),
        Claim("B4", f"{label}, adversarially trained maxout: error on FGSM examples made on the "
              f"clean maxout at eps {eps_large:g} (own FGSM: {large:.1%})", EXPECT["B4"],
              t["transfer_large"], when(t["transfer_large"] > large, "black-box > white-box"),
              why=f"At eps {eps_small:g}: {t['transfer_small']:.1%} against {small:.1%}. {why}"),
        Claim("B5", f"{label}, adversarially trained maxout: FGSM error at eps {eps_large:g} "
              f"(clean: {clean:.1%})", EXPECT["B5"], large,
              when(large < clean, "FGSM error < clean error"),
              why=f"Kurakin et al.'s strong form of label leaking, seen on ImageNet. {why}")]

# %%
claims_table("12_beyond", [row for label in sets for row in rows[label]], scale=scale,
             context=f"{describe_dataset(data)}. Models: {recipes['maxout'].describe()}.")
