"""Bad inputs, tried as a hostile user would, through the Python API (per module) and the
command line (per verb). Each must end in one clear error of advlib's own: a ValueError or
TypeError (or a subclass such as DataError) raised in advlib's code, not chained to a raw
torch/NumPy/pathlib error, whose message says what is allowed; on the command line, exit
status 2 and one line on stderr, ``error: ...``. Never a silent acceptance.

``python tests/test_bad_inputs.py`` prints the table of what is tried: module or verb, bad
inputs tried, clear errors, silently accepted, other outcomes (raw tracebacks, unclear
messages, wrong exit status). The counts are of the cases below, each tried once.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

import advlib
from advlib import (
    attacks,
    cache,
    data,
    generative,
    linear,
    measure,
    models,
    paths,
    rotation,
    train,
    weights,
    zoo,
)
from advlib.train import Recipe

ADVLIB = Path(advlib.__file__).resolve().parent
ROOT = ADVLIB.parent
# Words by which a message says what is allowed (or what to do instead).
ALLOWED = (
    "must",
    "one of",
    "expected",
    "expects",
    "needs",
    "allowed",
    "choose",
    "only",
    "at least",
    "give ",
    "pass ",
    "use ",
    "run `",
    "point ",
    "convert",
    "move ",
    "replace ",
    "parameters are",
)


@dataclass(frozen=True)
class Case:
    group: str  # the module, or "cli <verb>"
    label: str
    call: Callable[[], object] | None = None  # an API call
    argv: tuple[str, ...] | None = None  # a command line, run in this process
    process: bool = False  # run the command line as its own process (the real exit status)
    env: tuple[tuple[str, str | None], ...] = ()  # environment while it runs (None: unset)
    deny: str | None = None  # a path made unreadable while it runs

    @property
    def id(self) -> str:
        return f"{self.group}: {self.label}"


CASES: list[Case] = []


def api(group: str, label: str, call: Callable[[], object], **kw) -> None:
    CASES.append(Case(group, label, call=call, **kw))


def cli(label: str, *argv: str, process: bool = False, **kw) -> None:
    verb = argv[0] if argv and not argv[0].startswith("-") else "(none)"
    verb = verb if verb in ("params", "run", "book", "train", "download", "sweep") else "(none)"
    CASES.append(Case(f"cli {verb}", label, argv=tuple(argv), process=process, **kw))


# --------------------------------------------------------------------------------------------
# What the cases use: tiny models and data, and files made once in a temporary folder

N, D, K = 6, 12, 4


class Net(nn.Module):
    """A classifier that declares its sizes, as advlib's models do."""

    in_features, num_classes = D, K

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(D, K)

    def forward(self, x):
        return self.fc(x)


class Shapeless(nn.Module):
    """A classifier that declares nothing, returning ``k`` scores (or a wrong shape)."""

    def __init__(self, k=3, shape=None):
        super().__init__()
        self.fc, self.shape = nn.Linear(D, k), shape

    def forward(self, x):
        out = self.fc(x)
        return out.reshape(self.shape) if self.shape else out


torch.manual_seed(0)
MODEL = Net()
X = torch.rand(N, D)
Y = torch.tensor([0, 1, 2, 3, 0, 1])
SOFTMAX = models.softmax_regression()
X784 = torch.rand(N, 784)
Y10 = torch.tensor([0, 1, 2, 3, 4, 5])
NAN_MODEL = models.softmax_regression()
with torch.no_grad():
    NAN_MODEL.linear.weight[0, 0] = math.nan

rng = np.random.default_rng(0)
XN = rng.uniform(size=(N, D))
W, B = rng.normal(size=D), 0.5
WK, BK = rng.normal(size=(D, K)), np.zeros(K)
PM1 = np.array([1, -1, 1, 1, -1, 1])
YK = np.array([0, 1, 2, 3, 0, 1])
X_IMG = np.random.default_rng(1).uniform(size=(20, 784)).astype(np.float32)
Y_IMG = np.arange(20) % 10
RECIPE = Recipe(model="softmax", epochs=1, batch_size=4)


def with_value(a, value, where=(0, 0)):
    a = a.clone() if isinstance(a, torch.Tensor) else a.copy()
    a[where] = value
    return a


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    raw = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw += array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


CHAPTER = """# %% [markdown]
# # A tiny chapter

# %% tags=["parameters"]
from typing import Literal
eps: float = 0.25  # the radius
seed: int = 0  # the seed
mode: Literal["a", "b"] = "a"  # the mode

# %%
from advlib.book import record
record({"doubled": eps * 2})
"""


