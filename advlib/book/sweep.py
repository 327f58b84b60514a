"""Parameter sweeps: run a chapter for every combination of parameter values.

``python -m advlib sweep CHAPTER -p eps 0.05 0.1 0.25 -p seed 0 1 2`` runs the grid in parallel
(locally, or on a Dask cluster with ``--scheduler``) and writes, under ``--out`` (default
``sweeps/<chapter>``)::

    runs/<run>.ipynb   each executed notebook (a failed run's shows the error)
    runs/<run>.json    its parameters, status, error, seconds and every recorded result
    results.parquet    one row per run: parameters, status, scalar results, claim verdicts
    results.csv        the same table
    chart.html         the main result against the first swept parameter (works offline)
    chart.svg          the same chart, static

``<run>`` is made from the given parameters (``eps=0.1,seed=2``). Every file is written
atomically (:func:`advlib.paths.write_atomic`); each run's two files as it finishes, and the
table is rebuilt from them, so an interrupted or killed sweep keeps what finished and shows no
partial file. Running the same sweep again skips the runs that succeeded with the same
*resume key*: the chapter's source, the science code's digest
(``advlib.book.sphinxext.advlib_digest``) and the data's identity (:func:`data_identity`)
(``resume=False`` / ``--no-resume`` redoes them; failed runs always rerun).

A sweep runs a run only while it holds that run's lock (``<out>/.locks/<run>.lock``, released
by the system when the sweep dies), so two sweeps into one ``--out`` share the work and never
run the same run twice: a run locked by the other sweep is left to it and picked up from its
record when it finishes (or run here, if that sweep died). Runs set ``ADVLIB_RESULTS=off``, so
a sweep never overwrites the book's claims tables.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advlib.book.runner import ParameterError, chapter_parameters, check_parameters
from advlib.paths import _host, remove_stale_temporaries, write_atomic

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

__all__ = [
    "sweep",
    "expand_grid",
    "run_name",
    "runs_table",
    "chart",
    "data_identity",
    "resume_key",
    "add_parser",
    "exit_code",
]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Read by torch (OpenMP), MKL and OpenBLAS when the kernel imports them."""
FIXED_COLUMNS = ("run", "status", "error", "seconds")
MAX_FAILED_CODE = 25
POLL_SECONDS = 0.05  # how often the scheduler looks for finished runs and released locks
RESUME_KEY = ("chapter_sha256", "advlib_sha256", "data_sha256")
_SAFE = re.compile(r"^[A-Za-z0-9._+\-]+$")


# --------------------------------------------------------------------------------------------
# The grid


def expand_grid(chapter: str | Path, grid: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of ``grid`` (name → list of values), each value parsed as the type of
    the chapter's default, names in the chapter's order. Raises :class:`ParameterError`."""
    params = chapter_parameters(chapter)
    unknown = {name: None for name in grid if name not in params}
    if unknown:  # check_parameters words the error and lists the chapter's parameters
        check_parameters(chapter, unknown)
    columns = {}
    for name in sorted(grid, key=list(params).index):
        values = grid[name] if isinstance(grid[name], (list, tuple)) else [grid[name]]
        if not values:
            raise ParameterError(f"sweep: parameter {name} has no values")
        parsed = [check_parameters(chapter, {name: v})[name] for v in values]
        # 0.1 and 0.10 are one run, not two
        columns[name] = [v for i, v in enumerate(parsed) if v not in parsed[:i]]
    return [
        dict(zip(columns, combo, strict=True)) for combo in itertools.product(*columns.values())
    ]


def _shown(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def run_name(values: dict[str, Any]) -> str:
    """A stable, filesystem-safe name for one run: ``eps=0.1,seed=2``; values with other
    characters, or long names, get a readable prefix and a hash of the exact values."""
    if not values:
        return "defaults"
    parts = [(name, _shown(v)) for name, v in values.items()]
    name = ",".join(f"{k}={v}" for k, v in parts)
    if all(_SAFE.match(v) for _, v in parts) and len(name) <= 120:
        return name
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:10]
    return re.sub(r"[^A-Za-z0-9._+=,\-]", "_", name)[:60] + "-" + digest


# --------------------------------------------------------------------------------------------
# One run, in its own Python process


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class _Children:
    """The run processes a sweep started, so that an interrupt can stop them all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.live: set[subprocess.Popen] = set()
        self.stopped = False

    def start(self, *args: Any, **kwargs: Any) -> subprocess.Popen | None:
        with self.lock:  # a thread must not start a run after stop()
            if self.stopped:
                return None
            proc = subprocess.Popen(*args, **kwargs)
            self.live.add(proc)
            return proc

    def done(self, proc: subprocess.Popen) -> None:
        with self.lock:
            self.live.discard(proc)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            for proc in self.live:
                proc.terminate()  # the kernel's parent poller then ends the kernel too


def _error_text(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)  # PapermillExecutionError: the chapter's own exception
    if ename:
        return f"{ename}: {getattr(exc, 'evalue', '')}"
    return f"{type(exc).__name__}: {exc}"


def _child() -> None:
    """Entry point of a run's process: execute the chapter, write the outcome file."""
    spec = json.loads(sys.argv[1])
    parent = os.getppid()

    def orphaned() -> None:  # a Dask worker that dies must not leave its runs going
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=orphaned, daemon=True).start()
    from advlib.book.runner import run_chapter

    try:
        results = run_chapter(spec["chapter"], spec["notebook"], spec["parameters"])
        outcome = {"status": "ok", "error": "", "results": results}
    except Exception as exc:  # noqa: BLE001  (any failure of the chapter is this run's result)
        outcome = {"status": "failed", "error": _error_text(exc), "results": {}}
    write_atomic(spec["outcome"], json.dumps(outcome))


