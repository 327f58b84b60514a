"""Fault injection: SIGKILL a download, a cache write, a training run and a sweep at seeded
moments, then check that no corrupt or partial file is visible and that the rerun completes with
the result of an uninterrupted run; and run two downloads, two cache writers of one key and two
sweeps into one folder at once, proving from the times each process entered and left that they
overlapped, and that the work was done once.

Every process under test is a child of the test (``python -c``), on one torch thread so that
seeded runs are bit-identical. With ``ADVLIB_FAULTS_REPORT=path`` each test adds a row (what
was killed, kill points, corrupt files left, reruns completed) to a JSON file there.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SEED = 20150320  # the kill moments are drawn from this seed


def report(what: str, runs: int, kill_points: int, corrupt: int, reruns: int, **extra) -> None:
    """Add one row to ``$ADVLIB_FAULTS_REPORT`` (a JSON list) and print it (``pytest -s``)."""
    row = {
        "what": what,
        "runs": runs,
        "kill_points": kill_points,
        "corrupt_files_left": corrupt,
        "reruns_completed": reruns,
        **extra,
    }
    print(json.dumps(row))
    path = os.environ.get("ADVLIB_FAULTS_REPORT")
    if path:
        rows = json.loads(Path(path).read_text()) if Path(path).is_file() else []
        Path(path).write_text(json.dumps(rows + [row], indent=1))


def child(tmp_path: Path, code: str, *args: str, **env: str) -> subprocess.Popen:
    """Start ``code`` (dedented) in a fresh Python, one torch thread, ``sys.argv[1:] = args``."""
    script = tmp_path / f"child-{hashlib.sha256(code.encode()).hexdigest()[:8]}.py"
    script.write_text(textwrap.dedent(code))
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **env}
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def wait_for(condition, timeout: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


PEERS = """
    def wait_for_peers(folder, n=2, timeout=300):
        # hold on until n processes have entered (each left a .entered file): the test then
        # knows that the others arrived while this one was inside
        deadline = time.time() + timeout
        while len(list(Path(folder).glob("*.entered"))) < n and time.time() < deadline:
            time.sleep(0.01)
"""


def overlap(a: dict, b: dict) -> bool:
    """Whether the intervals [entered, left] of two processes overlap."""
    return a["entered"] < b["left"] and b["entered"] < a["left"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


# --------------------------------------------------------------------------------------------
# The writer every write goes through (fast: no processes killed)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # exited and reaped: no process has this pid now (until it is reused)


def test_write_atomic_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    from advlib.paths import write_atomic

    target = tmp_path / "deep" / "table.csv"
    write_atomic(target, "a,b\n1,2\n")
    write_atomic(target, b"a,b\n3,4\n")
    assert target.read_text() == "a,b\n3,4\n" and target.stat().st_mode & 0o777 == 0o644
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # not text or bytes: the old file stays, nothing is left
    assert target.read_text() == "a,b\n3,4\n" and list(target.parent.iterdir()) == [target]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    from advlib import paths

    host, dead = paths._host(), _dead_pid()
    stale = tmp_path / f".table.csv.{host}-{dead}.abc123.tmp"  # a writer killed mid-write
    live = tmp_path / f".table.csv.{host}-{os.getpid()}.def456.tmp"  # this process: alive
    other_host = tmp_path / f".table.csv.elsewhere-{dead}.ghi789.tmp"  # may be alive there
    other_file = tmp_path / f".chart.svg.{host}-{dead}.jkl012.tmp"  # another file's
    mine = tmp_path / "notes.tmp"  # not a temporary of write_atomic's
    for path in (stale, live, other_host, other_file, mine):
        path.write_bytes(b"half a fi")
    paths.write_atomic(tmp_path / "table.csv", "whole\n")
    assert not stale.exists()
    assert live.exists() and other_host.exists() and other_file.exists() and mine.exists()
    # one older than STALE_SECONDS goes whoever wrote it; the folder-wide clean-up finds
    # every file's
    old = time.time() - paths.STALE_SECONDS - 60
    os.utime(other_host, (old, old))
    removed = paths.remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted([other_host.name, other_file.name])
    assert live.exists() and mine.exists() and (tmp_path / "table.csv").read_text() == "whole\n"


def test_locked_folder_lets_one_holder_in_at_a_time(tmp_path):
    import threading

    from advlib.paths import locked_folder

    times: dict[str, list[float]] = {}

    def hold(name: str, seconds: float) -> None:
        asked = time.monotonic()
        with locked_folder(tmp_path):
            entered = time.monotonic()
            time.sleep(seconds)
            times[name] = [asked, entered, time.monotonic()]

    first = threading.Thread(target=hold, args=("first", 0.3))
    first.start()
    time.sleep(0.1)
    hold("second", 0.0)
    first.join()
    (_, _, left_1), (asked_2, entered_2, _) = times["first"], times["second"]
    assert asked_2 < left_1 <= entered_2  # the second asked while the first held it, and waited
    assert list(tmp_path.iterdir()) == []  # the lock leaves no file


# --------------------------------------------------------------------------------------------
# Downloads: a fake downloader (no network) that writes each file slowly, in chunks


PAYLOADS = {
    f"{stem}.gz": bytes(random.Random(i).randbytes(256 * 1024))
    for i, stem in enumerate(
        (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    )
}
FILES = {name: hashlib.sha256(data).hexdigest() for name, data in PAYLOADS.items()}

DOWNLOAD = (
    """
    import json, random, sys, time
    from pathlib import Path

    from advlib.data import download_mnist