@lru_cache(maxsize=1)
def work() -> Path:
    """A temporary folder of files the cases point at (removed at exit)."""
    top = Path(tempfile.mkdtemp(prefix="advlib-bad-inputs-"))
    atexit.register(shutil.rmtree, top, ignore_errors=True)
    (top / "book" / "chapters").mkdir(parents=True)
    (top / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: chapters/01_tiny\n"
    )
    (top / "book" / "chapters" / "01_tiny.py").write_text(CHAPTER)
    (top / "plain.py").write_text("print('not a chapter')\n")
    (top / "binary.py").write_bytes(bytes(range(256)) * 4)
    (top / "notes.txt").write_text("# %%\nsome notes\n")
    (top / "broken.ipynb").write_text("{not json")
    (top / "nonliteral.py").write_text('# %% tags=["parameters"]\neps: float = 1 / 4  # r\n')
    (top / "a-file").write_text("a file, not a folder\n")
    (top / "empty").mkdir()
    (top / "bad.toc").mkdir()
    (top / "bad.toc" / "_toc.yml").write_text("chapters: [unclosed\n")
    os.symlink("/proc/self/mem", top / "unreadable.py")  # reading it fails, even as root
    os.symlink("/proc/self/mem", top / "unreadable-idx3-ubyte.gz")
    # IDX files that are broken in one way each
    images = np.zeros((3, 28, 28), np.uint8)
    write_idx(top / "ok-images.gz", images)
    raw = gzip.decompress((top / "ok-images.gz").read_bytes())
    (top / "truncated.idx").write_bytes(raw[:-10])
    (top / "long.idx").write_bytes(raw + b"\x00")
    (top / "magic.idx").write_bytes(b"\x00\x00\x0d\x03" + raw[4:])
    (top / "badgzip.gz").write_bytes(gzip.compress(raw)[:40])
    (top / "empty.idx").write_bytes(b"")
    # MNIST-shaped folders: four small files that are not MNIST, and half a set
    fake = top / "fake-mnist"
    fake.mkdir()
    for stem, n in (("train", 30), ("t10k", 20)):
        write_idx(fake / f"{stem}-images-idx3-ubyte.gz", np.zeros((n, 28, 28), np.uint8))
        write_idx(fake / f"{stem}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    half = top / "half-mnist"
    half.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        shutil.copy(fake / name, half / name)
    # labels that do not fit their images, and labels above 9
    odd = top / "odd-fashion"
    odd.mkdir()
    write_idx(odd / "t10k-images-idx3-ubyte.gz", np.zeros((5, 28, 28), np.uint8))
    write_idx(odd / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    write_idx(odd / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    write_idx(odd / "train-labels-idx1-ubyte.gz", np.array([3, 12]))
    return top


def w(name: str) -> str:
    return str(work() / name)


def tiny() -> str:
    return w("book/chapters/01_tiny.py")


# --------------------------------------------------------------------------------------------
# attacks


api("attacks", "fgsm: model a string", lambda: attacks.fgsm("maxout", X, Y, 0.1))
api("attacks", "fgsm: model None", lambda: attacks.fgsm(None, X, Y, 0.1))
api("attacks", "fgsm: model a plain function", lambda: attacks.fgsm(lambda x: x, X, Y, 0.1))
api("attacks", "fgsm: x a list", lambda: attacks.fgsm(MODEL, X.tolist(), Y, 0.1))
api(
    "attacks",
    "fgsm: x a NumPy int array",
    lambda: attacks.fgsm(MODEL, (X.numpy() * 255).astype(int), Y, 0.1),
)
api("attacks", "fgsm: x an int tensor", lambda: attacks.fgsm(MODEL, (X * 255).long(), Y, 0.1))
api(
    "attacks", "fgsm: x float64, the model float32", lambda: attacks.fgsm(MODEL, X.double(), Y, 0.1)
)
api(
    "attacks",
    "fgsm: x NumPy float64, the model float32",
    lambda: attacks.fgsm(MODEL, X.double().numpy(), Y, 0.1),
)
api("attacks", "fgsm: x float16", lambda: attacks.fgsm(MODEL, X.half(), Y, 0.1))
api("attacks", "fgsm: x holding NaN", lambda: attacks.fgsm(MODEL, with_value(X, math.nan), Y, 0.1))
api("attacks", "fgsm: x holding inf", lambda: attacks.fgsm(MODEL, with_value(X, math.inf), Y, 0.1))
api(
    "attacks",
    "fgsm: x outside the clip range",
    lambda: attacks.fgsm(MODEL, X * 255, Y, 0.1, clip=(0.0, 1.0)),
)
api("attacks", "fgsm: x of 3 dimensions", lambda: attacks.fgsm(MODEL, X[:, :, None], Y, 0.1))
api("attacks", "fgsm: x of the wrong width", lambda: attacks.fgsm(MODEL, X[:, :-1], Y, 0.1))
api("attacks", "fgsm: x empty", lambda: attacks.fgsm(MODEL, X[:0], Y[:0], 0.1))
api("attacks", "fgsm: x a 0-d tensor", lambda: attacks.fgsm(MODEL, torch.tensor(0.5), Y, 0.1))
api("attacks", "fgsm: y float", lambda: attacks.fgsm(MODEL, X, Y.float(), 0.1))
api("attacks", "fgsm: y int32", lambda: attacks.fgsm(MODEL, X, Y.int(), 0.1))
api(
    "attacks",
    "fgsm: y NumPy int32",
    lambda: attacks.fgsm(MODEL, X, Y.numpy().astype(np.int32), 0.1),
)
api("attacks", "fgsm: y bool", lambda: attacks.fgsm(MODEL, X, Y > 1, 0.1))
api("attacks", "fgsm: y a list", lambda: attacks.fgsm(MODEL, X, Y.tolist(), 0.1))
api("attacks", "fgsm: y of the wrong length", lambda: attacks.fgsm(MODEL, X, Y[:-1], 0.1))
api("attacks", "fgsm: y 2-d", lambda: attacks.fgsm(MODEL, X, Y[:, None], 0.1))
api(
    "attacks", "fgsm: y above the classes", lambda: attacks.fgsm(MODEL, X, with_value(Y, K, 0), 0.1)
)
api("attacks", "fgsm: y negative", lambda: attacks.fgsm(MODEL, X, with_value(Y, -1, 0), 0.1))
api(
    "attacks",
    "fgsm: undeclared model, a label beyond its scores",
    lambda: attacks.fgsm(Shapeless(3), X, Y, 0.1),
)
api(
    "attacks",
    "fgsm: model returning one score per example",
    lambda: attacks.fgsm(Shapeless(1, shape=(-1,)), X, Y * 0, 0.1),
)
api(
    "attacks",
    "fgsm: model returning the wrong number of rows",
    lambda: attacks.fgsm(Shapeless(4, shape=(-1, 8)), X, Y, 0.1),
)
api("attacks", "fgsm: eps negative", lambda: attacks.fgsm(MODEL, X, Y, -0.1))
api("attacks", "fgsm: eps NaN", lambda: attacks.fgsm(MODEL, X, Y, math.nan))
api("attacks", "fgsm: eps inf", lambda: attacks.fgsm(MODEL, X, Y, math.inf))
api("attacks", "fgsm: eps a bool", lambda: attacks.fgsm(MODEL, X, Y, True))
api("attacks", "fgsm: eps a string", lambda: attacks.fgsm(MODEL, X, Y, "0.1"))
api("attacks", "fgsm: eps None", lambda: attacks.fgsm(MODEL, X, Y, None))
api("attacks", "fgsm: eps a list", lambda: attacks.fgsm(MODEL, X, Y, [0.1] * N))
api(
    "attacks",
    "fgsm: per-example eps of the wrong length",
    lambda: attacks.fgsm(MODEL, X, Y, torch.full((N - 1,), 0.1)),
)
api(
    "attacks",
    "fgsm: per-example NumPy eps of the wrong length",
    lambda: attacks.fgsm(MODEL, X, Y, np.full(N + 1, 0.1)),
)
api(
    "attacks",
    "fgsm: a negative per-example eps",
    lambda: attacks.fgsm(MODEL, X, Y, torch.tensor([0.1, -0.1, 0, 0, 0, 0])),
)
api(
    "attacks",
    "fgsm: a NaN per-example eps",
    lambda: attacks.fgsm(MODEL, X, Y, np.array([0.1, math.nan, 0, 0, 0, 0])),
)
api("attacks", "fgsm: eps a 2-d tensor", lambda: attacks.fgsm(MODEL, X, Y, torch.full((N, 1), 0.1)))
api("attacks", "fgsm: eps complex", lambda: attacks.fgsm(MODEL, X, Y, 0.1 + 0.1j))
api("attacks", "fgsm: clip reversed", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(1.0, 0.0)))
api("attacks", "fgsm: clip empty", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(0.5, 0.5)))
api("attacks", "fgsm: clip infinite", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(0.0, math.inf)))
api("attacks", "fgsm: clip NaN", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(math.nan, 1.0)))
api("attacks", "fgsm: clip of one number", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(1.0,)))
api(
    "attacks",
    "fgsm: clip of three numbers",
    lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=(0, 0.5, 1)),
)
api("attacks", "fgsm: clip a float", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=1.0))
api("attacks", "fgsm: clip of strings", lambda: attacks.fgsm(MODEL, X, Y, 0.1, clip=("a", "b")))
api(
    "attacks",
    "fgsm_with_scores: scores a string",
    lambda: attacks.fgsm_with_scores(MODEL, X, Y, 0.1, scores="yes"),
)
api("attacks", "bim: step negative", lambda: attacks.bim(MODEL, X, Y, 0.1, -0.01, 3))
api("attacks", "bim: step a string", lambda: attacks.bim(MODEL, X, Y, 0.1, "0.01", 3))
api("attacks", "bim: zero steps", lambda: attacks.bim(MODEL, X, Y, 0.1, 0.01, 0))
api("attacks", "bim: fractional steps", lambda: attacks.bim(MODEL, X, Y, 0.1, 0.01, 2.5))
api("attacks", "bim: steps a string", lambda: attacks.bim(MODEL, X, Y, 0.1, 0.01, "3"))
api(
    "attacks",
    "bim: random_start a string",
    lambda: attacks.bim(MODEL, X, Y, 0.1, 0.01, 2, random_start="yes"),
)
api(
    "attacks",
    "bim: undeclared model, a label beyond its scores",
    lambda: attacks.bim(Shapeless(3), X, Y, 0.1, 0.01, 2),
)
api("attacks", "pgd: seed negative", lambda: attacks.pgd(MODEL, X, Y, 0.1, 0.01, 2, seed=-1))
api("attacks", "pgd: seed a float", lambda: attacks.pgd(MODEL, X, Y, 0.1, 0.01, 2, seed=1.5))
api("attacks", "pgd: seed a string", lambda: attacks.pgd(MODEL, X, Y, 0.1, 0.01, 2, seed="0"))
api(
    "attacks",
    "pgd: seed and generator",
    lambda: attacks.pgd(MODEL, X, Y, 0.1, 0.01, 2, seed=0, generator=torch.Generator()),
)
api(
    "attacks",
    "pgd: generator not a Generator",
    lambda: attacks.pgd(MODEL, X, Y, 0.1, 0.01, 2, generator=np.random.default_rng(0)),
)
api("attacks", "random_sign: x a list", lambda: attacks.random_sign(X.tolist(), 0.1))
api("attacks", "random_sign: x an int tensor", lambda: attacks.random_sign((X * 255).long(), 0.1))
api("attacks", "random_sign: x a 0-d tensor", lambda: attacks.random_sign(torch.tensor(0.5), 0.1))
api(
    "attacks",
    "random_sign: x outside the clip range",
    lambda: attacks.random_sign(X + 1, 0.1, clip=(0.0, 1.0)),
)
api("attacks", "random_sign: eps negative", lambda: attacks.random_sign(X, -0.1))
api("attacks", "random_sign: seed negative", lambda: attacks.random_sign(X, 0.1, seed=-3))
api(
    "attacks",
    "random_uniform: x holding NaN",
    lambda: attacks.random_uniform(with_value(X, math.nan), 0.1),
)
api("attacks", "random_uniform: seed a float", lambda: attacks.random_uniform(X, 0.1, seed=0.5))
api(
    "attacks",
    "random_uniform: per-example eps of the wrong length",
    lambda: attacks.random_uniform(X, np.full(2, 0.1)),
)
api("attacks", "input_gradient: model a string", lambda: attacks.input_gradient("net", X, Y))
api("attacks", "input_gradient: y float", lambda: attacks.input_gradient(MODEL, X, Y.float()))
api(
    "attacks",
    "input_gradient: x NumPy int",
    lambda: attacks.input_gradient(MODEL, np.ones((N, D), int), Y),
)
api("attacks", "model_loss: scores a list", lambda: attacks.model_loss(MODEL, [[0.0] * K] * N, Y))
api("attacks", "model_loss: y int32", lambda: attacks.model_loss(MODEL, torch.zeros(N, K), Y.int()))
api(
    "attacks",
    "model_loss: one label too few",
    lambda: attacks.model_loss(MODEL, torch.zeros(N, K), Y[:-1]),
)
api("attacks", "frozen: model a string", lambda: attacks.frozen("net").__enter__())
api("attacks", "frozen: train a string", lambda: attacks.frozen(MODEL, train="no").__enter__())
api("attacks", "chunk_rows: a list", lambda: attacks.chunk_rows([1, 2, 3]))
api("attacks", "chunk_rows: a 0-d tensor", lambda: attacks.chunk_rows(torch.tensor(1.0)))

# --------------------------------------------------------------------------------------------
# linear


