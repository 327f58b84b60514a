"""A generatively trained classifier small enough for the CI budget: class-conditional Gaussians.

The paper's generative model (Sec. 9, claim C26) is the multi-prediction deep Boltzmann machine
(MP-DBM) of Goodfellow et al. (2013), trained for weeks on a GPU. Here it is stood in for by the
simplest generative classifier: each class ``k`` is a Gaussian with a diagonal covariance,

    p(x | y = k) = N(x; μ_k, diag(σ²_k)),   p(y = k) = π_k,

fitted by maximum likelihood (class means, class frequencies and — per class or pooled over the
classes — the variances of each pixel, plus ``var_smoothing`` so that the pixels that never vary
in a class, the borders, do not get a zero variance), and it classifies by Bayes' rule,

    p(y = k | x) = π_k N(x; μ_k, σ²_k) / Σ_j π_j N(x; μ_j, σ²_j).

With one shared covariance the log-ratio of two classes is linear in x (linear discriminant
analysis with a diagonal covariance); with one covariance per class it is quadratic (Gaussian
naive Bayes). Either way the model is a torch :class:`advlib.models.Classifier`: its scores are
the joint log-likelihoods log π_k + log N(x; μ_k, σ²_k), whose softmax is the posterior.

FGSM needs the sign of ∇ₓJ. With J the cross-entropy −log p(y | x), autograd forms p_y − 1,
which is exactly 0 in float32 once p_y > 1 − 6e-8: a margin of about 17 nats, and these
models' log-likelihood margins are tens to hundreds of nats. The gradient then keeps only the
other classes' terms and FGSM goes in a poorer direction — a numerical artefact, not robustness.
So by default J is the log-odds of a mistake, log((1 − p_y) / p_y) = logsumexp_{k≠y}(s_k − s_y):
for every example a monotone function of the cross-entropy (which is softplus of it), hence the
same FGSM direction in exact arithmetic, but computed without the cancellation.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F

from advlib.checks import as_tensor, check_choice, check_int, check_labels, check_real, check_x
from advlib.models import Classifier

__all__ = [
    "COVARIANCES",
    "ATTACK_LOSSES",
    "GaussianClassifier",
    "gaussian_classifier",
    "saturated_share",
    "cross_entropy_fgsm_error",
    "smoothing_sweep",
    "log_likelihoods",
]

COVARIANCES = ("shared", "per-class")
ATTACK_LOSSES = ("log-odds", "cross-entropy")


class GaussianClassifier(Classifier):
    """Class-conditional diagonal Gaussians classified by Bayes' rule (see the module).

    means (k, d), variances (k, d) (equal rows when shared), log_priors (k,), all fixed
    (buffers, not parameters: the model is fitted in closed form, never by gradient steps).
    ``forward(x)`` (n, d) → joint log-likelihoods log π_k + log N(x; μ_k, σ²_k) (n, k); their
    softmax is p(y | x), prediction its argmax. J (:meth:`loss`) is the log-odds of a mistake,
    or with ``attack_loss="cross-entropy"`` the plain cross-entropy (see the module).
    """

    def __init__(
        self,
        means: torch.Tensor,
        variances: torch.Tensor,
        log_priors: torch.Tensor,
        covariance: str,
        attack_loss: str = "log-odds",
    ) -> None:
        super().__init__()
        self.num_classes, self.in_features = means.shape
        self.covariance, self.attack_loss = covariance, attack_loss
        self.register_buffer("means", means)
        self.register_buffer("variances", variances)
        self.register_buffer("log_priors", log_priors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        precision = 1.0 / self.variances  # (k, d)
        # Σ_i (x_i − μ_ki)² / σ²_ki as three matmuls instead of an (n, k, d) tensor
        quad = (
            (x * x) @ precision.T
            - 2 * x @ (precision * self.means).T
            + (precision * self.means**2).sum(dim=1)
        )
        log_norm = -0.5 * (
            torch.log(self.variances).sum(dim=1) + self.in_features * math.log(2 * math.pi)
        )
        return self.log_priors + log_norm - 0.5 * quad

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """J averaged over the batch: log((1 − p_y) / p_y) = logsumexp_{k≠y}(s_k − s_y), or
        −log p_y with ``attack_loss="cross-entropy"``."""
        if self.attack_loss == "cross-entropy":
            return F.cross_entropy(scores, y)
        s_y = scores.gather(1, y[:, None])
        others = scores.masked_fill(F.one_hot(y, scores.shape[1]).bool(), float("-inf"))
        return torch.logsumexp(others - s_y, dim=1).mean()

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = logsumexp_k (log π_k + log N(x; μ_k, σ²_k)), (n,): the generative fit."""
        return torch.logsumexp(self(x), dim=1)