"""
    + PEERS
    + """

    folder, log, times = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    delay = float(sys.argv[4])
    files, peers = json.loads(sys.argv[5]), int(sys.argv[6])

    def slow(url, output_file, pooch_obj):
        name = url.rsplit("/", 1)[1]
        data = random.Random(list(files).index(name)).randbytes(256 * 1024)
        with open(log, "a") as f:
            f.write(name + "\\n")
        if peers > 1:
            wait_for_peers(times.parent, peers)
        with open(output_file, "wb") as out:
            for i in range(0, len(data), 16 * 1024):  # 16 chunks per file
                out.write(data[i:i + 16 * 1024])
                out.flush()
                time.sleep(delay)

    entered = time.time()
    times.with_suffix(".entered").write_text(str(entered))
    download_mnist(folder, mirrors=("https://mirror.invalid/",), files=files, downloader=slow)
    times.write_text(json.dumps({"entered": entered, "left": time.time()}))
"""
)


def _download(tmp_path, folder, name, delay, peers=1):
    log, times = tmp_path / f"{name}.log", tmp_path / f"{name}.json"
    proc = child(
        tmp_path,
        DOWNLOAD,
        str(folder),
        str(log),
        str(times),
        str(delay),
        json.dumps(FILES),
        str(peers),
    )
    return proc, log, times


def _visible_download_problems(folder: Path) -> list[str]:
    """Files under a final name with the wrong content, and anything else visible."""
    problems = []
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue  # the staging folder: never read
        if path.name not in FILES:
            problems.append(f"unexpected {path.name}")
        elif sha256(path) != FILES[path.name]:
            problems.append(f"partial or corrupt {path.name}")
    return problems


@pytest.mark.slow
def test_a_killed_download_leaves_no_partial_file_and_the_rerun_completes(tmp_path):
    rng = random.Random(SEED)
    points, corrupt, completed, kept = 6, 0, 0, []
    for point in range(points):
        folder = tmp_path / f"mnist-{point}"
        proc, log, _ = _download(tmp_path, folder, f"killed-{point}", delay=0.01)
        wait_for(lambda log=log: log.is_file(), what="the download to start")
        time.sleep(rng.uniform(0.0, 0.8))  # four files of 16 chunks, 10 ms each: 0.64 s
        kill(proc)
        problems = _visible_download_problems(folder)
        corrupt += len(problems)
        kept.append(sum(1 for p in folder.iterdir() if p.name in FILES))
        rerun, rerun_log, _ = _download(tmp_path, folder, f"rerun-{point}", delay=0.0)
        finish(rerun)
        assert {p.name: sha256(p) for p in folder.iterdir() if p.name in FILES} == FILES
        assert hidden(folder) == []  # the killed download's staging folder is gone
        fetched = rerun_log.read_text().split() if rerun_log.is_file() else []
        assert len(fetched) == len(FILES) - kept[-1]  # verified files are not fetched again
        completed += 1
    report(
        "download (4 files)",
        runs=points,
        kill_points=points,
        corrupt=corrupt,
        reruns=completed,
        verified_files_kept_at_kill=kept,
    )
    assert corrupt == 0 and completed == points
    assert len(set(kept)) > 1, kept  # the seeded moments fell at different stages


@pytest.mark.slow
def test_two_downloads_at_once_end_with_one_verified_copy(tmp_path):
    folder = tmp_path / "mnist"
    first, log_a, times_a = _download(tmp_path, folder, "a", delay=0.02, peers=2)
    wait_for(lambda: log_a.is_file(), what="the first download to start")
    second, log_b, times_b = _download(tmp_path, folder, "b", delay=0.02, peers=2)
    finish(first), finish(second)
    a, b = json.loads(times_a.read_text()), json.loads(times_b.read_text())
    assert overlap(a, b), (a, b)  # both were inside download_mnist at once
    fetched = log_a.read_text().split() + (log_b.read_text().split() if log_b.is_file() else [])
    assert sorted(fetched) == sorted(FILES)  # each file fetched once, by one of them
    assert {p.name: sha256(p) for p in folder.iterdir()} == FILES
    report(
        "two concurrent downloads",
        runs=2,
        kill_points=0,
        corrupt=0,
        reruns=0,
        overlap_seconds=round(min(a["left"], b["left"]) - max(a["entered"], b["entered"]), 3),
    )


# --------------------------------------------------------------------------------------------
# The model cache: a 16 MB entry written while the test kills the writer


CACHE = (
    """
    import json, sys, time
    from pathlib import Path

    import torch

    from advlib import cache