api("linear", "sign_perturbation: w a list", lambda: linear.sign_perturbation([1.0, -2.0], 0.1))
api(
    "linear",
    "sign_perturbation: w integer",
    lambda: linear.sign_perturbation(np.array([1, -2]), 0.1),
)
api(
    "linear",
    "sign_perturbation: w holding NaN",
    lambda: linear.sign_perturbation(with_value(W, math.nan, 0), 0.1),
)
api("linear", "sign_perturbation: eps negative", lambda: linear.sign_perturbation(W, -0.1))
api(
    "linear",
    "sign_perturbation: eps an array",
    lambda: linear.sign_perturbation(W, np.full(D, 0.1)),
)
api(
    "linear",
    "activation_change: w of 3 dimensions",
    lambda: linear.activation_change(np.ones((2, 2, 2)), 0.1),
)
api("linear", "activation_change: eps a string", lambda: linear.activation_change(W, "0.1"))
api("linear", "quantize_8bit: x a list", lambda: linear.quantize_8bit([0.1, 0.2]))
api("linear", "quantize_8bit: x integer", lambda: linear.quantize_8bit(np.array([[1, 2]])))
api(
    "linear",
    "quantize_8bit: x holding NaN",
    lambda: linear.quantize_8bit(np.array([[0.1, math.nan]])),
)
api(
    "linear",
    "logistic_loss: w of the wrong length",
    lambda: linear.logistic_loss(W[:-1], B, XN, PM1),
)
api("linear", "logistic_loss: w integer", lambda: linear.logistic_loss(W.astype(int), B, XN, PM1))
api("linear", "logistic_loss: b a vector", lambda: linear.logistic_loss(W, np.zeros(2), XN, PM1))
api("linear", "logistic_loss: b a string", lambda: linear.logistic_loss(W, "0.5", XN, PM1))
api("linear", "logistic_loss: b NaN", lambda: linear.logistic_loss(W, math.nan, XN, PM1))
api("linear", "logistic_loss: y in {0, 1}", lambda: linear.logistic_loss(W, B, XN, (PM1 + 1) // 2))
api(
    "linear",
    "logistic_loss: y of the wrong length",
    lambda: linear.logistic_loss(W, B, XN, PM1[:-1]),
)
api("linear", "logistic_loss: y strings", lambda: linear.logistic_loss(W, B, XN, PM1.astype(str)))
api(
    "linear",
    "logistic_loss: x of the wrong width",
    lambda: linear.logistic_loss(W, B, XN[:, :-1], PM1),
)
api("linear", "logistic_loss: x integer", lambda: linear.logistic_loss(W, B, XN.astype(int), PM1))
api(
    "linear",
    "logistic_loss: x holding NaN",
    lambda: linear.logistic_loss(W, B, with_value(XN, math.nan), PM1),
)
api("linear", "logistic_loss: x a list", lambda: linear.logistic_loss(W, B, XN.tolist(), PM1))
api(
    "linear",
    "logistic_loss: NumPy and torch mixed",
    lambda: linear.logistic_loss(torch.from_numpy(W), B, XN, PM1),
)
api("linear", "logistic_grad: w a matrix", lambda: linear.logistic_grad(WK, B, XN, PM1))
api(
    "linear",
    "logistic_fgsm: clip reversed",
    lambda: linear.logistic_fgsm(W, B, XN, PM1, 0.1, clip=(1, 0)),
)
api(
    "linear",
    "logistic_fgsm: x outside the clip range",
    lambda: linear.logistic_fgsm(W, B, XN + 1, PM1, 0.1, clip=(0, 1)),
)
api(
    "linear",
    "logistic_fgsm: per-example eps of the wrong length",
    lambda: linear.logistic_fgsm(W, B, XN, PM1, np.full(2, 0.1)),
)
api(
    "linear",
    "logistic_adversarial_loss: eps NaN",
    lambda: linear.logistic_adversarial_loss(W, B, XN, PM1, math.nan),
)
api(
    "linear",
    "logistic_adversarial_grad: eps negative",
    lambda: linear.logistic_adversarial_grad(W, B, XN, PM1, -1.0),
)
api("linear", "logistic_proba: x 1-d", lambda: linear.logistic_proba(W, B, XN[0]))
api("linear", "logistic_predict: w a matrix", lambda: linear.logistic_predict(WK, B, XN))
api(
    "linear",
    "softmax_loss: W of the wrong height",
    lambda: linear.softmax_loss(WK[:-1], BK, XN, YK),
)
api(
    "linear",
    "softmax_loss: W of one class",
    lambda: linear.softmax_loss(WK[:, :1], BK[:1], XN, YK * 0),
)
api("linear", "softmax_loss: y float", lambda: linear.softmax_loss(WK, BK, XN, YK.astype(float)))
api(
    "linear",
    "softmax_loss: y above the classes",
    lambda: linear.softmax_loss(WK, BK, XN, with_value(YK, K, 0)),
)
api(
    "linear",
    "softmax_grad: b of the wrong length",
    lambda: linear.softmax_grad(WK, BK[:-1], XN, YK),
)
api("linear", "softmax_input_grad: b a scalar", lambda: linear.softmax_input_grad(WK, 0.0, XN, YK))
api("linear", "softmax_fgsm: W a vector", lambda: linear.softmax_fgsm(W, BK, XN, YK, 0.1))
api("linear", "softmax_fgsm: eps inf", lambda: linear.softmax_fgsm(WK, BK, XN, YK, math.inf))
api(
    "linear",
    "softmax_proba: x holding NaN",
    lambda: linear.softmax_proba(WK, BK, with_value(XN, math.nan)),
)
api(
    "linear",
    "softmax_predict: b holding inf",
    lambda: linear.softmax_predict(WK, with_value(BK, math.inf, 0), XN),
)
api("linear", "error_rate: lists", lambda: linear.error_rate([1, 2], [1, 2]))
api("linear", "error_rate: shapes differ", lambda: linear.error_rate(YK, YK[:-1]))
api("linear", "error_rate: 2-d labels", lambda: linear.error_rate(YK[:, None], YK[:, None]))
api("linear", "l1_penalty: l1 negative", lambda: linear.l1_penalty(W, -0.1))
api("linear", "l1_penalty: l1 an array", lambda: linear.l1_penalty(W, np.full(D, 0.1)))
api("linear", "l1_penalty: w a list", lambda: linear.l1_penalty([1.0], 0.1))
api("linear", "l1_grad: l1 NaN", lambda: linear.l1_grad(W, math.nan))
api(
    "linear",
    "fit_logistic: an unknown objective",
    lambda: linear.fit_logistic(XN, PM1, objective="robust"),
)
api("linear", "fit_logistic: lr 0", lambda: linear.fit_logistic(XN, PM1, lr=0))
api("linear", "fit_logistic: lr negative", lambda: linear.fit_logistic(XN, PM1, lr=-0.1))
api("linear", "fit_logistic: lr a string", lambda: linear.fit_logistic(XN, PM1, lr="0.1"))
api("linear", "fit_logistic: epochs 0", lambda: linear.fit_logistic(XN, PM1, epochs=0))
api("linear", "fit_logistic: epochs 2.5", lambda: linear.fit_logistic(XN, PM1, epochs=2.5))
api("linear", "fit_logistic: batch_size 0", lambda: linear.fit_logistic(XN, PM1, batch_size=0))
api(
    "linear",
    "fit_logistic: alpha 1.5",
    lambda: linear.fit_logistic(XN, PM1, objective="adversarial", alpha=1.5),
)
api("linear", "fit_logistic: alpha a string", lambda: linear.fit_logistic(XN, PM1, alpha="0.5"))
api(
    "linear",
    "fit_logistic: per-example eps",
    lambda: linear.fit_logistic(XN, PM1, eps=np.full(N, 0.1)),
)
api(
    "linear",
    "fit_logistic: eps a tensor vector",
    lambda: linear.fit_logistic(XN, PM1, eps=torch.full((N,), 0.1)),
)
api("linear", "fit_logistic: seed negative", lambda: linear.fit_logistic(XN, PM1, seed=-1))
api("linear", "fit_logistic: seed a float", lambda: linear.fit_logistic(XN, PM1, seed=1.5))
api("linear", "fit_logistic: seed a string", lambda: linear.fit_logistic(XN, PM1, seed="0"))
api(
    "linear",
    "fit_logistic: l1 negative",
    lambda: linear.fit_logistic(XN, PM1, objective="l1", l1=-1.0),
)
api("linear", "fit_logistic: labels in {0, 1}", lambda: linear.fit_logistic(XN, (PM1 + 1) // 2))
api("linear", "fit_logistic: one class", lambda: linear.fit_logistic(XN, np.ones(N, int)))
api("linear", "fit_logistic: x integer", lambda: linear.fit_logistic(XN.astype(int), PM1))
api(
    "linear",
    "fit_softmax: num_classes below the labels",
    lambda: linear.fit_softmax(XN, YK, num_classes=3),
)
api("linear", "fit_softmax: num_classes 0", lambda: linear.fit_softmax(XN, YK, num_classes=0))
api("linear", "fit_softmax: one class", lambda: linear.fit_softmax(XN, YK * 0))
api("linear", "fit_softmax: y float", lambda: linear.fit_softmax(XN, YK.astype(float)))
api("linear", "fit_softmax: epochs a bool", lambda: linear.fit_softmax(XN, YK, epochs=True))
api("linear", "backend: an unknown name", lambda: linear.backend("gpu"))
api("linear", "backend_name: not a namespace", lambda: linear.backend_name(5))
api("linear", "to_numpy: a string", lambda: linear.to_numpy("abc"))

# --------------------------------------------------------------------------------------------
# data (the folders of the environment variables are checked as the loaders read them)


def env(**values: str | None) -> tuple[tuple[str, str | None], ...]:
    return tuple(values.items())


api("data", "load_mnist: split 'validation'", lambda: data.load_mnist("validation"))
api("data", "load_mnist: split a number", lambda: data.load_mnist(5))
api("data", "load_mnist: split None", lambda: data.load_mnist(None))
api("data", "load_mnist: source 'internet'", lambda: data.load_mnist("train", source="internet"))
api("data", "load_mnist: source a list", lambda: data.load_mnist("train", source=["full"]))
api("data", "mnist_source: source 'internet'", lambda: data.mnist_source("internet"))
api("data", "read_idx: a folder", lambda: data.read_idx(w("empty")))
api("data", "read_idx: a missing file", lambda: data.read_idx(w("nowhere.idx")))
api("data", "read_idx: an unreadable file", lambda: data.read_idx(w("unreadable-idx3-ubyte.gz")))
api("data", "read_idx: path a number", lambda: data.read_idx(5))
api("data", "read_idx: path None", lambda: data.read_idx(None))
api("data", "read_idx: truncated", lambda: data.read_idx(w("truncated.idx")))
api("data", "read_idx: longer than its header", lambda: data.read_idx(w("long.idx")))
api("data", "read_idx: a wrong magic number", lambda: data.read_idx(w("magic.idx")))
api("data", "read_idx: a broken gzip stream", lambda: data.read_idx(w("badgzip.gz")))
api("data", "read_idx: an empty file", lambda: data.read_idx(w("empty.idx")))
api(
    "data",
    "$ADVLIB_DATA missing: load_mnist full",
    lambda: data.load_mnist("test", source="full"),
    env=env(ADVLIB_DATA=w("nowhere")),
)
api(
    "data",
    "$ADVLIB_DATA missing: load_mnist auto",
    lambda: data.load_mnist("test", source="auto"),
    env=env(ADVLIB_DATA=w("nowhere")),
)
api(
    "data",
    "$ADVLIB_DATA missing: mnist_source auto",
    lambda: data.mnist_source("auto"),
    env=env(ADVLIB_DATA=w("nowhere")),
)
api(
    "data",
    "$ADVLIB_DATA a file: load_mnist auto",
    lambda: data.load_mnist("test"),
    env=env(ADVLIB_DATA=w("a-file")),
)
api(
    "data",
    "$ADVLIB_DATA unreadable: load_mnist auto",
    lambda: data.load_mnist("test"),
    env=env(ADVLIB_DATA=w("fake-mnist")),
    deny=w("fake-mnist"),
)
api(
    "data",
    "$ADVLIB_DATA empty folder: load_mnist auto",
    lambda: data.load_mnist("test"),
    env=env(ADVLIB_DATA=w("empty")),
)
api(
    "data",
    "$ADVLIB_DATA incomplete: load_mnist full",
    lambda: data.load_mnist("train", source="full"),
    env=env(ADVLIB_DATA=w("half-mnist")),
)
api(
    "data",
    "$ADVLIB_DATA not MNIST: load_mnist full",
    lambda: data.load_mnist("test", source="full"),
    env=env(ADVLIB_DATA=w("fake-mnist")),
)
api(
    "data",
    "$ADVLIB_DATA not MNIST: load_dataset mnist",
    lambda: data.load_dataset("mnist", "train"),
    env=env(ADVLIB_DATA=w("fake-mnist")),
)
api(
    "data",
    "$ADVLIB_DATA not MNIST: describe_dataset",
    lambda: data.describe_dataset("mnist"),
    env=env(ADVLIB_DATA=w("fake-mnist")),
)
api(
    "data",
    "$ADVLIB_DATA a file: describe_dataset",
    lambda: data.describe_dataset("mnist"),
    env=env(ADVLIB_DATA=w("a-file")),
)
api("data", "verify_mnist: a folder not MNIST", lambda: data.verify_mnist(w("fake-mnist")))
api("data", "verify_mnist: half a set", lambda: data.verify_mnist(w("half-mnist")))
api("data", "verify_mnist: a file", lambda: data.verify_mnist(w("a-file")))
api("data", "load_fashion_mnist: split 'all'", lambda: data.load_fashion_mnist("all"))
api(
    "data",
    "load_fashion_mnist: directory a file",
    lambda: data.load_fashion_mnist("train", directory=w("a-file")),
)
api(
    "data",
    "load_fashion_mnist: directory missing",
    lambda: data.load_fashion_mnist("train", directory=w("nowhere")),
)
api(
    "data",
    "load_fashion_mnist: directory without the files",
    lambda: data.load_fashion_mnist("train", directory=w("empty")),
)
api(
    "data",
    "load_fashion_mnist: directory a number",
    lambda: data.load_fashion_mnist("train", directory=3),
)
api(
    "data",
    "load_fashion_mnist: labels that do not fit the images",
    lambda: data.load_fashion_mnist("test", directory=w("odd-fashion")),
)
api(
    "data",
    "load_fashion_mnist: labels above 9",
    lambda: data.load_fashion_mnist("train", directory=w("odd-fashion")),
)
api(
    "data",
    "$ADVLIB_FASHION_MNIST missing",
    lambda: data.load_fashion_mnist("train"),
    env=env(ADVLIB_FASHION_MNIST=w("nowhere")),
)
api(
    "data",
    "$ADVLIB_FASHION_MNIST a file",
    lambda: data.load_fashion_mnist("train"),
    env=env(ADVLIB_FASHION_MNIST=w("a-file")),
)
api(
    "data",
    "$ADVLIB_FASHION_MNIST unreadable",
    lambda: data.load_fashion_mnist("train"),
    env=env(ADVLIB_FASHION_MNIST=w("fake-mnist")),
    deny=w("fake-mnist"),
)
api(
    "data",
    "$ADVLIB_FASHION_MNIST without the files",
    lambda: data.load_fashion_mnist("test"),
    env=env(ADVLIB_FASHION_MNIST=w("half-mnist")),
)
api(
    "data",
    "$ADVLIB_FASHION_MNIST missing: fashion_mnist_available",
    lambda: data.fashion_mnist_available(),
    env=env(ADVLIB_FASHION_MNIST=w("nowhere")),
)
api(
    "data",
    "$ADVLIB_FASHION_MNIST a file: describe_dataset",
    lambda: data.describe_dataset("fashion-mnist"),
    env=env(ADVLIB_FASHION_MNIST=w("a-file")),
)
api("data", "load_dataset: an unknown name", lambda: data.load_dataset("cifar10", "train"))
api("data", "load_dataset: an unknown split", lambda: data.load_dataset("mnist-embedded", "valid"))
api("data", "describe_dataset: an unknown name", lambda: data.describe_dataset("svhn"))
api("data", "describe_dataset: a number", lambda: data.describe_dataset(5))
api("data", "binary_subset: the same class twice", lambda: data.binary_subset(X_IMG, Y_IMG, 3, 3))
api("data", "binary_subset: a class not in y", lambda: data.binary_subset(X_IMG, Y_IMG, 3, 11))
api("data", "binary_subset: x a list", lambda: data.binary_subset(X_IMG.tolist(), Y_IMG))
api("data", "binary_subset: labels float", lambda: data.binary_subset(X_IMG, Y_IMG.astype(float)))
api("data", "binary_subset: lengths differ", lambda: data.binary_subset(X_IMG, Y_IMG[:-1]))
api("data", "binary_subset: a class a string", lambda: data.binary_subset(X_IMG, Y_IMG, "3", 7))
api("data", "validation_split: fraction 0", lambda: data.validation_split(X_IMG, Y_IMG, 0.0))
api("data", "validation_split: fraction 1.0", lambda: data.validation_split(X_IMG, Y_IMG, 1.0))
api(
    "data",
    "validation_split: fraction a string",
    lambda: data.validation_split(X_IMG, Y_IMG, "0.1"),
)
api("data", "validation_split: count 0", lambda: data.validation_split(X_IMG, Y_IMG, 0))
api(
    "data",
    "validation_split: count of every example",
    lambda: data.validation_split(X_IMG, Y_IMG, 20),
)
api(
    "data",
    "validation_split: seed negative",
    lambda: data.validation_split(X_IMG, Y_IMG, 0.2, seed=-1),
)
api(
    "data",
    "validation_split: seed a float",
    lambda: data.validation_split(X_IMG, Y_IMG, 0.2, seed=0.5),
)
api(
    "data", "validation_split: lengths differ", lambda: data.validation_split(X_IMG, Y_IMG[:5], 0.2)
)
api("data", "dataset_id: x a list", lambda: data.dataset_id(X_IMG.tolist(), Y_IMG))

# --------------------------------------------------------------------------------------------
# paths: $ADVLIB_CACHE, read by everything that caches


api("paths", "$ADVLIB_CACHE a file: cache_dir", paths.cache_dir, env=env(ADVLIB_CACHE=w("a-file")))
api(
    "paths",
    "$ADVLIB_CACHE under a file: cache_dir",
    paths.cache_dir,
    env=env(ADVLIB_CACHE=w("a-file/cache")),
)
api(
    "paths",
    "$ADVLIB_CACHE unreadable: cache_dir",
    paths.cache_dir,
    env=env(ADVLIB_CACHE=w("empty")),
    deny=w("empty"),
)
api(
    "paths", "$ADVLIB_CACHE a file: models_dir", cache.models_dir, env=env(ADVLIB_CACHE=w("a-file"))
)
api(
    "paths",
    "$ADVLIB_CACHE a file: load_mnist full",
    lambda: data.load_mnist("test", source="full"),
    env=env(ADVLIB_CACHE=w("a-file"), ADVLIB_DATA=None),
)
api(
    "paths",
    "$ADVLIB_CACHE a file: zoo.trained",
    lambda: zoo.trained(zoo.recipe("softmax")),
    env=env(ADVLIB_CACHE=w("a-file")),
)

# --------------------------------------------------------------------------------------------
# models


api("models", "maxout_mlp: width 0", lambda: models.maxout_mlp(width=0))
api("models", "maxout_mlp: width 2.5", lambda: models.maxout_mlp(width=2.5))
api("models", "maxout_mlp: width True", lambda: models.maxout_mlp(width=True))
api("models", "maxout_mlp: width a string", lambda: models.maxout_mlp(width="240"))
api("models", "maxout_mlp: pieces 0", lambda: models.maxout_mlp(pieces=0))
api("models", "maxout_mlp: dropout 1.0", lambda: models.maxout_mlp(dropout=(0.2, 1.0)))
api("models", "maxout_mlp: dropout negative", lambda: models.maxout_mlp(dropout=(-0.1, 0.5)))
api("models", "maxout_mlp: dropout NaN", lambda: models.maxout_mlp(dropout=(math.nan, 0.5)))
api("models", "maxout_mlp: dropout a number", lambda: models.maxout_mlp(dropout=0.5))
api("models", "maxout_mlp: dropout a string", lambda: models.maxout_mlp(dropout="ab"))
api("models", "maxout_mlp: dropout of one", lambda: models.maxout_mlp(dropout=(0.2,)))
api("models", "maxout_mlp: max_norm negative", lambda: models.maxout_mlp(max_norm=-1))
api("models", "maxout_mlp: max_norm a string", lambda: models.maxout_mlp(max_norm="1.9"))
api("models", "maxout_mlp: max_norm NaN", lambda: models.maxout_mlp(max_norm=math.nan))
api("models", "maxout_mlp: output 'tanh'", lambda: models.maxout_mlp(output="tanh"))
api("models", "maxout_mlp: output None", lambda: models.maxout_mlp(output=None))
api("models", "MaxoutMLP: width 0", lambda: models.MaxoutMLP(0, 5, (0.2, 0.5), None, "softmax"))
api("models", "Maxout: width 0", lambda: models.Maxout(784, 0, 5))
api("models", "Maxout: pieces a float", lambda: models.Maxout(784, 4, 1.5))
api("models", "MaxoutMLP.features: layer 3", lambda: models.maxout_mlp(width=8).features(X784, 3))
api(
    "models",
    "MaxoutMLP.forward_from: layer -1",
    lambda: models.maxout_mlp(width=8).forward_from(-1, X784),
)
api("models", "rbf_network: init_beta 0", lambda: models.rbf_network(init_beta=0))
api("models", "rbf_network: init_beta a string", lambda: models.rbf_network(init_beta="0.05"))
api("models", "rbf_network: init_beta NaN", lambda: models.rbf_network(init_beta=math.nan))
api("models", "RBFNetwork: init_beta negative", lambda: models.RBFNetwork(-1.0))
api("models", "Ensemble: no members", lambda: models.Ensemble([]))
api("models", "Ensemble: a number", lambda: models.Ensemble(5))
api("models", "Ensemble: members that are not modules", lambda: models.Ensemble([1, 2]))
api("models", "Ensemble: one module, not a list", lambda: models.Ensemble(SOFTMAX))
api("models", "Ensemble: members of different sizes", lambda: models.Ensemble([SOFTMAX, MODEL]))

# --------------------------------------------------------------------------------------------
# rotation

DOUBLE = models.softmax_regression().double()
X64 = X784.double()

api("rotation", "rotate: x of 100 pixels", lambda: rotation.rotate(X784[:, :100], 0.1))
api("rotation", "rotate: x a list", lambda: rotation.rotate(X784.tolist(), 0.1))
api("rotation", "rotate: x integer", lambda: rotation.rotate((X784 * 255).long(), 0.1))
api("rotation", "rotate: theta of the wrong length", lambda: rotation.rotate(X784, torch.zeros(3)))
api("rotation", "rotate: theta NaN", lambda: rotation.rotate(X784, math.nan))
api("rotation", "rotate: theta a string", lambda: rotation.rotate(X784, "0.1"))
api("rotation", "rotate: theta None", lambda: rotation.rotate(X784, None))
api(
    "rotation",
    "rotation_attack: degrees negative",
    lambda: rotation.rotation_attack(DOUBLE, X64, Y10, -1.0),
)
api(
    "rotation",
    "rotation_attack: degrees a string",
    lambda: rotation.rotation_attack(DOUBLE, X64, Y10, "5"),
)
api(
    "rotation",
    "rotation_attack: degrees NaN",
    lambda: rotation.rotation_attack(DOUBLE, X64, Y10, math.nan),
)
api(
    "rotation",
    "rotation_attack: direction 'up'",
    lambda: rotation.rotation_attack(DOUBLE, X64, Y10, 2.0, direction="up"),
)
api(
    "rotation",
    "rotation_attack: seed negative",
    lambda: rotation.rotation_attack(DOUBLE, X64, Y10, 2.0, direction="random", seed=-1),
)
api(
    "rotation",
    "rotation_attack: model a string",
    lambda: rotation.rotation_attack("net", X64, Y10, 2.0),
)
api(
    "rotation",
    "rotation_gradient: y too short",
    lambda: rotation.rotation_gradient(DOUBLE, X64, Y10[:3]),
)
api(
    "rotation",
    "rotation_gradient: y float",
    lambda: rotation.rotation_gradient(DOUBLE, X64, Y10.float()),
)
api(
    "rotation",
    "rotation_gradient: y NumPy int32",
    lambda: rotation.rotation_gradient(DOUBLE, X64, Y10.numpy().astype(np.int32)),
)
api(
    "rotation",
    "rotation_gradient: x float32, the model float64",
    lambda: rotation.rotation_gradient(DOUBLE, X784, Y10),
)
api("rotation", "rotation_gradient: model None", lambda: rotation.rotation_gradient(None, X64, Y10))
api(
    "rotation",
    "rotation_curve: models a list",
    lambda: rotation.rotation_curve([DOUBLE], X64, Y10, [1.0]),
)
api("rotation", "rotation_curve: no models", lambda: rotation.rotation_curve({}, X64, Y10, [1.0]))
api(
    "rotation",
    "rotation_curve: degrees a string",
    lambda: rotation.rotation_curve({"m": DOUBLE}, X64, Y10, "5"),
)
api(
    "rotation",
    "rotation_curve: a negative angle",
    lambda: rotation.rotation_curve({"m": DOUBLE}, X64, Y10, [1.0, -1.0]),
)
api(
    "rotation",
    "rotation_curve: seed a float",
    lambda: rotation.rotation_curve({"m": DOUBLE}, X64, Y10, [1.0], seed=1.5),
)

# --------------------------------------------------------------------------------------------
# weights

api("weights", "weight_images: 100 pixels", lambda: weights.weight_images(np.zeros((3, 100))))
api("weights", "weight_images: a string", lambda: weights.weight_images("first_layer"))
api(
    "weights",
    "weight_images: NaN weights",
    lambda: weights.weight_images(np.full((2, 784), math.nan)),
)
api("weights", "weight_images: no units", lambda: weights.weight_images(np.zeros((0, 784))))
api(
    "weights",
    "weight_images: complex weights",
    lambda: weights.weight_images(np.zeros((2, 784), complex)),
)
api("weights", "top_share: fraction 0", lambda: weights.top_share(np.ones((1, 784)), 0.0))
api("weights", "top_share: fraction 1.5", lambda: weights.top_share(np.ones((1, 784)), 1.5))
api("weights", "top_share: fraction a string", lambda: weights.top_share(np.ones((1, 784)), "0.1"))
api("weights", "spread: a list of numbers", lambda: weights.spread([1.0, 2.0]))
api(
    "weights",
    "energy_share: a short mask",
    lambda: weights.energy_share(np.ones((1, 784)), np.ones(100, bool)),
)
api(
    "weights",
    "energy_share: a float mask",
    lambda: weights.energy_share(np.ones((1, 784)), np.full(784, 0.3)),
)
api(
    "weights",
    "localisation: fraction NaN",
    lambda: weights.localisation(np.ones((1, 784)), math.nan),
)

# --------------------------------------------------------------------------------------------
# generative

XG = np.random.default_rng(2).uniform(size=(30, 5)).astype(np.float32)
YG = np.arange(30) % 3

api(
    "generative",
    "covariance 'full'",
    lambda: generative.gaussian_classifier(XG, YG, covariance="full", num_classes=3),
)
api(
    "generative",
    "attack_loss 'hinge'",
    lambda: generative.gaussian_classifier(XG, YG, attack_loss="hinge", num_classes=3),
)
api(
    "generative",
    "var_smoothing 0",
    lambda: generative.gaussian_classifier(XG, YG, var_smoothing=0.0, num_classes=3),
)
api(
    "generative",
    "var_smoothing NaN",
    lambda: generative.gaussian_classifier(XG, YG, var_smoothing=math.nan, num_classes=3),
)
api(
    "generative",
    "var_smoothing True",
    lambda: generative.gaussian_classifier(XG, YG, var_smoothing=True, num_classes=3),
)
api(
    "generative",
    "var_smoothing a string",
    lambda: generative.gaussian_classifier(XG, YG, var_smoothing="0.01", num_classes=3),
)
api(
    "generative",
    "num_classes with a class missing",
    lambda: generative.gaussian_classifier(XG, YG, num_classes=4),
)
api(
    "generative", "num_classes 1", lambda: generative.gaussian_classifier(XG, YG * 0, num_classes=1)
)
api(
    "generative", "num_classes 2.5", lambda: generative.gaussian_classifier(XG, YG, num_classes=2.5)
)
api(
    "generative",
    "y float",
    lambda: generative.gaussian_classifier(XG, YG.astype(float), num_classes=3),
)
api(
    "generative",
    "y of the wrong length",
    lambda: generative.gaussian_classifier(XG, YG[:-1], num_classes=3),
)
api(
    "generative", "x a list", lambda: generative.gaussian_classifier(XG.tolist(), YG, num_classes=3)
)
api(
    "generative",
    "x integer",
    lambda: generative.gaussian_classifier((XG * 9).astype(int), YG, num_classes=3),
)
api(
    "generative",
    "x holding NaN",
    lambda: generative.gaussian_classifier(with_value(XG, math.nan), YG, num_classes=3),
)

# --------------------------------------------------------------------------------------------
# train: the recipe (validated once) and fit

for label, fields in {
    "model 'cnn'": dict(model="cnn"),
    "training 'robust'": dict(training="robust"),
    "width 0": dict(width=0),
    "width 2.5": dict(width=2.5),
    "epochs 0": dict(epochs=0),
    "batch_size 0": dict(batch_size=0),
    "seed negative": dict(seed=-1),
    "seed a float": dict(seed=1.5),
    "seed a string": dict(seed="0"),
    "lr 0": dict(lr=0),
    "lr negative": dict(lr=-1e-3),
    "lr_end 0": dict(lr_end=0.0),
    "eps negative": dict(eps=-0.1),
    "eps a tensor of per-example values": dict(eps=torch.full((4,), 0.1)),
    "eps NaN": dict(eps=math.nan),
    "valid_eps a NumPy vector": dict(valid_eps=np.full(3, 0.1)),
    "alpha 0": dict(alpha=0.0),
    "alpha 1.5": dict(alpha=1.5),
    "dropout 1": dict(dropout=(1.0, 0.5)),
    "momentum above 1": dict(momentum=(1.2, 0.7)),
    "clip reversed": dict(clip=(1.0, 0.0)),
    "valid 0": dict(valid=0),
    "valid 1.5": dict(valid=1.5),
    "valid True": dict(valid=True),
    "patience 0": dict(patience=0),
    "retrain without early stopping": dict(retrain=True),
    "hidden training of softmax": dict(model="softmax", training="hidden"),
    "layer 3": dict(training="hidden", layer=3),
    "dataset 'cifar'": dict(dataset="cifar"),
    "optimizer 'rmsprop'": dict(optimizer="rmsprop"),
    "early_stopping 'test'": dict(early_stopping="test"),
    "fgsm_dropout 'maybe'": dict(fgsm_dropout="maybe"),
    "retrain a string": dict(retrain="yes"),
    "curves 1": dict(curves=1),
}.items():
    api("train", f"Recipe: {label}", lambda fields=fields: Recipe(**fields))

api("train", "fit: model a string", lambda: train.fit("softmax", X_IMG, Y_IMG, RECIPE))
api(
    "train",
    "fit: recipe a dict",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, {"epochs": 1}),
)
api(
    "train",
    "fit: pixels above 1",
    lambda: train.fit(models.softmax_regression(), X_IMG * 2, Y_IMG, RECIPE),
)
api(
    "train",
    "fit: pixels below 0",
    lambda: train.fit(models.softmax_regression(), X_IMG - 0.5, Y_IMG, RECIPE),
)
api(
    "train",
    "fit: x holding NaN",
    lambda: train.fit(models.softmax_regression(), with_value(X_IMG, math.nan), Y_IMG, RECIPE),
)
api(
    "train",
    "fit: x float64",
    lambda: train.fit(models.softmax_regression(), X_IMG.astype(np.float64), Y_IMG, RECIPE),
)
api(
    "train",
    "fit: x integer",
    lambda: train.fit(models.softmax_regression(), (X_IMG * 255).astype(np.uint8), Y_IMG, RECIPE),
)
api(
    "train",
    "fit: one class",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG * 0, RECIPE),
)
api(
    "train",
    "fit: y int32",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG.astype(np.int32), RECIPE),
)
api(
    "train",
    "fit: y float",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG.astype(float), RECIPE),
)
api(
    "train",
    "fit: y of the wrong length",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG[:-2], RECIPE),
)
api(
    "train",
    "fit: labels above 9",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG + 5, RECIPE),
)
api(
    "train",
    "fit: device 'gpu'",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, RECIPE, device="gpu"),
)
if not torch.cuda.is_available():
    api(
        "train",
        "fit: device 'cuda' without a GPU",
        lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, RECIPE, device="cuda"),
    )
