"""``python -m advlib train --scheduler``: the chapters' models trained on a Dask cluster's
workers and stored in this machine's model cache (issue 17, "More than one machine").

A local ``dask scheduler`` and two ``dask worker`` processes (one thread each, each with its own
empty model cache) train chapter 4's two models at the quick scale, capped at one epoch; the
client, with another empty cache, must end up holding them, trained by the workers, with the
weights a single-threaded local run gives bit for bit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

pytest.importorskip("distributed")

from advlib import cache  # noqa: E402
from advlib.book.needs import book_recipes  # noqa: E402
from advlib.data import dataset_id, load_dataset  # noqa: E402
from advlib.train import fit  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")  # the venv's CLI
CHAPTER = "04_fgsm"
STARTUP_SECONDS = 120  # a loaded 2-core machine takes a while to import torch in three processes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(**changes: str) -> dict:
    """This process's environment (the same ADVLIB settings), one thread, no GPU."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "CI": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.update(changes)
    return env


def _start(args: list[str], log: Path, env: dict, cwd: Path) -> subprocess.Popen:
    # its own process group, so that teardown ends the nanny's worker process with it
    with open(log, "wb") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    try:  # what the worker process of a nanny may have left running
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _logs(folder: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
        for p in sorted(folder.glob("*.log"))
    )


@pytest.fixture
def cluster(tmp_path):
    """A scheduler on a free local port and two single-threaded workers, each with its own empty
    ``$ADVLIB_CACHE``; yields ``(address, [worker caches], log folder)``. Every process is
    ended at teardown, whatever the test did."""
    if not DASK.is_file():
        pytest.skip(f"no dask command line at {DASK}")
    from distributed import Client

    logs = tmp_path / "logs"
    logs.mkdir()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        procs.append(
            _start(
                [
                    str(DASK),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                logs / "scheduler.log",
                _environment(),
                tmp_path,
            )
        )
        caches = [tmp_path / f"worker{i}-cache" for i in (1, 2)]
        for i, folder in enumerate(caches, 1):
            procs.append(
                _start(
                    [
                        str(DASK),
                        "worker",
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"worker{i}",
                        "--death-timeout",
                        "60",
                        "--local-directory",
                        str(tmp_path / f"worker{i}-scratch"),
                    ],
                    logs / f"worker{i}.log",
                    _environment(ADVLIB_CACHE=str(folder)),
                    tmp_path,
                )
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # the scheduler answers
            if procs[0].poll() is not None:
                pytest.fail(f"the scheduler exited ({procs[0].returncode})\n{_logs(logs)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"no scheduler on port {port}\n{_logs(logs)}")
                time.sleep(0.5)
        with Client(address, timeout="60s") as client:
            try:
                client.wait_for_workers(2, timeout=max(deadline - time.monotonic(), 10))
            except TimeoutError:
                pytest.fail(f"the workers did not join\n{_logs(logs)}")
        yield address, caches, logs
    finally:
        for proc in reversed(procs):  # workers first, then the scheduler
            _stop(proc)
    assert all(proc.poll() is not None for proc in procs)


def _entry(folder: Path, recipe, data_id: str) -> dict | None:
    path = cache.model_path(
        recipe.config(), data_id, name=f"{recipe.model}-{recipe.training}", folder=folder / "models"
    )
    return torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else None


def test_train_on_a_dask_cluster_stores_the_workers_models_bit_identical(cluster, tmp_path):
    address, worker_caches, logs = cluster
    client_cache = tmp_path / "client-cache"
    tic = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "advlib",
            "train",
            "--scale",
            "quick",
            "--epoch-cap",
            "1",
            "--chapter",
            CHAPTER,
            "--scheduler",
            address,
        ],
        env=_environment(ADVLIB_CACHE=str(client_cache)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - tic
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{_logs(logs)}"
    assert f"2 models at scale 'quick' on {address}" in done.stdout, done.stdout
    assert done.stdout.count(": trained (") == 2, done.stdout

    recipes = book_recipes("quick", epoch_cap=1, chapters=[CHAPTER])
    assert sorted(r.model for r in recipes) == ["maxout", "softmax"]
    x, y = load_dataset(recipes[0].dataset, "train")
    data_id = dataset_id(x, y)
    # the client stored both models and trained none: it holds no checkpoint, and its
    # histories are the workers' own, to the timing of every epoch
    assert sorted(p.name.split("-")[0] for p in (client_cache / "models").glob("*.pt")) == [
        "maxout",
        "softmax",
    ]
    assert not list(client_cache.rglob("*.ckpt"))
    where = {}
    for r in recipes:
        stored = _entry(client_cache, r, data_id)
        assert stored is not None, r
        on_workers = [
            i for i, folder in enumerate(worker_caches, 1) if _entry(folder, r, data_id) is not None
        ]
        assert on_workers, f"{r.model}: in no worker's cache"
        worker = _entry(worker_caches[on_workers[0] - 1], r, data_id)
        assert stored["history"] == worker["history"]
        assert all(
            torch.equal(stored["state_dict"][k], worker["state_dict"][k])
            for k in worker["state_dict"]
        )
        where[r.model] = on_workers

    # the same recipes trained here, in one thread, give the same weights bit for bit
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for r in recipes:
            model = r.build()
            fit(model, x, y, r, device="cpu", progress=False)
            stored = _entry(client_cache, r, data_id)
            local = model.state_dict()
            assert local.keys() == stored["state_dict"].keys()
            assert all(torch.equal(local[k], stored["state_dict"][k]) for k in local), r.model
    finally:
        torch.set_num_threads(threads)
    print(
        f"\n[test_cluster] {address}: trained on workers {where} in {seconds:.1f} s "
        "(client command, start to end)"
    )


def test_train_with_no_scheduler_at_the_address_exits_2_with_one_line(tmp_path):
    port = _free_port()  # nothing listens there
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "advlib",
            "train",
            "--chapter",
            CHAPTER,
            "--epoch-cap",
            "1",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
        ],
        env=_environment(ADVLIB_CACHE=str(tmp_path / "cache")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --scheduler tcp://127.0.0.1:"), lines
    assert "no Dask scheduler answers there" in lines[0]
    assert not (tmp_path / "cache" / "models").exists()  # nothing trained here instead