"""
    + PEERS
    + """
    folder, times, sleep = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    peers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    CONFIG = {"model": "big-linear", "epochs": 1}

    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(2000, 2000)  # 16 MB of weights: the write takes a while

    def train(model, checkpoint):
        (folder / "training").write_text(str(time.time()))
        time.sleep(sleep)
        if peers > 1:
            wait_for_peers(times.parent, peers)
        with torch.no_grad():
            model.weight.mul_(0.5).add_(0.25)
        with open(folder / "trainings.log", "a") as f:
            f.write("trained\\n")
        return {"epochs": [{"epoch": 1, "loss": 0.5}], "seconds": sleep}

    entered = time.time()
    times.with_suffix(".entered").write_text(str(entered))
    model, history = cache.load_or_train(CONFIG, "data1", make, train, folder=folder)
    left = time.time()
    times.write_text(json.dumps({"entered": entered, "left": left,
                                 "weight_sum": float(model.weight.double().sum())}))
"""
)


def _expected_cache_weights() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.nn.Linear(2000, 2000).weight.detach() * 0.5 + 0.25


def _cache_entry_problems(folder: Path, expected: torch.Tensor) -> list[str]:
    problems = []
    for path in folder.glob("*.pt"):
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
            if not torch.equal(entry["state_dict"]["weight"], expected):
                problems.append(f"{path.name}: other weights")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{path.name}: unreadable ({type(exc).__name__})")
    return problems


@pytest.mark.slow
def test_a_killed_cache_write_leaves_no_partial_entry_and_the_rerun_completes(tmp_path):
    rng = random.Random(SEED + 1)
    expected = _expected_cache_weights()
    # seeded moments through training and the write, and one kill the moment the temporary
    # file of the write appears (certainly mid-write)
    moments = [rng.uniform(0.0, 0.6) for _ in range(5)] + ["mid-write"]
    corrupt, completed, mid_write = 0, 0, 0
    for point, moment in enumerate(moments):
        folder = tmp_path / f"models-{point}"
        folder.mkdir()
        proc = child(tmp_path, CACHE, str(folder), str(tmp_path / f"t{point}.json"), "0.2")
        wait_for(lambda folder=folder: (folder / "training").is_file(), what="training to start")
        if moment == "mid-write":
            wait_for(
                lambda folder=folder: any(p.name.endswith(".tmp") for p in folder.iterdir()),
                what="the write's temporary file",
            )
        else:
            time.sleep(moment)
        kill(proc)
        mid_write += any(p.name.endswith(".tmp") for p in folder.iterdir())
        corrupt += len(_cache_entry_problems(folder, expected))
        rerun = child(tmp_path, CACHE, str(folder), str(tmp_path / f"r{point}.json"), "0.0")
        finish(rerun)
        assert _cache_entry_problems(folder, expected) == []
        result = json.loads((tmp_path / f"r{point}.json").read_text())
        assert result["weight_sum"] == pytest.approx(float(expected.double().sum()), rel=1e-12)
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]  # cleaned up
        completed += 1
    report(
        "cache write (16 MB entry)",
        runs=len(moments),
        kill_points=len(moments),
        corrupt=corrupt,
        reruns=completed,
        killed_mid_write=mid_write,
    )
    assert corrupt == 0 and completed == len(moments) and mid_write >= 1


@pytest.mark.slow
def test_two_processes_asking_for_one_model_train_it_once(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    first = child(tmp_path, CACHE, str(folder), str(tmp_path / "a.json"), "0.5", "2")
    wait_for(
        lambda folder=folder: (folder / "training").is_file(), what="the first to start training"
    )
    second = child(tmp_path, CACHE, str(folder), str(tmp_path / "b.json"), "0.5", "2")
    finish(first), finish(second)
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert overlap(a, b), (a, b)  # the second asked while the first was training
    assert (folder / "trainings.log").read_text().splitlines() == ["trained"]
    expected = float(_expected_cache_weights().double().sum())
    assert a["weight_sum"] == pytest.approx(expected, rel=1e-12) == b["weight_sum"]
    assert len(list(folder.glob("*.pt"))) == 1
    report(
        "two cache writers of one key",
        runs=2,
        kill_points=0,
        corrupt=0,
        reruns=0,
        overlap_seconds=round(min(a["left"], b["left"]) - max(a["entered"], b["entered"]), 3),
    )


# --------------------------------------------------------------------------------------------
# Training: fit(..., checkpoint=path) killed mid-epoch resumes to bit-identical weights


FIT = """
    import json, sys
    from pathlib import Path

    import torch

    torch.set_num_threads(1)
    from advlib import train
    from advlib.data import load_dataset

    if hasattr(train, "CHECKPOINT_SECONDS"):
        train.CHECKPOINT_SECONDS = 0  # a checkpoint after every epoch, however short
    checkpoint = None if sys.argv[1] == "-" else Path(sys.argv[1])
    out, fields = Path(sys.argv[2]), json.loads(sys.argv[3])
    x, y = load_dataset("mnist-embedded", "train")
    recipe = train.Recipe(seed=3, **fields)  # the 240-unit maxout net, on 4,000 digits
    model = recipe.build()
    history = train.fit(model, x, y, recipe, device="cpu", progress=False, checkpoint=checkpoint)
    torch.save({"state": model.state_dict(), "history": history}, out)