api(
    "train",
    "fit: test not a pair",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, RECIPE, test=X_IMG),
)
api(
    "train",
    "fit: test x of the wrong width",
    lambda: train.fit(
        models.softmax_regression(), X_IMG, Y_IMG, RECIPE, test=(X_IMG[:, :5], Y_IMG)
    ),
)
api("train", "fit: weights holding NaN", lambda: train.fit(NAN_MODEL, X_IMG, Y_IMG, RECIPE))
api(
    "train",
    "fit: checkpoint a folder",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, RECIPE, checkpoint=w("empty")),
)
api(
    "train",
    "fit: checkpoint under a file",
    lambda: train.fit(
        models.softmax_regression(), X_IMG, Y_IMG, RECIPE, checkpoint=w("a-file/run.ckpt")
    ),
)
api(
    "train",
    "fit: checkpoint a number",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, RECIPE, checkpoint=3),
)
api(
    "train",
    "fit: progress a string",
    lambda: train.fit(models.softmax_regression(), X_IMG, Y_IMG, RECIPE, progress="yes"),
)
api(
    "train",
    "fit: l1 on a model without first_layer",
    lambda: train.fit(Shapeless(10), X_IMG[:, :D], Y_IMG, Recipe(l1=0.01, epochs=1)),
)
api(
    "train",
    "fit: hidden training of softmax regression",
    lambda: train.fit(
        models.softmax_regression(), X_IMG, Y_IMG, Recipe(training="hidden", epochs=1)
    ),
)

