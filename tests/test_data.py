"""advlib.data: the embedded MNIST split, the IDX reader, the download path, Fashion-MNIST."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import time
from pathlib import Path

import numpy as np
import pytest

from advlib import data
from advlib.data import DataError


def write_idx(
    path: Path, array: np.ndarray, *, magic: bytes | None = None, gz: bool = False, cut: int = 0
) -> Path:
    """Write ``array`` (uint8) as an IDX file; ``magic`` overrides the header, ``cut`` drops bytes."""
    header = magic if magic is not None else bytes([0, 0, 0x08, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + dims + array.astype(np.uint8).tobytes()
    raw = raw[: len(raw) - cut] if cut else raw
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_mnist_like(folder: Path, n_train: int = 30, n_test: int = 20, gz: bool = True) -> None:
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            folder / f"{split}-images-idx3-ubyte{suffix}",
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            gz=gz,
        )
        write_idx(
            folder / f"{split}-labels-idx1-ubyte{suffix}", np.arange(n, dtype=np.uint8) % 10, gz=gz
        )


def raw_digests(folder: Path) -> dict[str, str]:
    """The sha256 of each IDX file's decompressed content in ``folder``, by stem."""
    digests = {}
    for stem in data.MNIST_RAW_SHA256:
        path = next(folder.glob(stem + "*"))
        digests[stem] = hashlib.sha256(data._read_decompressed(path)).hexdigest()
    return digests


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    """A 30 / 20 stand-in for full MNIST in ``$ADVLIB_DATA``, recognised as full MNIST: the
    digests advlib checks are set to these files' (the real ones are tested further down)."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_mnist_like(folder)
    monkeypatch.setattr(data, "MNIST_RAW_SHA256", raw_digests(folder))
    monkeypatch.setenv("ADVLIB_DATA", str(folder))
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path / "cache"))
    return folder


SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


# --- the embedded 5,000 digits -------------------------------------------------------------


@pytest.mark.parametrize("split, n", [("train", 4000), ("test", 1000)])
def test_embedded_mnist_shapes_dtypes_ranges_and_class_balance(split, n):
    x, y = data.load_mnist(split, source="embedded")
    assert x.shape == (n, 784) and x.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(y, minlength=10).tolist() == [n // 10] * 10
    # real digits, not noise: most pixels are background, strokes are bright
    assert 0.7 < (x == 0).mean() < 0.9


def test_embedded_split_is_stable_across_calls_and_disjoint():
    x1, y1 = data.load_mnist("train", source="embedded")
    x2, y2 = data.load_mnist("train", source="embedded")
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    xt, _ = data.load_mnist("test", source="embedded")
    train_rows = {row.tobytes() for row in x1}
    test_rows = {row.tobytes() for row in xt}
    assert len(train_rows) == 4000 and len(test_rows) == 1000
    assert not train_rows & test_rows
    original = x1[0, 0].copy()
    x1[0, 0] = original + 0.5  # callers get copies: mutating one does not change the next load
    assert data.load_mnist("train", source="embedded")[0][0, 0] == original


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "validation"}, "split must be one of"),
        ({"source": "internet"}, "source must be one of"),
    ],
)
def test_load_mnist_rejects_unknown_split_or_source(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_mnist(**kwargs)


def test_auto_source_is_embedded_without_full_mnist_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path))
    monkeypatch.delenv("ADVLIB_DATA", raising=False)
    assert data.mnist_source("auto") == "embedded"
    assert data.load_mnist("test", source="auto")[0].shape == (1000, 784)


def test_auto_source_reads_full_mnist_from_advlib_data(small_mnist):
    assert data.mnist_source("auto") == "full"
    x, y = data.load_mnist("test", source="auto")
    assert x.shape == (20, 784) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    assert y.tolist() == [i % 10 for i in range(20)]


@pytest.mark.parametrize("source", ["auto", "full"])
def test_a_copy_that_is_not_the_standard_files_is_refused(tmp_path, monkeypatch, source):
    """Files of the right names and format but other content (here random digits) are not
    full MNIST: a DataError naming the file, never a silent load or a fall-back."""
    write_mnist_like(tmp_path)
    monkeypatch.setenv("ADVLIB_DATA", str(tmp_path))
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(
        DataError,
        match=r"t10k-images-idx3-ubyte\.gz is not the standard MNIST "
        r"t10k-images-idx3-ubyte: its decompressed content",
    ):
        data.load_mnist("test", source=source)


@pytest.mark.parametrize("how", ["gzip level 1", "not compressed", "xz", "bzip2"])
def test_the_same_content_compressed_another_way_is_recognised(small_mnist, how):
    for path in list(small_mnist.iterdir()):
        raw = gzip.decompress(path.read_bytes())
        path.unlink()
        stem = path.with_suffix("")
        if how == "gzip level 1":
            path.write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
        elif how == "not compressed":
            stem.write_bytes(raw)
        elif how == "xz":
            stem.with_name(stem.name + ".xz").write_bytes(lzma.compress(raw))
        else:
            stem.with_name(stem.name + ".bz2").write_bytes(bz2.compress(raw))
    x, y = data.load_mnist("train", source="full")
    assert x.shape == (30, 784) and y.tolist() == [i % 10 for i in range(30)]


def test_one_changed_pixel_is_a_corrupt_copy(small_mnist):
    path = small_mnist / "train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 0xFF  # the last pixel of the last digit
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is not the standard MNIST"):
        data.load_mnist("train", source="full")
    assert data.load_mnist("test", source="full")[0].shape == (20, 784)  # its files are fine


def test_each_file_is_hashed_once_then_trusted_by_path_size_and_time(small_mnist, monkeypatch):
    hashed = []
    check = data._check_content
    monkeypatch.setattr(
        data,
        "_check_content",
        lambda raw, path, stem: (hashed.append(path.name), check(raw, path, stem))[1],
    )
    data.load_mnist("test", source="full")
    assert sorted(hashed) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    data.load_mnist("test", source="full")
    assert len(hashed) == 2  # the second load trusts the records
    records = Path(os.environ["ADVLIB_CACHE"]) / "data" / "verified.json"
    assert len(__import__("json").loads(records.read_text())) == 2
    labels = small_mnist / "t10k-labels-idx1-ubyte.gz"
    os.utime(labels, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched: hashed again
    data.load_mnist("test", source="full")
    assert hashed[2:] == ["t10k-labels-idx1-ubyte.gz"]


def test_an_unreadable_record_file_only_costs_a_hash(small_mnist):
    records = Path(os.environ["ADVLIB_CACHE"]) / "data" / "verified.json"
    data.load_mnist("test", source="full")
    records.write_text("{not json")
    assert data.load_mnist("test", source="full")[1].shape == (20,)


@pytest.mark.parametrize("problem", ["missing", "a file", "incomplete", "empty"])
def test_advlib_data_that_does_not_hold_full_mnist_is_an_error_not_the_embedded_digits(
    tmp_path, monkeypatch, problem
):
    target = tmp_path / "data"
    if problem == "a file":
        target.write_text("x")
    elif problem != "missing":
        target.mkdir()
        if problem == "incomplete":
            write_mnist_like(target)
            (target / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("ADVLIB_DATA", str(target))
    words = {
        "missing": "does not exist",
        "a file": "is a file",
        "incomplete": "lacks t10k-labels",
        "empty": "lacks train-images",
    }[problem]
    for call in (
        lambda: data.load_mnist("train", source="auto"),
        data.mnist_source,
        lambda: data.describe_dataset("mnist"),
        data.check_data_environment,
    ):
        with pytest.raises(DataError, match=rf"\$ADVLIB_DATA names {target}.*{words}"):
            call()


def test_an_interrupted_download_in_the_cache_is_named_and_completed_by_full(tmp_path, monkeypatch):
    monkeypatch.delenv("ADVLIB_DATA", raising=False)
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path))
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    write_mnist_like(folder)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(
        DataError,
        match=r"holds only part of full MNIST \(it lacks "
        r"t10k-images-idx3-ubyte\): run `python -m advlib download`",
    ):
        data.load_mnist("test", source="auto")
    asked = []
    monkeypatch.setattr(data, "download_mnist", lambda: asked.append(1) or folder)
    with pytest.raises(DataError, match="lacks t10k-images"):  # the stub brought nothing
        data.load_mnist("test", source="full")
    assert asked == [1]  # "full" asked the download to complete the folder


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no copy of full MNIST beside the repo")
def test_the_standard_files_are_recognised_in_any_compression(tmp_path, monkeypatch):
    """The real t10k files as shipped (gzip), and their content stored otherwise (the images
    uncompressed, the labels as xz): both verify; the labels are the standard test split's
    (1,135 ones, 892 fives)."""
    monkeypatch.setenv("ADVLIB_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "mnist"
    copy.mkdir()
    for path in SHARED_MNIST.glob("*-ubyte.gz"):
        stem = path.name[: -len(".gz")]
        if stem == "t10k-images-idx3-ubyte":
            (copy / stem).write_bytes(gzip.decompress(path.read_bytes()))
        elif stem == "t10k-labels-idx1-ubyte":
            (copy / f"{stem}.xz").write_bytes(lzma.compress(gzip.decompress(path.read_bytes())))
        else:
            (copy / path.name).symlink_to(path)
    for folder in (SHARED_MNIST, copy):
        monkeypatch.setenv("ADVLIB_DATA", str(folder))
        x, y = data.load_mnist("test", source="full")
        assert x.shape == (10_000, 784) and np.bincount(y)[[1, 5]].tolist() == [1135, 892]
    assert data.verify_mnist(copy) == copy


def test_unknown_dataset_name_lists_the_choices():
    with pytest.raises(
        ValueError, match="'mnist-embedded', 'mnist', 'fashion-mnist'; got 'cifar10'"
    ):
        data.load_dataset("cifar10", "train")


# --- the IDX reader ------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_images_and_labels(tmp_path, gz):
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)
    np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / "i", images, gz=gz)), images)
    np.testing.assert_array_equal(data.read_idx(write_idx(tmp_path / "l", labels, gz=gz)), labels)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_rejects_a_truncated_file(tmp_path, gz):
    path = write_idx(tmp_path / "short.idx", np.zeros((5, 28, 28), np.uint8), cut=100, gz=gz)
    with pytest.raises(DataError, match=r"short\.idx is truncated.*needs 3920 bytes.*found 3820"):
        data.read_idx(path)


def test_read_idx_rejects_extra_bytes(tmp_path):
    path = tmp_path / "long.idx"
    write_idx(path, np.zeros((2, 3), np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="longer than its header says"):
        data.read_idx(path)


@pytest.mark.parametrize("magic", [b"\x00\x00\x0d\x03", b"\x01\x00\x08\x03", b"\x00\x00\x08\x09"])
def test_read_idx_rejects_a_wrong_magic_number(tmp_path, magic):
    path = write_idx(tmp_path / "bad.idx", np.zeros((2, 28, 28), np.uint8), magic=magic)
    with pytest.raises(DataError, match=f"bad.idx has magic number {magic.hex()}; expected"):
        data.read_idx(path)


def test_read_idx_rejects_a_corrupt_gzip_a_missing_file_and_a_folder(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 50)[:20])
    with pytest.raises(DataError, match="broken.gz is not a valid gzip stream"):
        data.read_idx(path)
    with pytest.raises(DataError, match="does not exist"):
        data.read_idx(tmp_path / "nowhere.idx")
    with pytest.raises(DataError, match="is a folder; it must be an IDX file"):
        data.read_idx(tmp_path)


def test_images_and_labels_must_agree(tmp_path):
    write_mnist_like(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(19, np.uint8), gz=True)
    with pytest.raises(DataError, match="expected 20 labels"):
        data.load_fashion_mnist("test", directory=tmp_path)


# --- the download path (no network: pooch is given a local "downloader") -------------------


def _local_downloader(payloads: dict[str, bytes]):
    def download(url: str, output_file, pooch_obj) -> None:
        Path(output_file).write_bytes(payloads[url.rsplit("/", 1)[1]])

    return download


def test_download_checks_sha256_and_keeps_good_files(tmp_path):
    payloads = {"a.gz": b"first file", "b.gz": b"second file"}
    files = {k: hashlib.sha256(v).hexdigest() for k, v in payloads.items()}
    folder = data.download_mnist(
        tmp_path / "mnist",
        mirrors=("https://example.invalid/",),
        files=files,
        downloader=_local_downloader(payloads),
    )
    assert sorted(p.name for p in folder.iterdir()) == ["a.gz", "b.gz"]
    assert (folder / "a.gz").read_bytes() == b"first file"


def test_download_hash_mismatch_is_a_clear_error_and_leaves_nothing(tmp_path):
    files = {"train-images-idx3-ubyte.gz": hashlib.sha256(b"the real file").hexdigest()}
    payloads = {"train-images-idx3-ubyte.gz": b"a tampered file"}
    folder = tmp_path / "mnist"
    with pytest.raises(
        DataError, match="could not download train-images-idx3-ubyte.gz with sha256"
    ):
        data.download_mnist(
            folder,
            mirrors=("https://one.invalid/", "https://two.invalid/"),
            files=files,
            downloader=_local_downloader(payloads),
        )
    assert list(folder.iterdir()) == []  # no partial or temporary file left behind


def test_download_replaces_a_corrupt_cached_copy(tmp_path):
    payloads = {"a.gz": b"good bytes"}
    files = {"a.gz": hashlib.sha256(b"good bytes").hexdigest()}
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "a.gz").write_bytes(b"half a fi")
    data.download_mnist(
        folder,
        mirrors=("https://example.invalid/",),
        files=files,
        downloader=_local_downloader(payloads),
    )
    assert (folder / "a.gz").read_bytes() == b"good bytes"


def test_failed_download_of_a_mirror_falls_back_to_the_next(tmp_path):
    calls = []

    def flaky(url, output_file, pooch_obj):
        calls.append(url)
        if "down" in url:
            raise OSError("connection refused")
        Path(output_file).write_bytes(b"ok")

    files = {"a.gz": hashlib.sha256(b"ok").hexdigest()}
    data.download_mnist(
        tmp_path,
        mirrors=("https://down.invalid/", "https://up.invalid/"),
        files=files,
        downloader=flaky,
    )
    assert calls == ["https://down.invalid/a.gz", "https://up.invalid/a.gz"]
    assert (tmp_path / "a.gz").read_bytes() == b"ok"


# --- Fashion-MNIST -------------------------------------------------------------------------


def test_load_fashion_mnist_reads_small_idx_files_from_a_directory(tmp_path):
    write_mnist_like(tmp_path, n_train=30, n_test=20, gz=False)
    x, y = data.load_fashion_mnist("train", directory=tmp_path)
    assert x.shape == (30, 784) and x.dtype == np.float32 and y.dtype == np.int64


def test_load_fashion_mnist_uses_the_environment_variable(tmp_path, monkeypatch):
    write_mnist_like(tmp_path)
    monkeypatch.setenv("ADVLIB_FASHION_MNIST", str(tmp_path))
    assert data.load_fashion_mnist("test")[0].shape == (20, 784)


def test_missing_fashion_mnist_says_where_it_looked(tmp_path, monkeypatch):
    """The folder asked for is the one read: a directory argument, else the variable, else
    Debian's. One that lacks the files is an error naming it, not a reason to look on."""
    monkeypatch.setattr(data, "FASHION_MNIST_DEBIAN_DIR", tmp_path / "debian")
    for name in ("arg", "env", "debian"):
        (tmp_path / name).mkdir()
    write_mnist_like(tmp_path / "debian")  # would be found if the search went on
    monkeypatch.setenv("ADVLIB_FASHION_MNIST", str(tmp_path / "env"))
    with pytest.raises(
        DataError,
        match=rf"looked in {tmp_path / 'arg'}: the folder directory "
        "names must hold them",
    ):
        data.load_fashion_mnist("train", directory=tmp_path / "arg")
    with pytest.raises(
        DataError,
        match=rf"looked in {tmp_path / 'env'}: the folder "
        r"\$ADVLIB_FASHION_MNIST names must hold them",
    ):
        data.load_fashion_mnist("train")
    monkeypatch.delenv("ADVLIB_FASHION_MNIST")
    assert data.load_fashion_mnist("test")[0].shape == (20, 784)  # Debian's, when nothing asked
    (tmp_path / "debian" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist("test")


def test_describe_dataset_states_the_sizes_and_folder_it_finds(small_mnist, monkeypatch):
    monkeypatch.setenv("ADVLIB_FASHION_MNIST", str(small_mnist))
    assert data.describe_dataset("fashion-mnist") == (
        f"Fashion-MNIST (a smaller copy than the standard 60,000 / 10,000) from {small_mnist}: "
        "30 training and 20 test images (not in the paper)"
    )
    assert data.describe_dataset("mnist") == (
        f"MNIST IDX files from {small_mnist}: 30 training and 20 test digits, "
        "the paper used 60,000 / 10,000"
    )


def test_describe_dataset_without_fashion_mnist_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.delenv("ADVLIB_FASHION_MNIST", raising=False)
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        data.describe_dataset("fashion-mnist")


# --- helpers -------------------------------------------------------------------------------


def test_validation_split_is_stratified_disjoint_and_seeded():
    x, y = data.load_mnist("train", source="embedded")
    xf, yf, xv, yv = data.validation_split(x, y, 0.2, seed=3)
    assert len(xf) == 3200 and len(xv) == 800
    assert np.bincount(yv).tolist() == [80] * 10
    assert not {r.tobytes() for r in xf} & {r.tobytes() for r in xv}
    np.testing.assert_array_equal(data.validation_split(x, y, 0.2, seed=3)[3], yv)


def test_a_validation_count_is_held_out_exactly_and_in_proportion():
    """The paper's protocol holds out 10,000 of 60,000: a count, split over the classes in
    proportion to their sizes (largest remainders), summing to the count exactly."""
    x, y = data.load_mnist("train", source="embedded")
    keep = np.concatenate([np.flatnonzero(y == k)[: 100 + 20 * k] for k in range(10)])
    x, y = x[keep], y[keep]  # classes of 100, 120, ..., 280: 1,900 digits
    xf, yf, xv, yv = data.validation_split(x, y, 475, seed=0)
    assert len(yv) == 475 and len(yf) == 1900 - 475
    np.testing.assert_array_equal(np.bincount(yv), [25, 30, 35, 40, 45, 50, 55, 60, 65, 70])
    assert not {r.tobytes() for r in xf} & {r.tobytes() for r in xv}
    odd = data.validation_split(x, y, 101, seed=0)[3]
    assert len(odd) == 101 and np.abs(np.bincount(odd) - np.bincount(y) * 101 / 1900).max() < 1


def test_binary_subset_gives_plus_minus_one_labels():
    x, y = data.load_mnist("test", source="embedded")
    xb, yb = data.binary_subset(x, y, 3, 7)
    assert len(xb) == 200 and sorted(set(yb.tolist())) == [-1, 1] and (yb == 1).sum() == 100


def test_dataset_id_changes_when_one_pixel_changes():
    x, y = data.load_mnist("test", source="embedded")
    before = data.dataset_id(x, y)
    x = x.copy()
    x[5, 300] = 1.0 - x[5, 300]
    assert data.dataset_id(x, y) != before