_SCRATCH = "advlib-sweep-"


def _remove_dead_scratch() -> None:
    """Remove the scratch folders (``<tmp>/advlib-sweep-<host>-<pid>-*``) of sweeps on this host
    that were killed before they could delete them."""
    import shutil

    from advlib.paths import _running

    pattern = re.compile(rf"^{_SCRATCH}{re.escape(_host())}-(\d+)-")
    for folder in Path(tempfile.gettempdir()).glob(f"{_SCRATCH}*"):
        match = pattern.match(folder.name)
        if match and folder.is_dir() and not _running(int(match[1])):
            shutil.rmtree(folder, ignore_errors=True)


def _dask_worker() -> str:
    """The address of the Dask worker running this task, else ``"local"``."""
    if "distributed" in sys.modules:  # importing it only to ask would cost every local run
        from distributed import get_worker

        try:
            return get_worker().address
        except ValueError:  # not inside a task
            pass
    return "local"


def _run_one(task: dict, threads: int | dict[str, int], children: _Children | None = None) -> dict:
    """Execute one run in a fresh Python process; return its outcome with the notebook's text.

    A process per run because papermill changes the working directory and the environment of
    the process that starts a kernel: two runs in threads of one process (a Dask worker) would
    race. ``threads`` is the torch/BLAS thread count, or a Dask worker address → count plan.
    """
    worker = _dask_worker()
    if isinstance(threads, dict):
        threads = threads.get(worker, 1)
    env = {**os.environ, **task["env"], **{v: str(threads) for v in THREAD_VARIABLES}}
    children = children or _Children()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{_SCRATCH}{_host()}-{os.getpid()}-") as tmp:
        notebook, result = Path(tmp) / "run.ipynb", Path(tmp) / "outcome.json"
        spec = {
            "chapter": task["chapter"],
            "parameters": task["parameters"],
            "notebook": str(notebook),
            "outcome": str(result),
        }
        proc = children.start(
            [
                sys.executable,
                "-c",
                "from advlib.book.sweep import _child; _child()",
                json.dumps(spec),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if proc is None:
            return {**_failed(KeyboardInterrupt()), "error": "interrupted"}
        try:
            _, stderr = proc.communicate()
        finally:
            children.done(proc)
        if result.is_file():
            outcome = json.loads(result.read_text(encoding="utf-8"))
        else:
            tail = stderr.strip().splitlines()[-1:] or [""]
            outcome = {
                "status": "failed",
                "results": {},
                "error": f"the run's process exited with code {proc.returncode}: {tail[0]}",
            }
        outcome["notebook"] = notebook.read_text(encoding="utf-8") if notebook.is_file() else None
    outcome.update(seconds=time.perf_counter() - start, worker=worker)
    return outcome


# --------------------------------------------------------------------------------------------
# Executors: where runs execute (threads starting processes, or a Dask cluster)


def _failed(exc: BaseException) -> dict:
    return {
        "status": "failed",
        "error": _error_text(exc),
        "results": {},
        "notebook": None,
        "seconds": None,
        "worker": None,
    }


class _Local:
    """Runs in processes started by a pool of ``workers`` threads (``threads`` torch threads
    per run)."""

    def __init__(self, workers: int, threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.slots, self.threads = workers, threads
        self.children = _Children()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="advlib-sweep")

    def submit(self, task: dict):
        return self.pool.submit(_run_one, task, self.threads, self.children)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.children.stop()
        self.pool.shutdown(wait=True)


class _Dask:
    """Runs on a Dask cluster: a ``LocalCluster`` of ``workers`` (``scheduler="local"``) or the
    scheduler at an address; as many runs at a time as the cluster has threads."""

    def __init__(self, scheduler: str, workers: int | None, threads: int | None, runs: int) -> None:
        import logging

        from distributed import Client, LocalCluster

        self.cluster = None
        if scheduler == "local":
            self.cluster = LocalCluster(
                n_workers=workers or min(cores(), runs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        self.client = Client(self.cluster if self.cluster is not None else scheduler)
        self.plan = threads or _cluster_threads(self.client)
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        self.slots = workers or max(1, sum(w["nthreads"] for w in info.values()))
        self.futures: list = []

    def submit(self, task: dict):
        future = self.client.submit(_run_one, task, self.plan, pure=False)
        self.futures.append(future)
        return future

    def close(self) -> None:
        self.client.cancel(self.futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _cluster_threads(client: Any) -> dict[str, int]:
    """Threads per run for each Dask worker: its host's cores over the task slots on that host."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    host_cores = client.run(cores)
    slots: dict[str, int] = {}
    for info in workers.values():
        slots[info["host"]] = slots.get(info["host"], 0) + info["nthreads"]
    return {
        addr: max(1, host_cores.get(addr, 1) // slots[info["host"]])
        for addr, info in workers.items()
    }


# --------------------------------------------------------------------------------------------
# Run locks: two sweeps into one folder never run the same run twice


class _RunLocks:
    """One lock file per run under ``<out>/.locks``, taken without waiting (``flock``: the
    system releases a dead sweep's locks, so a killed sweep blocks nothing)."""

    def __init__(self, out: Path) -> None:
        self.folder = out / ".locks"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.held: dict[str, Any] = {}

    def claim(self, run: str) -> bool:
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.folder / f"{run}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False
        self.held[run] = lock
        return True

    def release(self, run: str) -> None:
        lock = self.held.pop(run, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for run in list(self.held):
            self.release(run)


def _schedule(
    tasks: list[dict], executor: Any, locks: _RunLocks, settled: Callable[[dict], bool]
) -> Iterator[tuple[dict, dict | None]]:
    """Execute ``tasks`` on ``executor``, at most ``executor.slots`` at a time, each only while
    this sweep holds its run's lock; yield ``(task, outcome)`` as runs finish, the lock still
    held while the caller stores the outcome. A run whose lock another sweep holds is tried
    again later (never waited for while holding other locks: two sweeps cannot deadlock); once
    claimed, a run ``settled`` finds finished by the other sweep is yielded with outcome None."""
    queue, waiting, flying = deque(tasks), [], {}
    try:
        while queue or waiting or flying:
            while queue and len(flying) < executor.slots:
                task = queue.popleft()
                if not locks.claim(task["run"]):
                    waiting.append(task)
                elif settled(task):
                    locks.release(task["run"])
                    yield task, None
                else:
                    flying[executor.submit(task)] = task
            if not queue and waiting:
                queue.extend(waiting)  # the other sweep may have released some by now
                waiting.clear()
            done = [future for future in flying if future.done()]
            if not done:
                time.sleep(POLL_SECONDS)
            for future in done:
                task = flying.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001  (a lost worker fails its run only)
                    outcome = _failed(exc)
                try:
                    yield task, outcome
                finally:
                    locks.release(task["run"])
    finally:
        executor.close()
        locks.release_all()


# --------------------------------------------------------------------------------------------
# The results table


def _flatten(results: dict[str, Any], reserved: set[str]) -> dict[str, Any]:
    """Table columns from one run's records: scalars as they are, dicts of scalars as
    ``name_key``, the claims list as ``<claim>_verdict`` / ``<claim>_ours`` (repeated claim ids
    numbered ``C1_1``, ``C1_2``) plus ``claims_holding``; other lists are left to the run's JSON.
    A record named like a parameter (an echo of it) becomes ``<name>_recorded``."""
    row: dict[str, Any] = {}
    for name, value in results.items():
        column = f"{name}_recorded" if name in reserved else name
        if name == "claims" and isinstance(value, list):
            ids = [claim.get("claim", "claim") for claim in value]
            seen: dict[str, int] = {}
            for claim, cid in zip(value, ids, strict=False):
                seen[cid] = seen.get(cid, 0) + 1
                key = f"{cid}_{seen[cid]}" if ids.count(cid) > 1 else cid
                row[f"{key}_verdict"] = claim.get("verdict")
                if isinstance(claim.get("ours_value"), (int, float)):
                    row[f"{key}_ours"] = claim["ours_value"]
            row["claims_holding"] = sum(claim.get("verdict") == "holds" for claim in value)
        elif isinstance(value, dict):
            row.update(
                {f"{column}_{k}": v for k, v in value.items() if not isinstance(v, (list, dict))}
            )
        elif not isinstance(value, list):
            row[column] = value
    return row


def runs_table(records: list[dict]) -> pd.DataFrame:
    """One row per run from the runs' JSON records: run, the chapter's parameters (all of them,
    defaults filled in), status, error, seconds, then the flattened results."""
    import pandas as pd

    rows = []
    for rec in records:
        values = {
            k: _shown(v) if isinstance(v, (list, dict)) else v for k, v in rec["values"].items()
        }
        reserved = set(values) | set(FIXED_COLUMNS)
        rows.append(
            {
                "run": rec["run"],
                **values,
                "status": rec["status"],
                "error": rec["error"],
                "seconds": rec["seconds"],
                **_flatten(rec["results"], reserved),
            }
        )
    table = pd.DataFrame(rows)
    for column in table.columns[table.dtypes == object]:
        kinds = {type(v) for v in table[column] if v is not None and v == v}
        if len(kinds) > 1:  # a number in one run, a string in another: Parquet wants one type
            table[column] = [None if v is None else str(v) for v in table[column]]
    return table


def _write_table(table: pd.DataFrame, out: Path) -> None:
    """``results.parquet`` and ``results.csv``, each written atomically: never half a table."""
    import io

    parquet = io.BytesIO()
    table.to_parquet(parquet, index=False)
    write_atomic(out / "results.parquet", parquet.getvalue())
    write_atomic(out / "results.csv", table.to_csv(index=False))


def _numeric(table: pd.DataFrame, column: str) -> bool:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return is_numeric_dtype(table[column]) and not is_bool_dtype(table[column])


def default_metric(table: pd.DataFrame, parameters: list[str]) -> str | None:
    """The first numeric result that differs between successful runs, else the first numeric
    result (parameters and their recorded echoes excluded)."""
    skip = set(parameters) | set(FIXED_COLUMNS) | {f"{p}_recorded" for p in parameters}
    ok = table[table["status"] == "ok"]
    numeric = [c for c in table.columns if c not in skip and _numeric(table, c)]
    varying = [c for c in numeric if ok[c].nunique(dropna=True) > 1]
    return (varying or numeric or [None])[0]


def _field(name: str) -> str:
    return name.replace(".", "\\.")  # vega-lite reads a dot as a nested field


def chart(table: pd.DataFrame, metric: str, swept: list[str], *, title: str = "") -> alt.Chart:
    """An altair chart of ``metric`` against the first swept parameter that varies, one line per
    combination of the others. Failed runs are left out."""
    import altair as alt

    data = table[table["status"] == "ok"].copy()
    varying = [p for p in swept if data[p].nunique() > 1] or swept[:1] or ["run"]
    x, others = varying[0], varying[1:]
    data["runs"] = (
        data[others].astype(str).apply(lambda r: ",".join(f"{k}={v}" for k, v in r.items()), axis=1)
        if others
        else "all"
    )
    kind = "Q" if _numeric(data, x) else "N"
    tooltip = ["run:N", *map(_field, swept), alt.Tooltip(f"{_field(metric)}:Q", format=".4g")]
    color = (
        alt.Color("runs:N", title=",".join(others)) if others else alt.Color("runs:N", legend=None)
    )
    columns = list(dict.fromkeys(["run", *swept, x, metric, "runs"]))
    return (
        alt.Chart(data[columns])
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{_field(x)}:{kind}", title=x),
            y=alt.Y(f"{_field(metric)}:Q", title=metric),
            color=color,
            tooltip=tooltip,
        )
        .properties(width=420, height=260, title=title or f"{metric} against {x}")
    )


# --------------------------------------------------------------------------------------------
# The sweep


_FILE_DIGESTS: dict[tuple, str] = {}


def _file_digest(path: Path) -> str:
    """sha256 of a file's bytes, remembered by path, inode, size and change times."""
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def _folder_identity(folder: Path) -> dict[str, Any]:
    folder = folder.expanduser()
    if not folder.is_dir():
        return {"folder": str(folder), "files": None}
    files = sorted(p for p in folder.iterdir() if "-idx" in p.name and p.is_file())
    return {"folder": str(folder.resolve()), "files": {p.name: _file_digest(p) for p in files}}


def data_identity() -> dict[str, Any]:
    """What data a run may read, as it is now: each place the chapters' data comes from (full
    MNIST: ``$ADVLIB_DATA`` and ``<cache>/data/mnist``; Fashion-MNIST: ``$ADVLIB_FASHION_MNIST``
    and Debian's folder), resolved, with the sha256 of every IDX file in it (None: no such
    folder), and the sha256 of the embedded digits' file. A copied, replaced or re-pointed data
    set changes it; hashes are remembered per file by inode, size and times."""
    import importlib.resources

    from advlib import data
    from advlib.paths import cache_dir

    places = {
        "mnist cache": cache_dir() / "data" / "mnist",
        "fashion-mnist debian": Path(data.FASHION_MNIST_DEBIAN_DIR),
    }
    for variable in ("ADVLIB_DATA", "ADVLIB_FASHION_MNIST"):
        if os.environ.get(variable):
            places[variable] = Path(os.environ[variable])
    identity: dict[str, Any] = {name: _folder_identity(folder) for name, folder in places.items()}
    package, name = data.EMBEDDED_RESOURCE
    try:
        with importlib.resources.as_file(importlib.resources.files(package) / name) as path:
            identity["embedded"] = _file_digest(Path(path))
    except (ModuleNotFoundError, FileNotFoundError):
        identity["embedded"] = None
    return identity


def resume_key(chapter: str | Path) -> dict[str, str]:
    """What a finished run must share with a new one to be skipped: the sha256 of the chapter's
    source, of the science code (``advlib.book.sphinxext.advlib_digest``) and of
    :func:`data_identity`."""
    from advlib.book.sphinxext import advlib_digest

    data = json.dumps(data_identity(), sort_keys=True).encode()
    return {
        "chapter_sha256": _file_digest(Path(chapter)),
        "advlib_sha256": advlib_digest(),
        "data_sha256": hashlib.sha256(data).hexdigest(),
    }


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _save(runs: Path, task: dict, outcome: dict) -> None:
    """Write a finished run's notebook, then its record (the record marks the run done)."""
    name = task["run"]
    if outcome.get("notebook") is not None:
        write_atomic(runs / f"{name}.ipynb", outcome["notebook"])
    else:
        (runs / f"{name}.ipynb").unlink(missing_ok=True)  # not a stale notebook of an older run
    record = {k: task[k] for k in ("run", "chapter", *RESUME_KEY, "parameters", "values")}
    record.update({k: outcome[k] for k in ("status", "error", "seconds", "worker", "results")})
    record["finished"] = time.time()
    write_atomic(runs / f"{name}.json", json.dumps(record, indent=1))


def _settled(runs: Path, task: dict, *, resume: bool, since: float) -> bool:
    """Whether ``task`` needs no run: another sweep finished it after ``since`` (whatever its
    status: a run is never run twice at once), or, with ``resume``, it succeeded before with
    the same parameters and resume key and its notebook is there."""
    done = _load(runs / f"{task['run']}.json")
    if not done:
        return False
    if done.get("finished", 0.0) >= since:
        return True
    return (
        resume
        and done.get("status") == "ok"
        and done.get("parameters") == task["parameters"]
        and all(done.get(k) == task[k] for k in RESUME_KEY)
        and (runs / f"{task['run']}.ipynb").is_file()
    )


def _progress(enabled: bool | None, total: int, done: int, desc: str):
    from tqdm.auto import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty() and not os.environ.get("CI")
    return tqdm(
        total=total, initial=done, desc=desc, unit="run", file=sys.stderr, disable=not enabled
    )


def sweep(
    chapter: str | Path,
    grid: dict[str, Any],
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    metric: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Run ``chapter`` for every combination of ``grid`` (name → list of values); return the
    results table (one row per run, see ``runs_table``), also written under ``out``.

    ``workers``: runs at a time (default: one per core, at most one per run). ``scheduler``:
    ``None`` (local processes), ``"local"`` (a Dask ``LocalCluster`` of ``workers`` workers) or
    a Dask scheduler address; the cluster's workers must see the chapter at the same path.
    ``threads``: torch/BLAS threads per run (default: cores // runs at a time, per host).
    ``metric``: the result charted (default ``default_metric``). A failed run is a row with
    ``status == "failed"`` and its ``error``; it does not stop the sweep. All parameters are
    checked before anything runs (:class:`~advlib.book.runner.ParameterError`).
    """
    chapter = Path(chapter).resolve()
    combos = expand_grid(chapter, grid)
    defaults = {name: p.default for name, p in chapter_parameters(chapter).items()}
    out = Path(out) if out is not None else Path("sweeps") / chapter.stem
    if workers is not None and workers < 1:
        raise ValueError(f"sweep: workers must be >= 1, got {workers}")
    if threads is not None and threads < 1:
        raise ValueError(f"sweep: threads must be >= 1, got {threads}")
    check_sweep_arguments(chapter, out=out, metric=metric, scheduler=scheduler)
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for folder in (out, runs):  # what a killed sweep was writing
        remove_stale_temporaries(folder)
    _remove_dead_scratch()

    since, key = time.time(), resume_key(chapter)
    # the kernel inherits ADVLIB_* settings (the model cache above all); never the book's results
    env = {k: v for k, v in os.environ.items() if k.startswith("ADVLIB_")}
    env["ADVLIB_RESULTS"] = "off"
    tasks = []
    for values in combos:
        plain = json.loads(json.dumps(values))
        tasks.append(
            {
                "run": run_name(values),
                "chapter": str(chapter),
                **key,
                "parameters": plain,
                "values": {**defaults, **plain},
                "env": env,
            }
        )

    def settled(task: dict) -> bool:
        return _settled(runs, task, resume=resume, since=since)

    pending = [task for task in tasks if not settled(task)]
    finished: Iterator[tuple[dict, dict | None]] = (done for done in ())  # closable: all done
    if pending:
        if scheduler is None:
            workers = workers or min(cores(), len(pending))
            executor = _Local(workers, threads or max(1, cores() // workers))
        else:
            executor = _Dask(scheduler, workers, threads, len(pending))
        finished = _schedule(pending, executor, _RunLocks(out), settled)
    bar = _progress(progress, len(combos), len(combos) - len(pending), chapter.stem)
    try:
        with closing(finished):
            for task, outcome in finished:
                if outcome is not None:  # None: the other sweep into this folder ran it
                    _save(runs, task, outcome)
                    if outcome["status"] != "ok" and not bar.disable:
                        bar.write(f"failed: {task['run']}: {outcome['error']}", file=sys.stderr)
                bar.update()
    finally:
        bar.close()
        records = [r for r in (_load(runs / f"{run_name(v)}.json") for v in combos) if r]
        table = runs_table(records)
        if records:
            _write_table(table, out)

    swept = list(combos[0])
    if table.empty:
        return table
    metric = metric or default_metric(table, list(defaults))
    if metric is not None and metric not in table.columns:
        numeric = [c for c in table.columns if _numeric(table, c) and c not in FIXED_COLUMNS]
        raise ParameterError(
            f"sweep: no numeric result {metric!r}; the runs recorded: "
            f"{', '.join(numeric) or '(none)'}"
        )
    table.attrs.update(metric=metric, swept=swept, out=str(out))
    if metric is not None and (table["status"] == "ok").any():
        from advlib.book import charts

        figure = chart(table, metric, swept, title=f"{chapter.stem}: {metric}")
        charts.save(figure, out / "chart.html")  # vega bundled in: works offline
        charts.save(figure, out / "chart.svg")
    return table


def exit_code(table: pd.DataFrame) -> int:
    """0 when every run succeeded, else 100 + the number of failed runs (at most 125), so that
    it never reads as 1 (a crash), 2 (bad parameters) or a signal (128 and up)."""
    failed = int((table["status"] != "ok").sum()) if len(table) else 0
    return 100 + min(failed, MAX_FAILED_CODE) if failed else 0


# --------------------------------------------------------------------------------------------
# Arguments checked before anything runs

_SCHEDULER = re.compile(r"^((tcp|tls|ws|wss|ucx|inproc)://[^\s/]+|[^\s/:]+:\d+)$")


def recorded_names(chapter: str | Path) -> tuple[set[str], set[str], bool]:
    """What the chapter's source records, read without running it: ``(names, claim_ids,
    complete)``. ``names`` are the literal names of its ``record`` calls (and the
    ``paper_<claim>_<field>`` names of ``record_paper``); ``claim_ids`` the literal ids of its
    ``Claim`` rows; ``complete`` is False when some name or id is computed (an f-string, a
    variable), so that the lists may miss some."""
    import ast

    from advlib.book.paper import PAPER
    from advlib.book.runner import chapter_notebook

    names: set[str] = set()
    ids: set[str] = set()
    complete = True
    for cell in chapter_notebook(chapter).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: what the cell records is unknown
            complete = False
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", None)
            )
            first = node.args[0] if node.args else None
            if func == "record":
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
                elif isinstance(first, ast.Dict) and all(
                    isinstance(k, ast.Constant) and isinstance(k.value, str) for k in first.keys
                ):
                    names.update(k.value for k in first.keys)
                else:
                    complete = False
            elif func == "record_paper":
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in PAPER:
                        names.update(f"paper_{arg.value}_{field}" for field in PAPER[arg.value])
                    else:
                        complete = False
            elif func == "Claim":
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    ids.add(first.value)
                else:
                    complete = False
            elif func == "claims_table":
                names.add("claims_holding")
    return names, ids, complete


def _metric_known(metric: str, names: set[str], ids: set[str], params: set[str]) -> bool:
    if metric in names - params or any(metric == f"{n}_recorded" for n in names & params):
        return True
    if any(metric.startswith(f"{n}_") for n in names):  # a recorded dict: name_key
        return True
    return any(re.fullmatch(rf"{re.escape(i)}(_\d+)?_ours", metric) for i in ids)


def check_sweep_arguments(
    chapter: str | Path, *, out: str | Path, metric: str | None, scheduler: str | None
) -> None:
    """The checks :func:`sweep` makes before anything runs, besides the grid's: ``out`` is a
    folder or can be made one; ``metric`` is a numeric result the chapter records (as far as
    its source says: computed names cannot be checked before a run); ``scheduler`` is None,
    ``"local"`` or a Dask address. Raises ParameterError."""
    out = Path(out)
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "is a file" if folder == out else f"lies under {folder}, a file"
                raise ParameterError(
                    f"sweep: --out {out} {where}; it must be a folder (created if missing)"
                )
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ParameterError(
                    f"sweep: --out {out}: the folder {folder} cannot be "
                    "written; it must be a folder advlib may write to"
                )
            break
    if (
        scheduler is not None
        and scheduler != "local"
        and not (isinstance(scheduler, str) and _SCHEDULER.match(scheduler))
    ):
        raise ParameterError(
            f"sweep: --scheduler must be 'local' or a Dask scheduler address "
            f"such as tcp://HOST:8786, got {scheduler!r}"
        )
    if metric is None:
        return
    params = set(chapter_parameters(chapter))
    if not isinstance(metric, str) or not metric.strip():
        raise ParameterError(f"sweep: --metric must name a recorded result, got {metric!r}")
    if metric in params or metric in FIXED_COLUMNS:
        what = "a parameter" if metric in params else "a column of every sweep table"
        raise ParameterError(
            f"sweep: --metric {metric!r} is {what}, not a result; it must name "
            "a numeric result the chapter records"
        )
    if metric.endswith("_verdict") or metric == "data" or re.fullmatch(r"data_\d+", metric):
        raise ParameterError(
            f"sweep: --metric {metric!r} is text (a verdict or a data note); it "
            "must name a numeric result"
        )
    names, ids, complete = recorded_names(chapter)
    if complete and not _metric_known(metric, names, ids, params):
        shown = sorted(n for n in names if not n.startswith("paper_"))
        raise ParameterError(
            f"sweep: --metric {metric!r} is not a result {Path(chapter).name} records; it must be "
            f"one of: {', '.join(shown) or '(none)'}"
            + (f", or <claim>_ours for claims {', '.join(sorted(ids))}" if ids else "")
        )


# --------------------------------------------------------------------------------------------
# Command line


def _cmd_sweep(args: argparse.Namespace) -> int:
    grid: dict[str, list[str]] = {}
    for name, *values in args.parameter or []:
        if not values:
            raise ParameterError(f"sweep: -p {name} needs at least one value")
        if name in grid:
            raise ParameterError(
                f"sweep: parameter {name} is given twice (-p {name} ... -p {name} ...); give all "
                f"its values after one -p, e.g. -p {name} {' '.join(grid[name] + values)}"
            )
        grid[name] = list(values)
    from advlib.book.cli import check_environment

    check_environment()  # the runs' kernels inherit $ADVLIB_*: a bad folder fails them all
    try:
        table = sweep(
            args.chapter,
            grid,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            metric=args.metric,
            threads=args.threads,
            progress=args.progress,
        )
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: the finished runs are kept; run the same command to go on",
            file=sys.stderr,
        )
        return 130
    out = Path(table.attrs["out"])
    failed = table[table["status"] != "ok"]
    print(
        f"{len(table) - len(failed)} of {len(table)} runs succeeded; table: "
        f"{out / 'results.parquet'} and {out / 'results.csv'}"
    )
    if (out / "chart.html").is_file():
        print(f"chart of {table.attrs['metric']}: {out / 'chart.html'} (and chart.svg)")
    for _, row in failed.iterrows():
        print(f"failed: {row['run']}: {row['error']}", file=sys.stderr)
    return exit_code(table)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def add_parser(subparsers: Any) -> None:
    """Add ``sweep`` to ``python -m advlib``."""
    p = subparsers.add_parser(
        "sweep",
        help="run a chapter for every combination of parameter values",
        description="Run CHAPTER for every combination of the values given with -p, in parallel, "
        "and write each executed notebook, one results table and a chart. Exit "
        "status: 0 when every run succeeded, 100 + the number of failed runs (at "
        "most 125) otherwise, 2 for bad parameters (nothing runs), 130 when "
        "interrupted (finished runs are kept and skipped next time).",
    )
    p.add_argument("chapter")
    p.add_argument(
        "-p",
        "--parameter",
        nargs="+",
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter and its values, -p NAME VALUE [VALUE ...]; repeat -p for a grid",
    )
    p.add_argument("--out", help="output folder (default sweeps/<chapter>)")
    p.add_argument(
        "--workers",
        type=_positive,
        help="runs at a time, or the LocalCluster's workers (default: one per core)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS, or 'local' for a LocalCluster",
    )
    p.add_argument(
        "--threads",
        type=_positive,
        help="torch/BLAS threads per run (default: cores // runs at a time)",
    )
    p.add_argument(
        "--metric",
        help="the result to chart (default: the first numeric result that differs between runs)",
    )
    p.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip runs that already succeeded (default) or redo them",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when stderr is a terminal)",
    )
    p.set_defaults(func=_cmd_sweep)