# --------------------------------------------------------------------------------------------
# zoo

api("zoo", "recipe: an unknown name", lambda: zoo.recipe("resnet"))
api("zoo", "recipe: scale 'huge'", lambda: zoo.recipe("maxout", scale="huge"))
api("zoo", "recipe: dataset 'cifar'", lambda: zoo.recipe("maxout", dataset="cifar"))
api("zoo", "recipe: seed negative", lambda: zoo.recipe("maxout", seed=-1))
api("zoo", "recipe: seed a string", lambda: zoo.recipe("maxout", seed="1"))
api("zoo", "recipe: epoch_cap negative", lambda: zoo.recipe("maxout", epoch_cap=-1))
api("zoo", "recipe: epoch_cap 1.5", lambda: zoo.recipe("maxout", epoch_cap=1.5))
api("zoo", "recipe: an unknown override", lambda: zoo.recipe("maxout", epochz=3))
api("zoo", "recipe: an override of the wrong type", lambda: zoo.recipe("maxout", lr="fast"))
api("zoo", "trained: a dict, not a Recipe", lambda: zoo.trained({"model": "softmax"}))
api("zoo", "trained: device 'gpu'", lambda: zoo.trained(zoo.recipe("softmax"), device="gpu"))
api("zoo", "trained_ensemble: no recipes", lambda: zoo.trained_ensemble([]))
api("zoo", "trained_ensemble: a number", lambda: zoo.trained_ensemble(5))
api("zoo", "trained_ensemble: strings", lambda: zoo.trained_ensemble(["maxout"]))
api("zoo", "train_all: workers 0", lambda: zoo.train_all([zoo.recipe("softmax")], workers=0))
api("zoo", "train_all: workers 1.5", lambda: zoo.train_all([zoo.recipe("softmax")], workers=1.5))
api(
    "zoo",
    "train_all: workers and a scheduler",
    lambda: zoo.train_all([zoo.recipe("softmax")], workers=2, scheduler="tcp://h:8786"),
)
api("zoo", "scale_dataset: scale 'big'", lambda: zoo.scale_dataset("big"))
api("zoo", "scale_dataset: dataset 'svhn'", lambda: zoo.scale_dataset("quick", "svhn"))