"""

RECIPES = {
    "clean, 6 epochs": dict(epochs=6),
    "adversarial, early stopping and retrain": dict(
        training="adversarial",
        epochs=5,
        early_stopping="clean",
        patience=2,
        valid=0.2,
        retrain=True,
    ),
}


def _fit(tmp_path, checkpoint, out, fields):
    return child(
        tmp_path, FIT, str(checkpoint) if checkpoint else "-", str(out), json.dumps(fields)
    )


def _same_run(a: dict, b: dict) -> bool:
    weights = a["state"].keys() == b["state"].keys() and all(
        torch.equal(a["state"][k], b["state"][k]) for k in a["state"]
    )
    timings = ("seconds", "monitor_seconds")  # wall-clock, not seeded
    rows = [{k: v for k, v in r.items() if k not in timings} for r in a["history"]["epochs"]]
    other = [{k: v for k, v in r.items() if k not in timings} for r in b["history"]["epochs"]]
    return weights and rows == other and a["history"]["best_epoch"] == b["history"]["best_epoch"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(RECIPES))
def test_a_training_run_killed_mid_epoch_resumes_to_bit_identical_weights(tmp_path, kind):
    fields = RECIPES[kind]
    reference = tmp_path / "reference.pt"
    finish(_fit(tmp_path, None, reference, fields))  # uninterrupted, no checkpoint at all
    ref = torch.load(reference, weights_only=False)
    epochs = ref["history"]["epochs"]
    per_epoch = sum(r["seconds"] for r in epochs) / len(epochs)
    rng = random.Random(SEED + len(kind))
    points = 3
    killed_after, corrupt, completed = [], 0, 0
    for point in range(points):
        checkpoint, out = tmp_path / f"run{point}.ckpt", tmp_path / f"run{point}.pt"
        target = rng.randrange(1, len(epochs) - 1)  # kill in epoch target + 1 (any phase)
        proc = _fit(tmp_path, checkpoint, out, fields)
        seen = {"file": None, "count": 0}

        def saved(target=target, checkpoint=checkpoint, seen=seen):
            try:
                stat = checkpoint.stat()
            except FileNotFoundError:
                return False
            if (stat.st_ino, stat.st_mtime_ns) != seen["file"]:  # each save is a new file
                seen["file"], seen["count"] = (stat.st_ino, stat.st_mtime_ns), seen["count"] + 1
            return seen["count"] >= target

        wait_for(saved, what=f"checkpoint {target}")
        time.sleep(rng.uniform(0.2, 0.7) * per_epoch)  # into the next epoch
        kill(proc)
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        except Exception:  # noqa: BLE001
            corrupt += 1
            raise
        done = state["history"]["epochs"]
        killed_after.append(len(done))
        assert not out.exists()  # the run never finished
        finish(_fit(tmp_path, checkpoint, out, fields))
        resumed = torch.load(out, weights_only=False)
        assert _same_run(resumed, ref), f"kill point {point}: not bit-identical"
        # the rows before the kill are the checkpoint's own (their timings too): resumed, not
        # trained again
        assert resumed["history"]["epochs"][: len(done)] == done
        assert not checkpoint.exists()  # removed when training ended
        completed += 1
    report(
        f"training run ({kind})",
        runs=points,
        kill_points=points,
        corrupt=corrupt,
        reruns=completed,
        epochs_in_checkpoint_at_kill=killed_after,
        epochs_in_run=len(epochs),
    )
    assert corrupt == 0 and completed == points


# --------------------------------------------------------------------------------------------
# Sweeps: a killed sweep, and two sweeps into one folder


PROBE = """# %% tags=["parameters"]
k: int = 0  # which run

