"""The paper's claims and numbers (Goodfellow, Shlens & Szegedy, ICLR 2015, arXiv:1412.6572 v3).

One entry per claim id, with the section, a short statement and the numbers as printed in the
paper (rates as fractions). Chapters print these beside what they computed; nothing else in the
book types a paper number in. ``src`` is ``"P"`` for the paper's own sentence and ``"M"`` for the
maxout paper's published configuration (Goodfellow et al. 2013), which this paper starts from.
"""

from __future__ import annotations

from types import MappingProxyType

_CLAIMS = {
    "C1": dict(
        section="3",
        claim="eps·sign(w) changes wᵀx by eps·‖w‖₁, growing linearly with the dimension n while ‖η‖∞ = eps",
    ),
    "C2": dict(
        section="3",
        claim="8-bit images discard changes below 1/255 of the range",
        precision=1 / 255,
    ),
    "C3": dict(
        section="4", claim="FGSM: η = eps·sign(∇ₓJ(θ, x, y)); the paper never clips x + η to [0, 1]"
    ),
    "C4": dict(
        section="4",
        claim="Shallow softmax classifier, MNIST, eps = .25",
        eps=0.25,
        error=0.999,
        confidence=0.793,
    ),
    "C5": dict(
        section="4",
        claim="Maxout network, MNIST, eps = .25",
        eps=0.25,
        error=0.894,
        confidence=0.976,
    ),
    "C6": dict(
        section="4",
        claim="Convolutional maxout, preprocessed CIFAR-10, eps = .1",
        eps=0.1,
        error=0.8715,
        confidence=0.966,
    ),
    "C7": dict(
        section="4",
        claim="GoogLeNet on ImageNet, eps = .007: 'panda' 57.7% → 'gibbon' 99.3%",
        eps=0.007,
        clean_confidence=0.577,
        adversarial_confidence=0.993,
    ),
    "C8": dict(
        section="4",
        claim="Rotating x by a small angle in the gradient direction also gives adversarial examples",
    ),
    "C9": dict(
        section="5",
        claim="Adversarial logistic regression minimises E ζ(eps‖w‖₁ − y(wᵀx + b)), ζ = softplus",
    ),
    "C10": dict(
        section="5",
        claim="Logistic regression, MNIST 3s vs 7s, eps = .25",
        eps=0.25,
        clean_error=0.016,
        error=0.99,
    ),
    "C11": dict(
        section="5",
        claim="The eps‖w‖₁ penalty fades once margins are large; L1 weight decay does not, and is more pessimistic still for softmax",
    ),
    "C12": dict(
        section="5",
        claim="Maxout with first-layer L1 at .0025 leaves over 5% training error; smaller coefficients do not regularise",
        l1=0.0025,
        train_error=0.05,
    ),
    "C13": dict(
        section="6",
        claim="Objective α·J(x) + (1 − α)·J(x + eps·sign(∇ₓJ)), α = .5, examples regenerated every step",
        alpha=0.5,
        eps=0.25,
    ),
    "C14": dict(
        section="6",
        claim="Maxout with dropout: clean test error without → with adversarial training",
        clean_error=0.0094,
        adversarial_training_error=0.0084,
    ),
    "C15": dict(
        section="6",
        claim="1600 units: clean training overfits (1.14%); adversarial training over five seeds: mean 0.782%, best 0.77%",
        width=1600,
        clean_error=0.0114,
        mean_error=0.00782,
        best_error=0.0077,
        seeds=5,
    ),
    "C16": dict(
        section="6",
        claim="FGSM error at eps = .25 before → after adversarial training",
        before=0.894,
        after=0.179,
    ),
    "C17": dict(
        section="6",
        claim="Transfer: examples from the original model → adversarially trained model",
        error=0.196,
    ),
    "C18": dict(
        section="6",
        claim="Transfer: examples from the adversarially trained model → original model",
        error=0.409,
    ),
    "C19": dict(
        section="6",
        claim="Adversarially trained model's average confidence on the adversarial examples it misclassifies",
        confidence=0.814,
    ),
    "C20": dict(
        section="6",
        claim="Adversarially trained weights are more localised and interpretable (Fig. 3)",
    ),
    "C21": dict(
        section="6",
        claim="Noise of the same max-norm does not help: ±eps sign noise → 86.2% (97.3%); U(−eps, eps) → 90.4% (97.8%)",
        sign_error=0.862,
        sign_confidence=0.973,
        uniform_error=0.904,
        uniform_confidence=0.978,
    ),
    "C22": dict(
        section="6", claim="Perturbing hidden layers regularises less than perturbing the input"
    ),
    "C23": dict(
        section="7",
        claim="Shallow RBF network, FGSM eps = .25: mostly wrong but unconfident",
        eps=0.25,
        error=0.554,
        mistake_confidence=0.012,
        clean_confidence=0.606,
    ),
    "C24": dict(
        section="8",
        claim="Logits are piecewise linear in eps along the FGSM direction; adversarial examples fill wide ranges of eps (Fig. 4)",
    ),
    "C25": dict(
        section="8",
        claim="Agreement on maxout's adversarial examples (eps = .25)",
        eps=0.25,
        rbf_on_maxout_mistakes=0.160,
        softmax_on_maxout_mistakes=0.546,
        softmax_agrees_maxout=0.846,
        rbf_agrees_maxout=0.543,
        rbf_agrees_softmax=0.536,
    ),
    "C26": dict(
        section="9",
        claim="MP-DBM (0.88% clean error) at eps = .25",
        eps=0.25,
        clean_error=0.0088,
        error=0.975,
    ),
    "C27": dict(
        section="9",
        claim="Ensemble of 12 maxout networks, eps = .25: attacking the ensemble / one member",
        eps=0.25,
        members=12,
        ensemble_error=0.911,
        member_error=0.879,
    ),
    "C28": dict(
        section="A",
        claim="Rubbish class: N(0, I) inputs given a class with probability > .5",
        threshold=0.5,
        samples=10_000,
        softmax=0.598,
        softmax_confidence=0.708,
        maxout=0.9835,
        maxout_confidence=0.928,
        sigmoid_maxout=0.68,
        sigmoid_maxout_confidence=0.879,
        rbf=0.0,
        maxout_share_of_5s=0.453,
        maxout_share_of_8s=0.0,
    ),
    "C29": dict(
        section="A",
        claim="CIFAR-10 rubbish class: 93.4% error at 84.4% confidence; targeted sign step succeeds 75.3%",
        threshold=0.5,
        samples=1000,
        error=0.934,
        confidence=0.844,
        frog_share=0.497,
        targeted_success=0.753,
    ),
}

PAPER = MappingProxyType({k: MappingProxyType(v) for k, v in _CLAIMS.items()})
"""Claim id → the paper's section, statement and numbers (read-only)."""

SECTIONS = {
    "3": "The linear explanation of adversarial examples",
    "4": "Linear perturbation of non-linear models",
    "5": "Adversarial training of linear models versus weight decay",
    "6": "Adversarial training of deep networks",
    "7": "Different kinds of model capacity",
    "8": "Why do adversarial examples generalize?",
    "9": "Alternative hypotheses",
    "A": "Rubbish class examples",
}