# --------------------------------------------------------------------------------------------
# cache


def _make():
    return models.softmax_regression()


def _train(model, checkpoint):
    return {"epochs": [], "seconds": 0.0}


api("cache", "model_key: config not JSON", lambda: cache.model_key({"f": object()}, "abc"))
api("cache", "model_key: config a list", lambda: cache.model_key([1, 2], "abc"))
api("cache", "model_key: data_id a number", lambda: cache.model_key({}, 5))
api(
    "cache",
    "model_path: name with a slash",
    lambda: cache.model_path({}, "abc", name="../../escape"),
)
api("cache", "model_path: name empty", lambda: cache.model_path({}, "abc", name=""))
api("cache", "model_path: folder a file", lambda: cache.model_path({}, "abc", folder=w("a-file")))
api(
    "cache",
    "load_or_train: make not callable",
    lambda: cache.load_or_train({}, "abc", 5, _train, folder=w("models")),
)
api(
    "cache",
    "load_or_train: train not callable",
    lambda: cache.load_or_train({}, "abc", _make, "fit", folder=w("models")),
)
api(
    "cache",
    "load_or_train: make builds no module",
    lambda: cache.load_or_train({"bad": 1}, "abc", lambda: "net", _train, folder=w("models")),
)
api(
    "cache",
    "load_or_train: train returns no dict",
    lambda: cache.load_or_train({"bad": 2}, "abc", _make, lambda m, c: [1], folder=w("models")),
)
api(
    "cache",
    "load_or_train: accept not callable",
    lambda: cache.load_or_train({}, "abc", _make, _train, folder=w("models"), accept=True),
)
api(
    "cache",
    "store: weights holding NaN",
    lambda: cache.store(work() / "models" / "nan.pt", "k", {}, NAN_MODEL.state_dict(), {}),
)
api(
    "cache",
    "store: a history not JSON",
    lambda: cache.store(work() / "models" / "h.pt", "k", {}, SOFTMAX.state_dict(), {"f": object()}),
)
api(
    "cache",
    "store: state_dict a list",
    lambda: cache.store(work() / "models" / "s.pt", "k", {}, [1, 2], {}),
)