# %%
import os
import time

from advlib.book import record

with open(os.environ["ADVLIB_PROBE_LOG"], "a") as f:
    f.write(f"{k}\\n")
time.sleep(0.5)
peers = os.environ.get("ADVLIB_PROBE_PEERS")  # a folder: wait until both sweeps have entered
deadline = time.time() + 300
while peers and len(os.listdir(peers)) < 2 and time.time() < deadline:
    time.sleep(0.01)
record({"k_squared": k * k})
"""

SWEEP = """
    import json, sys, time
    from pathlib import Path

    from advlib.book import sphinxext
    from advlib.book.sweep import sweep

    # the science code's digest held still: advlib's source may be edited while tests run
    sphinxext.advlib_digest = lambda: "d" * 64
    chapter, out, times = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    entered = time.time()
    if len(sys.argv) > 4:
        Path(sys.argv[4], times.name).write_text(str(entered))
    table = sweep(chapter, {"k": [0, 1, 2, 3]}, out=out, workers=2, threads=1)
    times.write_text(json.dumps({"entered": entered, "left": time.time(),
                                 "k_squared": table["k_squared"].tolist(),
                                 "status": table["status"].tolist()}))
"""


def _sweep(tmp_path, chapter, out, name, log, peers: Path | None = None):
    env = {"ADVLIB_PROBE_LOG": str(log)}
    if peers is not None:
        env["ADVLIB_PROBE_PEERS"] = str(peers)
    return child(
        tmp_path,
        SWEEP,
        str(chapter),
        str(out),
        str(tmp_path / f"{name}.json"),
        *([str(peers)] if peers else []),
        **env,
    )


def _sweep_problems(out: Path) -> list[str]:
    """Visible files of a sweep that do not read back whole."""
    import nbformat
    import pandas as pd

    problems = []
    for path in sorted(out.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(out).parts) or path.is_dir():
            continue
        try:
            if path.suffix == ".json":
                assert json.loads(path.read_text())["status"] in ("ok", "failed")
            elif path.suffix == ".ipynb":
                nbformat.read(str(path), as_version=4)
            elif path.suffix == ".parquet":
                pd.read_parquet(path)
            elif path.suffix == ".csv":
                assert "run" in pd.read_csv(path).columns
            elif path.suffix == ".html":
                assert path.read_text().rstrip().endswith("</html>")
            elif path.suffix == ".svg":
                assert path.read_text().rstrip().endswith("</svg>")
            else:
                problems.append(f"unexpected {path.name}")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{path.relative_to(out)}: {type(exc).__name__}")
    return problems


@pytest.mark.slow
def test_a_killed_sweep_leaves_readable_files_and_the_rerun_completes_the_same_table(tmp_path):
    chapter = tmp_path / "probe.py"
    chapter.write_text(PROBE)
    start = time.monotonic()
    finish(_sweep(tmp_path, chapter, tmp_path / "reference", "reference", tmp_path / "ref.log"))
    duration = time.monotonic() - start
    expected = json.loads((tmp_path / "reference.json").read_text())
    assert expected["k_squared"] == [0, 1, 4, 9] and set(expected["status"]) == {"ok"}
    rng = random.Random(SEED + 2)
    points, corrupt, completed, finished_at_kill, rerun_runs = 4, 0, 0, [], []
    for point in range(points):
        out, log = tmp_path / f"s{point}", tmp_path / f"s{point}.log"
        proc = _sweep(tmp_path, chapter, out, f"killed{point}", log)
        wait_for(lambda log=log: log.is_file(), what="the first run to start")
        time.sleep(rng.uniform(0.0, 0.8) * duration)
        kill(proc)
        time.sleep(1.5)  # its orphaned run processes notice and exit
        corrupt += len(_sweep_problems(out))
        finished_at_kill.append(len(list((out / "runs").glob("*.json"))))
        before = len(log.read_text().split())
        finish(_sweep(tmp_path, chapter, out, f"rerun{point}", log))
        rerun_runs.append(len(log.read_text().split()) - before)
        result = json.loads((tmp_path / f"rerun{point}.json").read_text())
        assert result["k_squared"] == expected["k_squared"] and result["status"] == ["ok"] * 4
        assert _sweep_problems(out) == []
        assert [p for p in hidden(out) if p != ".locks" and not p.endswith(".lock")] == []
        assert rerun_runs[-1] == 4 - finished_at_kill[-1]  # finished runs were not run again
        scratch = Path(tempfile.gettempdir()).glob(f"advlib-sweep-*-{proc.pid}-*")
        assert list(scratch) == []  # the killed sweep's scratch folders were removed
        completed += 1
    report(
        "sweep (4 runs, 2 at a time)",
        runs=points,
        kill_points=points,
        corrupt=corrupt,
        reruns=completed,
        runs_finished_at_kill=finished_at_kill,
        runs_rerun=rerun_runs,
    )
    assert corrupt == 0 and completed == points


@pytest.mark.slow
def test_two_sweeps_into_one_folder_share_the_runs_and_never_run_one_twice(tmp_path):
    chapter = tmp_path / "probe.py"
    chapter.write_text(PROBE)
    out, log, peers = tmp_path / "shared", tmp_path / "runs.log", tmp_path / "entered"
    peers.mkdir()
    first = _sweep(tmp_path, chapter, out, "a", log, peers)
    wait_for(lambda log=log: log.is_file(), what="the first sweep's first run")
    second = _sweep(tmp_path, chapter, out, "b", log, peers)
    finish(first), finish(second)
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert overlap(a, b), (a, b)
    assert sorted(log.read_text().split()) == ["0", "1", "2", "3"]  # each run once, in all
    for table in (a, b):  # and each sweep's table holds all four
        assert table["k_squared"] == [0, 1, 4, 9] and table["status"] == ["ok"] * 4
    assert _sweep_problems(out) == []
    report(
        "two sweeps into one --out",
        runs=2,
        kill_points=0,
        corrupt=0,
        reruns=0,
        overlap_seconds=round(min(a["left"], b["left"]) - max(a["entered"], b["entered"]), 3),
    )


class _Killed(BaseException):
    """Stands in for SIGKILL right after a checkpoint was written (nothing after it runs)."""


@pytest.mark.slow
@pytest.mark.parametrize(
    "fields",
    [
        dict(epochs=3),
        # fit stops early at epoch 2 (patience 1), then the retrain phase runs its epoch
        dict(epochs=8, early_stopping="clean", patience=1, valid=0.2, retrain=True),
        # fit runs its 3 epochs, then retrains for the best epoch's count
        dict(training="noise-sign", epochs=3, early_stopping="clean", valid=0.2, retrain=True),
    ],
    ids=["clean", "early-stopped-then-retrained", "noise-then-retrained"],
)
def test_fit_resumes_from_every_checkpoint_to_the_uninterrupted_weights(
    tmp_path, monkeypatch, fields
):
    """Every kill point at once: the run stops right after its k-th checkpoint, for each k."""
    from advlib import train
    from advlib.data import load_dataset

    x, y = load_dataset("mnist-embedded", "train")
    x, y = x[:600], y[:600]
    recipe = train.Recipe(width=20, pieces=2, seed=1, **fields)

    def run(checkpoint=None):
        model = recipe.build()
        history = train.fit(
            model, x, y, recipe, device="cpu", progress=False, checkpoint=checkpoint
        )
        return {"state": model.state_dict(), "history": history}

    reference = run()
    saves = len(reference["history"]["epochs"])
    original = train._Run._save
    for k in range(1, saves + 1):
        checkpoint, written = tmp_path / f"kill-after-{k}.ckpt", []

        def save_then_die(self, *args, k=k, written=written):
            original(self, *args)
            written.append(1)
            if len(written) == k:
                raise _Killed

        monkeypatch.setattr(train._Run, "_save", save_then_die)
        with pytest.raises(_Killed):
            run(checkpoint)
        monkeypatch.setattr(train._Run, "_save", original)
        resumed = run(checkpoint)
        assert _same_run(resumed, reference), f"resumed after checkpoint {k} of {saves}"
        assert not checkpoint.exists()
