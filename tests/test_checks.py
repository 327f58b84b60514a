"""Every public function rejects each bad argument with one ValueError/TypeError that says what
was passed and what is allowed (advlib.checks, used by attacks and linear)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from advlib import attacks, linear
from advlib.checks import check_clip, check_eps, check_x

N, D, K = 5, 12, 4


class Net(nn.Module):
    """A model that declares its input size and number of classes, as advlib's models do."""

    in_features, num_classes = D, K

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(D, K)

    def forward(self, x):
        return self.fc(x)


MODEL = Net()
X = torch.rand(N, D)
Y = torch.randint(0, K, (N,))

rng = np.random.default_rng(0)
XN = rng.uniform(size=(N, D))
W, B = rng.normal(size=D), 0.5
WK, BK = rng.normal(size=(D, K)), np.zeros(K)
PM1 = np.array([1, -1, 1, 1, -1])
YK = np.array([0, 1, 2, 3, 0])


def with_value(a, value, where=(0, 0)):
    a = a.clone() if isinstance(a, torch.Tensor) else a.copy()
    a[where] = value
    return a


CASES = {
    # eps
    "negative eps": (lambda: attacks.fgsm(MODEL, X, Y, -0.1), ValueError, r"eps must be finite and >= 0, got -0\.1"),
    "NaN eps": (lambda: attacks.fgsm(MODEL, X, Y, math.nan), ValueError, r"eps must be finite"),
    "inf eps": (lambda: attacks.fgsm(MODEL, X, Y, math.inf), ValueError, r"eps must be finite.*inf"),
    "bool eps": (lambda: attacks.fgsm(MODEL, X, Y, True), TypeError, r"eps must be a real number >= 0, got the bool"),
    "string eps": (lambda: attacks.fgsm(MODEL, X, Y, "0.1"), TypeError, r"eps must be a float or a 1-d"),
    "eps of the wrong length": (lambda: attacks.fgsm(MODEL, X, Y, torch.full((N - 1,), 0.1)), ValueError, r"per-example eps must have shape \(5,\), got shape \(4,\)"),
    "a negative per-example eps": (lambda: attacks.fgsm(MODEL, X, Y, torch.tensor([0.1, -0.1, 0, 0, 0])), ValueError, r"every eps must be finite and >= 0"),
    "a NaN per-example eps": (lambda: attacks.fgsm(MODEL, X, Y, torch.tensor([0.1, math.nan, 0, 0, 0])), ValueError, r"every eps must be finite"),
    "bim: negative step": (lambda: attacks.bim(MODEL, X, Y, 0.1, -0.01, 3), ValueError, r"bim: step must be finite and >= 0"),
    "bim: zero steps": (lambda: attacks.bim(MODEL, X, Y, 0.1, 0.01, 0), ValueError, r"steps must be an integer >= 1, got 0"),
    "bim: fractional steps": (lambda: attacks.bim(MODEL, X, Y, 0.1, 0.01, 2.5), ValueError, r"steps must be an integer >= 1, got 2\.5"),
    "pgd: seed and generator": (lambda: attacks.pgd(MODEL, X, Y, 0.1, 0.01, 2, seed=0, generator=torch.Generator()), ValueError, r"seed or generator, not both"),
    # x
    "x of int dtype": (lambda: attacks.fgsm(MODEL, (X * 255).long(), Y, 0.1), TypeError, r"x must have a floating dtype .*got torch\.int64"),
    "x holding NaN": (lambda: attacks.fgsm(MODEL, with_value(X, math.nan), Y, 0.1), ValueError, r"x must be finite"),
    "x holding inf, unclipped": (lambda: attacks.fgsm(MODEL, with_value(X, math.inf), Y, 0.1, clip=None), ValueError, r"x must be finite"),
    "x outside [0, 1]": (lambda: attacks.fgsm(MODEL, X * 255, Y, 0.1), ValueError, r"x must lie in the clip range \[0\.0, 1\.0\].*got values in \[.*, 2[0-9.]+\]"),
    "x outside [0, 1] late in the batch": (lambda: attacks.fgsm(MODEL, with_value(X, -0.5, (N - 1, 3)), Y, 0.1), ValueError, r"clip range.*\[-0\.5, "),
    "x of the wrong ndim": (lambda: attacks.fgsm(MODEL, X[:, :, None], Y, 0.1), ValueError, r"x must have 2 dimensions, got shape \(5, 12, 1\)"),
    "x with the wrong feature count": (lambda: attacks.fgsm(MODEL, X[:, :-1], Y, 0.1), ValueError, r"x must have 12 features .*got shape \(5, 11\)"),
    "x a list": (lambda: attacks.fgsm(MODEL, X.tolist(), Y, 0.1), TypeError, r"x must be a tensor or array, got list"),
    "x empty": (lambda: attacks.fgsm(MODEL, X[:0], Y[:0], 0.1), ValueError, r"x is empty"),
    "noise: x outside [0, 1]": (lambda: attacks.random_sign(X + 1, 0.1), ValueError, r"random_sign: x must lie in the clip range"),
    "noise: x holding NaN": (lambda: attacks.random_uniform(with_value(X, math.nan), 0.1), ValueError, r"random_uniform: x must be finite"),
    # y
    "y of float dtype": (lambda: attacks.fgsm(MODEL, X, Y.float(), 0.1), TypeError, r"y must hold integer class labels .*got dtype torch\.float32"),
    "y out of range": (lambda: attacks.fgsm(MODEL, X, with_value(Y, K, 0), 0.1), ValueError, r"y must hold labels in 0\.\.3, got values in \[.*, 4\]"),
    "y negative": (lambda: attacks.fgsm(MODEL, X, with_value(Y, -1, 0), 0.1), ValueError, r"labels in 0\.\.3, got values in \[-1, "),
    "y of the wrong length": (lambda: attacks.fgsm(MODEL, X, Y[:-1], 0.1), ValueError, r"y must have shape \(5,\), one label per example, got shape \(4,\)"),
    "y of bools": (lambda: attacks.fgsm(MODEL, X, Y > 1, 0.1), TypeError, r"integer class labels .*torch\.bool"),
    # clip
    "clip reversed": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(1.0, 0.0)), ValueError, r"clip must be a finite range with lo < hi, got \(1\.0, 0\.0\)"),
    "clip empty": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(0.5, 0.5)), ValueError, r"lo < hi"),
    "clip infinite": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(0.0, math.inf)), ValueError, r"finite range"),
    "clip NaN": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(math.nan, 1.0)), ValueError, r"finite range"),
    "clip of one number": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(1.0,)), TypeError, r"clip must be None or a pair \(lo, hi\)"),
    "clip of three numbers": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(0, 0.5, 1)), TypeError, r"pair \(lo, hi\)"),
    "clip a float": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=1.0), TypeError, r"pair \(lo, hi\) of numbers, got 1\.0"),
    "clip of strings": (lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=("a", "b")), TypeError, r"pair \(lo, hi\) of numbers"),
    # linear: logistic regression
    "w of the wrong length": (lambda: linear.logistic_loss(W[:-1], B, XN, PM1), ValueError, r"logistic_loss: w must have shape \(12,\) to match x with 12 features, got shape \(11,\)"),
    "w of int dtype": (lambda: linear.logistic_loss(W.astype(int), B, XN, PM1), TypeError, r"w must have a floating dtype"),
    "w a matrix": (lambda: linear.logistic_grad(WK, B, XN, PM1), ValueError, r"w must have shape \(12,\).*got shape \(12, 4\)"),
    "w holding NaN": (lambda: linear.logistic_loss(with_value(W, math.nan, 0), B, XN, PM1), ValueError, r"w and b must be finite"),
    "b a vector for logistic": (lambda: linear.logistic_loss(W, np.zeros(2), XN, PM1), ValueError, r"b must have shape \(\) \(a scalar\), got shape \(2,\)"),
    "±1 labels violated": (lambda: linear.logistic_fgsm(W, B, XN, (PM1 + 1) // 2, 0.1), ValueError, r"y must hold labels -1 or \+1 .*got values \[0\.0, 1\.0\]"),
    "±1 labels of the wrong length": (lambda: linear.logistic_adversarial_loss(W, B, XN, PM1[:-1], 0.1), ValueError, r"y must have shape \(5,\)"),
    "logistic x of the wrong width": (lambda: linear.logistic_loss(W, B, XN[:, :-1], PM1), ValueError, r"w must have shape \(11,\).*got shape \(12,\)"),
    "logistic x int": (lambda: linear.logistic_loss(W, B, XN.astype(int), PM1), TypeError, r"x must have a floating dtype"),
    "logistic x NaN": (lambda: linear.logistic_loss(W, B, with_value(XN, math.nan), PM1), ValueError, r"x must be finite"),
    "logistic negative eps": (lambda: linear.logistic_adversarial_grad(W, B, XN, PM1, -1.0), ValueError, r"logistic_adversarial_grad: eps must be finite and >= 0"),
    "logistic x outside clip": (lambda: linear.logistic_fgsm(W, B, XN + 1, PM1, 0.1, clip=(0, 1)), ValueError, r"clip range"),
    "mixed NumPy and torch": (lambda: linear.logistic_loss(torch.from_numpy(W), B, XN, PM1), TypeError, r"must all be NumPy or all CuPy arrays, got .*numpy\.ndarray.*torch\.Tensor"),
    # linear: softmax regression
    "W of the wrong height": (lambda: linear.softmax_loss(WK[:-1], BK, XN, YK), ValueError, r"W must have shape \(12, k\) with k >= 2 classes .*got shape \(11, 4\)"),
    "W a vector": (lambda: linear.softmax_fgsm(W, BK, XN, YK, 0.1), ValueError, r"W must have shape \(12, k\).*got shape \(12,\)"),
    "W of one class": (lambda: linear.softmax_loss(WK[:, :1], BK[:1], XN, YK * 0), ValueError, r"k >= 2 classes"),
    "b of the wrong length": (lambda: linear.softmax_grad(WK, BK[:-1], XN, YK), ValueError, r"b must have shape \(4,\), one bias per class, got shape \(3,\)"),
    "b a scalar for softmax": (lambda: linear.softmax_input_grad(WK, 0.0, XN, YK), ValueError, r"b must have shape \(4,\)"),
    "softmax y out of range": (lambda: linear.softmax_loss(WK, BK, XN, with_value(YK, K, 0)), ValueError, r"labels in 0\.\.3"),
    "softmax y float": (lambda: linear.softmax_loss(WK, BK, XN, YK.astype(float)), TypeError, r"integer class labels"),
    # linear: the trainer
    "unknown objective": (lambda: linear.fit_logistic(XN, PM1, objective="robust"), ValueError, r"objective must be one of 'clean', 'adversarial', 'l1'; got 'robust'"),
    "zero learning rate": (lambda: linear.fit_logistic(XN, PM1, lr=0), ValueError, r"lr must be finite and > 0, got 0"),
    "zero epochs": (lambda: linear.fit_softmax(XN, YK, epochs=0), ValueError, r"epochs must be an integer >= 1"),
    "alpha above 1": (lambda: linear.fit_softmax(XN, YK, objective="adversarial", alpha=1.5), ValueError, r"alpha must be a real number in \[0, 1\], got 1\.5"),
    "per-example eps in training": (lambda: linear.fit_logistic(XN, PM1, eps=np.full(N, 0.1)), TypeError, r"eps and l1 must be real numbers"),
    "negative l1": (lambda: linear.fit_logistic(XN, PM1, objective="l1", l1=-1.0), ValueError, r"l1 must be finite and >= 0"),
    "trainer with 0/1 labels": (lambda: linear.fit_logistic(XN, (PM1 + 1) // 2), ValueError, r"-1 or \+1"),
    "num_classes below the labels": (lambda: linear.fit_softmax(XN, YK, num_classes=3), ValueError, r"labels in 0\.\.2"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_argument_raises_a_clear_error(case):
    call, error, message = CASES[case]
    with pytest.raises(error, match=message):
        call()


def test_good_arguments_pass_through():
    assert check_eps(0, where="t") == 0.0 and isinstance(check_eps(1, where="t"), float)
    assert check_eps(torch.tensor(0.25), where="t") == 0.25  # a 0-d tensor is a number
    e = torch.tensor([0.0, 0.1])
    assert check_eps(e, where="t", n=2) is e
    assert check_clip(None, where="t") is None and check_clip([0, 255], where="t") == (0.0, 255.0)
    assert check_x(X * 255, where="t", clip=None) is not None  # any scale when clip is off
    assert check_x(X, where="t", values=False) is X


def test_models_without_declared_sizes_skip_those_checks():
    """A plain nn.Module (no in_features/num_classes) is attacked; what is unknown is unchecked."""
    model = nn.Sequential(nn.Linear(D, 8), nn.ReLU(), nn.Linear(8, K))
    adv = attacks.fgsm(model, X, Y, 0.1)
    assert adv.shape == X.shape
    with pytest.raises(ValueError, match=r"labels >= 0"):
        attacks.fgsm(model, X, with_value(Y, -1, 0), 0.1)