# --------------------------------------------------------------------------------------------
# measure

MODELS = {"softmax": SOFTMAX}

api("measure", "predict: model a string", lambda: measure.predict("softmax", X784))
api("measure", "predict: x NumPy int", lambda: measure.predict(SOFTMAX, np.ones((N, 784), int)))
api("measure", "predict: x of the wrong width", lambda: measure.predict(SOFTMAX, X784[:, :10]))
api("measure", "predict: x float64", lambda: measure.predict(SOFTMAX, X784.double()))
api("measure", "predict: x a list", lambda: measure.predict(SOFTMAX, X784.tolist()))
api("measure", "evaluate: eps negative", lambda: measure.evaluate(SOFTMAX, X784, Y10, -1.0))
api(
    "measure",
    "evaluate: eps an array",
    lambda: measure.evaluate(SOFTMAX, X784, Y10, np.full(N, 0.1)),
)
api("measure", "evaluate: eps a string", lambda: measure.evaluate(SOFTMAX, X784, Y10, "0.1"))
api(
    "measure",
    "evaluate: clip a number",
    lambda: measure.evaluate(SOFTMAX, X784, Y10, 0.1, clip=1.0),
)
api("measure", "evaluate: y float", lambda: measure.evaluate(SOFTMAX, X784, Y10.float()))
api("measure", "evaluate: y int32", lambda: measure.evaluate(SOFTMAX, X784, Y10.int()))
api("measure", "evaluate: labels above 9", lambda: measure.evaluate(SOFTMAX, X784, Y10 + 5))
api("measure", "monitor: eps negative", lambda: measure.monitor(SOFTMAX, X784, Y10, -0.1))
api(
    "measure",
    "monitor: prefix a number",
    lambda: measure.monitor(SOFTMAX, X784, Y10, 0.1, prefix=3),
)
api(
    "measure",
    "fgsm_summary: models a list",
    lambda: measure.fgsm_summary([SOFTMAX], X784, Y10, 0.1),
)
api(
    "measure",
    "fgsm_summary: eps an array",
    lambda: measure.fgsm_summary(MODELS, X784, Y10, np.full(N, 0.1)),
)
api(
    "measure",
    "fgsm_summary: clipped reversed",
    lambda: measure.fgsm_summary(MODELS, X784, Y10, 0.1, clipped=(1, 0)),
)
api(
    "measure",
    "adversarial: attack 'cw'",
    lambda: measure.adversarial(SOFTMAX, X784, Y10, 0.1, attack="cw"),
)
api(
    "measure",
    "adversarial: steps 0",
    lambda: measure.adversarial(SOFTMAX, X784, Y10, 0.1, attack="bim", steps=0),
)
api(
    "measure",
    "adversarial: seed negative",
    lambda: measure.adversarial(SOFTMAX, X784, Y10, 0.1, attack="pgd", seed=-1),
)
api(
    "measure",
    "adversarial: step negative",
    lambda: measure.adversarial(SOFTMAX, X784, Y10, 0.1, attack="bim", step=-0.1),
)
api(
    "measure",
    "adversarial: eps an array",
    lambda: measure.adversarial(SOFTMAX, X784, Y10, np.full(N, 0.1)),
)
api(
    "measure",
    "robustness_curve: models a list",
    lambda: measure.robustness_curve([SOFTMAX], X784, Y10, [0.1]),
)
api(
    "measure",
    "robustness_curve: eps_grid a string",
    lambda: measure.robustness_curve(MODELS, X784, Y10, "0.1"),
)
api(
    "measure",
    "robustness_curve: a negative eps",
    lambda: measure.robustness_curve(MODELS, X784, Y10, [0.1, -0.1]),
)
api(
    "measure",
    "transfer: target a string",
    lambda: measure.transfer(SOFTMAX, "maxout", X784, Y10, 0.1),
)
api("measure", "example_digits: n 0", lambda: measure.example_digits(SOFTMAX, X784, Y10, 0.1, n=0))
api(
    "measure",
    "example_digits: n a string",
    lambda: measure.example_digits(SOFTMAX, X784, Y10, 0.1, n="3"),
)
api(
    "measure",
    "example_digits: seed negative",
    lambda: measure.example_digits(SOFTMAX, X784, Y10, 0.1, seed=-2),
)
api(
    "measure",
    "agreement: predictions a list",
    lambda: measure.agreement([Y10.numpy()], Y10.numpy()),
)
api(
    "measure",
    "agreement: shapes differ",
    lambda: measure.agreement({"a": Y10.numpy()[:-1], "b": Y10.numpy()}, Y10.numpy()),
)
api(
    "measure", "fgsm_direction: y float", lambda: measure.fgsm_direction(SOFTMAX, X784, Y10.float())
)
api(
    "measure",
    "scores_along_fgsm: eps_grid of strings",
    lambda: measure.scores_along_fgsm(SOFTMAX, X784, Y10, ["a", "b"]),
)
api(
    "measure",
    "piecewise_linear_fit: pieces 5",
    lambda: measure.piecewise_linear_fit(np.arange(5.0), np.arange(5.0), pieces=5),
)
api(
    "measure",
    "piecewise_linear_fit: lengths differ",
    lambda: measure.piecewise_linear_fit(np.arange(5.0), np.arange(4.0)),
)
api(
    "measure",
    "fooled_range: shapes differ",
    lambda: measure.fooled_range(np.zeros((3, 4, 10)), np.zeros(3, int), [0.1, 0.2]),
)
api("measure", "rubbish: n 0", lambda: measure.rubbish(MODELS, n=0))
api("measure", "rubbish: threshold 1.5", lambda: measure.rubbish(MODELS, n=10, threshold=1.5))
api("measure", "rubbish: seed negative", lambda: measure.rubbish(MODELS, n=10, seed=-1))
api("measure", "rubbish: models a list", lambda: measure.rubbish([SOFTMAX], n=10))

# --------------------------------------------------------------------------------------------
# command line: every verb