def gaussian_classifier(
    x: Any,
    y: Any,
    *,
    covariance: str = "shared",
    var_smoothing: float = 0.01,
    num_classes: int = 10,
    attack_loss: str = "log-odds",
) -> GaussianClassifier:
    """Fit class-conditional diagonal Gaussians to ``x`` float (n, d) and ``y`` int (n,) by
    maximum likelihood; returns a :class:`GaussianClassifier` in eval mode.

    covariance: "shared" (one diagonal covariance pooled within classes: a linear classifier)
      or "per-class" (one per class: quadratic). var_smoothing: added to every variance (pixels
      in [0, 1]: .01 is a standard deviation of .1); it keeps constant border pixels from
      getting zero variance, and is the only choice besides the covariance. Closed form, in
      float64, no gradient steps: it takes milliseconds.

    attack_loss: "log-odds" (default) or "cross-entropy": the J that attacks differentiate.
    """
    where = "gaussian_classifier"
    check_choice(covariance, where=where, name="covariance", allowed=COVARIANCES)
    check_choice(attack_loss, where=where, name="attack_loss", allowed=ATTACK_LOSSES)
    check_real(var_smoothing, where=where, name="var_smoothing", low=0.0, open_low=True)
    num_classes = check_int(num_classes, where=where, name="num_classes", low=2)
    x = as_tensor(x, where=where)
    check_x(x, where=where, ndim=2)
    y = as_tensor(y, where=where, name="y")
    check_labels(y, where=where, n=x.shape[0], num_classes=num_classes)
    y = y.long()  # any integer labels (the check refused the rest)
    counts = torch.bincount(y, minlength=num_classes)
    if (counts == 0).any():
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"{where}: every class needs training examples; none for {missing}")
    x64 = x.double()
    onehot = F.one_hot(y, num_classes).double()  # (n, k)
    means = onehot.T @ x64 / counts[:, None]  # (k, d)
    centred = x64 - means[y]
    if covariance == "shared":
        variances = (centred**2).mean(dim=0).expand(num_classes, -1)  # pooled within-class
    else:
        variances = onehot.T @ centred**2 / counts[:, None]
    variances = variances + var_smoothing
    log_priors = torch.log(counts.double() / counts.sum())
    model = GaussianClassifier(
        means.float(), variances.float().contiguous(), log_priors.float(), covariance, attack_loss
    )
    return model.eval()


# --------------------------------------------------------------------------------------------
# What chapter 9 measures on these models


def saturated_share(model: GaussianClassifier, x: Any) -> float:
    """The share of inputs x (n, d) whose posterior max_k p(y = k | x) is exactly 1 in float32:
    where the cross-entropy gradient p − e_y loses the true class's term (see the module)."""
    x = torch.as_tensor(x)
    with torch.no_grad():
        p_y = torch.softmax(model(x), dim=1).max(dim=1).values
    return float((p_y == 1.0).float().mean())


def cross_entropy_fgsm_error(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    eps: float,
    *,
    covariance: str = "shared",
    var_smoothing: float = 0.01,
) -> float:
    """The FGSM error at ``eps`` (unclipped) of the Gaussian classifier fitted to (x_train,
    y_train) when the attack differentiates the plain cross-entropy instead of the log-odds
    of a mistake: the numerical trap the module describes, measured on (x_test, y_test)."""
    from advlib.measure import evaluate

    model = gaussian_classifier(
        x_train,
        y_train,
        covariance=covariance,
        var_smoothing=var_smoothing,
        attack_loss="cross-entropy",
    )
    return evaluate(model, x_test, y_test, eps, clip=None)["error"]


def smoothing_sweep(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    eps: float,
    smoothings: Any = (0.001, 0.003, 0.01, 0.03, 0.1),
) -> pd.DataFrame:
    """Clean and FGSM (``eps``, unclipped) test error of both Gaussian classifiers for each
    ``var_smoothing`` of ``smoothings``: one row per (covariance, data, var_smoothing) with
    ``log10 var_smoothing`` and ``error``."""
    from advlib.measure import evaluate

    rows = []
    for smoothing in smoothings:
        for cov in COVARIANCES:
            model = gaussian_classifier(x_train, y_train, covariance=cov, var_smoothing=smoothing)
            for kind, e in (("clean", 0.0), ("FGSM", eps)):
                rows.append(
                    {
                        "covariance": cov,
                        "data": kind,
                        "var_smoothing": smoothing,
                        "log10 var_smoothing": math.log10(smoothing),
                        "error": evaluate(model, x_test, y_test, e, clip=None)["error"],
                    }
                )
    return pd.DataFrame(rows)


def log_likelihoods(model: GaussianClassifier, *inputs: Any) -> list:
    """log p(x) under the model for each array of ``inputs`` (each (n, d)): NumPy (n,) each."""
    with torch.no_grad():
        return [model.log_likelihood(torch.as_tensor(x)).numpy() for x in inputs]