cli("no verb")
cli("an unknown verb", "train-all")
cli("run: an unknown option", "run", "@tiny", "--fast")
cli("params: a missing file", "params", "nowhere.py")
cli("params: a folder", "params", str(ROOT / "chapters"))
cli("params: a .py file without cells", "params", "@plain.py")
cli("params: a binary file", "params", "@binary.py")
cli("params: a text file", "params", "@notes.txt")
cli("params: a broken notebook", "params", "@broken.ipynb")
cli("params: an unreadable file", "params", "@unreadable.py")
cli("params: a parameters cell with a non-literal", "params", "@nonliteral.py")
cli("params: no chapter", "params")
cli("run: a missing file", "run", "nowhere.py")
cli("run: a folder", "run", str(ROOT / "chapters"))
cli("run: a .py file without cells", "run", "@plain.py")
cli("run: a binary file", "run", "@binary.py")
cli("run: a text file", "run", "@notes.txt")
cli("run: an unreadable file", "run", "@unreadable.py")
cli("run: -o under a file", "run", "@tiny", "-o", "@a-file/out.ipynb")
cli("run: -o a folder", "run", "@tiny", "-o", "@empty")
cli("run: --output under a file", "run", "@tiny", "--output", "@a-file/deeper/out.ipynb")
cli("run: a NaN parameter", "run", "@tiny", "-p", "eps", "nan")
cli("run: an infinite parameter", "run", "@tiny", "-p", "eps", "inf")
cli("run: the same -p twice", "run", "@tiny", "-p", "eps", "0.1", "-p", "eps", "0.2")
cli("run: an unknown parameter", "run", "@tiny", "-p", "epz", "0.1")
cli("run: a value of the wrong type", "run", "@tiny", "-p", "seed", "1.5")
cli("run: a choice not allowed", "run", "@tiny", "-p", "mode", "c")
cli("run: -p with one value", "run", "@tiny", "-p", "eps")
cli("run: no chapter", "run")
cli(
    "run: $ADVLIB_CACHE a file",
    "run",
    "@tiny",
    "-o",
    "@empty/out.ipynb",
    env=env(ADVLIB_CACHE="@a-file"),
)
cli(
    "run: $ADVLIB_DATA missing",
    "run",
    "@tiny",
    "-o",
    "@empty/out.ipynb",
    env=env(ADVLIB_DATA="@nowhere"),
)
cli("book: ROOT missing", "book", "@nowhere")
cli("book: ROOT a file", "book", "@a-file")
cli("book: ROOT without _toc.yml", "book", "/")
cli("book: a _toc.yml that does not parse", "book", "@bad.toc")
cli("book: a parameter no chapter has", "book", "@book", "-p", "epz", "0.1")
cli("book: a NaN parameter", "book", "@book", "-p", "eps", "nan")
cli("book: the same -p twice", "book", "@book", "-p", "eps", "0.1", "-p", "eps", "0.3")
cli("book: a value of the wrong type", "book", "@book", "-p", "seed", "one")
cli("book: -p with --render-only", "book", "@book", "--render-only", "-p", "eps", "0.1")
cli("book: $ADVLIB_FASHION_MNIST a file", "book", "@book", env=env(ADVLIB_FASHION_MNIST="@a-file"))
cli("train: a chapter that trains nothing", "train", "--chapter", "03_nowhere")
cli("train: --epoch-cap negative", "train", "--epoch-cap", "-1")
cli("train: --epoch-cap a fraction", "train", "--epoch-cap", "1.5")
cli("train: --scale 'huge'", "train", "--scale", "huge")
cli("train: --scheduler not an address", "train", "--scheduler", "my laptop")
cli("train: $ADVLIB_CACHE a file", "train", env=env(ADVLIB_CACHE="@a-file"))
cli("book: --epoch-cap negative", "book", "@book", "--epoch-cap", "-2")
cli("train: --workers 0", "train", "--workers", "0")
cli("train: --workers 'all'", "train", "--workers", "all")
cli("train: --workers and --scheduler", "train", "--workers", "2", "--scheduler", "tcp://h:8786")
cli("book: --workers -1", "book", "@book", "--workers", "-1")
cli("book: --workers with --render-only", "book", "@book", "--render-only", "--workers", "2")
cli("book: -p scale instead of --scale", "book", "@book", "-p", "scale", "paper")
cli("download: DIRECTORY a file", "download", "@a-file")
cli("download: DIRECTORY under a file", "download", "@a-file/mnist")
cli("download: $ADVLIB_CACHE a file", "download", env=env(ADVLIB_CACHE="@a-file"))
cli("download: two folders", "download", "@empty", "@empty")
cli("sweep: a missing chapter", "sweep", "nowhere.py", "-p", "eps", "0.1")
cli("sweep: a folder", "sweep", str(ROOT / "chapters"), "-p", "eps", "0.1")
cli("sweep: a text file", "sweep", "@notes.txt", "-p", "eps", "0.1")
cli("sweep: --out a file", "sweep", "@tiny", "-p", "eps", "0.1", "--out", "@a-file")
cli("sweep: --out under a file", "sweep", "@tiny", "-p", "eps", "0.1", "--out", "@a-file/sweep")
cli(
    "sweep: --metric not recorded",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "--metric",
    "accuracy",
    "--out",
    "@empty/s1",
)
cli(
    "sweep: --metric a parameter",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "--metric",
    "eps",
    "--out",
    "@empty/s2",
)
cli(
    "sweep: --metric a table column",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "--metric",
    "seconds",
    "--out",
    "@empty/s3",
)
cli("sweep: a NaN value", "sweep", "@tiny", "-p", "eps", "0.1", "nan", "--out", "@empty/s4")
cli(
    "sweep: the same -p twice",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "-p",
    "eps",
    "0.2",
    "--out",
    "@empty/s5",
)
cli("sweep: an unknown parameter", "sweep", "@tiny", "-p", "epz", "0.1", "--out", "@empty/s6")
cli(
    "sweep: a value of the wrong type",
    "sweep",
    "@tiny",
    "-p",
    "seed",
    "0",
    "x",
    "--out",
    "@empty/s7",
)
cli("sweep: -p without values", "sweep", "@tiny", "-p", "eps", "--out", "@empty/s8")
cli("sweep: --workers 0", "sweep", "@tiny", "-p", "eps", "0.1", "--workers", "0")
cli("sweep: --threads -1", "sweep", "@tiny", "-p", "eps", "0.1", "--threads", "-1")
cli("sweep: --workers a word", "sweep", "@tiny", "-p", "eps", "0.1", "--workers", "many")
cli(
    "sweep: --scheduler not an address",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "--scheduler",
    "my laptop",
    "--out",
    "@empty/s9",
)
cli(
    "sweep: $ADVLIB_DATA a file",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "--out",
    "@empty/s10",
    env=env(ADVLIB_DATA="@a-file"),
)
# the same checks, as processes: the real exit status and stderr
cli("run: a missing file (process)", "run", "nowhere.py", process=True)
cli("params: a folder (process)", "params", str(ROOT), process=True)
cli("book: ROOT missing (process)", "book", "@nowhere", process=True)
cli(
    "sweep: --metric not recorded (process)",
    "sweep",
    "@tiny",
    "-p",
    "eps",
    "0.1",
    "--metric",
    "accuracy",
    "--out",
    "@empty/s11",
    process=True,
)
cli("download: DIRECTORY a file (process)", "download", "@a-file", process=True)


# --------------------------------------------------------------------------------------------
# Trying a case


def _resolve(arg: str) -> str:
    if arg == "@tiny":
        return tiny()
    return w(arg[1:]) if arg.startswith("@") else arg


@contextlib.contextmanager
def _environment(case: Case):
    saved = {name: os.environ.get(name) for name, _ in case.env}
    for name, value in case.env:
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = _resolve(value)
    denied = case.deny
    real_access = os.access
    if denied is not None:
        if os.geteuid() == 0:  # root reads everything: stand in for a user who may not

            def access(path, mode, *a, **kw):
                if Path(path) == Path(denied) and mode & (os.R_OK | os.W_OK | os.X_OK):
                    return False
                return real_access(path, mode, *a, **kw)

            os.access = access
        else:
            os.chmod(denied, 0)
    try:
        yield
    finally:
        if denied is not None:
            os.access = real_access
            os.chmod(denied, 0o755)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _in_advlib(filename: str) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(ADVLIB)
    except OSError:
        return False


def try_api(case: Case) -> tuple[str, str]:
    """("clear" | "silent" | "raw" | "unclear", what happened)."""
    try:
        with _environment(case):
            case.call()
    except (ValueError, TypeError) as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        message = str(exc)
        if not frames or not _in_advlib(frames[-1].filename):
            where = frames[-1].filename if frames else "?"
            return "raw", f"{type(exc).__name__} raised in {where}: {message}"
        context = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if context is not None:
            return "raw", f"{type(exc).__name__} chained to {type(context).__name__}: {message}"
        if not any(word in message for word in ALLOWED):
            return "unclear", f"{type(exc).__name__}: {message}"
        return "clear", f"{type(exc).__name__}: {message}"
    except Exception as exc:  # noqa: BLE001  (what a bad input must never produce)
        return "raw", f"{type(exc).__name__}: {exc}"
    return "silent", "no error"


def _judge_cli(code, stderr: str) -> tuple[str, str]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    shown = " | ".join(lines)[:300]
    if code == 0:
        return "silent", "exit status 0"
    if code != 2:
        return "raw", f"exit status {code}: {shown}"
    if len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in stderr:
        return "unclear", f"{len(lines)} lines on stderr: {shown}"
    if not any(word in lines[0] for word in ALLOWED):
        return "unclear", shown
    return "clear", shown


def try_cli(case: Case) -> tuple[str, str]:
    argv = [_resolve(a) for a in case.argv]
    if case.process:
        environment = {**os.environ, **{k: _resolve(v) for k, v in case.env if v is not None}}
        proc = subprocess.run(
            [sys.executable, "-m", "advlib", *argv],
            capture_output=True,
            text=True,
            cwd=work(),
            env=environment,
            timeout=120,
        )
        return _judge_cli(proc.returncode, proc.stderr)
    from advlib.book.cli import main

    err, out = io.StringIO(), io.StringIO()
    try:
        with _environment(case), contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # noqa: BLE001
        return "raw", f"{type(exc).__name__}: {exc}"
    return _judge_cli(code, err.getvalue())


def try_case(case: Case) -> tuple[str, str]:
    return try_cli(case) if case.argv is not None else try_api(case)


# --------------------------------------------------------------------------------------------
# The tests and the table


@pytest.mark.parametrize(
    "case",
    # a command-line case starts a Python process (seconds each): slow, out of the fast loop
    [pytest.param(c, marks=pytest.mark.slow) if c.argv is not None else c for c in CASES],
    ids=[c.id for c in CASES],
)
def test_bad_input_gets_one_clear_error(case):
    outcome, what = try_case(case)
    assert outcome == "clear", f"{case.id}: {outcome}: {what}"


def test_at_least_250_bad_inputs_are_tried():
    assert len({c.id for c in CASES}) == len(CASES) >= 250


def table(cases: list[Case] | None = None) -> str:
    """A Markdown table: per module or verb, the bad inputs tried and how each ended."""
    rows: dict[str, dict[str, int]] = {}
    failures = []
    for case in cases or CASES:
        outcome, what = try_case(case)
        row = rows.setdefault(case.group, {"tried": 0, "clear": 0, "silent": 0, "other": 0})
        row["tried"] += 1
        row[outcome if outcome in ("clear", "silent") else "other"] += 1
        if outcome != "clear":
            failures.append(f"{case.id}: {outcome}: {what}")
    order = sorted(rows, key=lambda g: (g.startswith("cli"), g))
    lines = [
        "| module or verb | bad inputs tried | clear errors | silently accepted | other |",
        "|---|---:|---:|---:|---:|",
    ]
    for group in order:
        r = rows[group]
        lines.append(f"| {group} | {r['tried']} | {r['clear']} | {r['silent']} | {r['other']} |")
    total = {k: sum(r[k] for r in rows.values()) for k in ("tried", "clear", "silent", "other")}
    lines.append(
        f"| **all** | **{total['tried']}** | **{total['clear']}** | "
        f"**{total['silent']}** | **{total['other']}** |"
    )
    return "\n".join(lines + ([""] + failures if failures else []))


if __name__ == "__main__":
    os.environ.setdefault("ADVLIB_CACHE", str(ROOT / ".cache" / "advlib"))
    os.environ["ADVLIB_RESULTS"] = "off"
    print(table())
