"""Command line: ``python -m advlib {params,run,book,train,download}`` (and ``sweep``).

Every argument is checked before anything runs. A bad one (a missing, unreadable or
non-chapter file, a folder where a file is expected, an output under a file, an unknown, NaN
or repeated parameter, a folder named by ``$ADVLIB_*`` that is missing or a file) ends the
command with exit status 2 and one line on stderr, ``error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

__all__ = ["main", "UsageError", "check_environment"]


class UsageError(ValueError):
    """A command-line argument that cannot be used (the message says what is allowed)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (``error: ...``), exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message}; run `{self.prog} --help` for what it takes\n")


def _one_line(message: str) -> str:
    """A multi-line message (a ParameterError lists the chapter's parameters) on one line."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    head, rest = lines[0], lines[1:]
    return head + (" " + "; ".join(rest) if rest else "")


def _pairs(items: list[list[str]] | None, verb: str) -> dict[str, str]:
    """``-p NAME VALUE`` pairs as a dict; a name given twice is an error, not the last one."""
    found: dict[str, str] = {}
    for name, value in items or []:
        if name in found:
            raise UsageError(
                f"{verb}: parameter {name} is given twice (-p {name} {found[name]} and "
                f"-p {name} {value}); give each parameter once"
            )
        found[name] = value
    return found


def check_environment() -> None:
    """The folders named by ``$ADVLIB_CACHE``, ``$ADVLIB_DATA`` and ``$ADVLIB_FASHION_MNIST``
    are usable (checked before a verb runs anything); a bad one is a UsageError."""
    from advlib.data import DataError, check_data_environment
    from advlib.paths import cache_dir

    try:
        cache_dir()
        check_data_environment()
    except (ValueError, DataError) as exc:
        raise UsageError(str(exc)) from None


def _cmd_params(args: argparse.Namespace) -> int:
    from advlib.book.runner import chapter_parameters

    params = chapter_parameters(args.chapter)
    print(f"Parameters of {args.chapter}:")
    for p in params.values():
        print("  " + p.describe())
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from advlib.book.runner import check_output, check_parameters, run_chapter

    chapter = Path(args.chapter)
    values = check_parameters(chapter, _pairs(args.parameter, "run"))
    output = Path(args.output) if args.output else chapter.with_name(chapter.stem + ".out.ipynb")
    check_output(output, what="-o/--output")
    check_environment()
    # the book's stored claims tables (the summary's source) change only when asked
    env = None if args.store_claims else {"ADVLIB_RESULTS": "off"}
    results = run_chapter(chapter, output, values, log_output=args.log, env=env)
    print(f"executed {chapter} -> {output}")
    for name, value in results.items():
        if name != "claims":
            print(f"  {name} = {value!r}")
    for row in results.get("claims", []):
        print(
            f"  {row['claim']}: {row['quantity']}: paper {row['paper']}, ours {row['ours']}"
            f" -> {row['verdict']}"
        )
    return 0


def _book_parameters(root: Path, given: dict[str, str]) -> dict:
    """Every ``-p`` name must be a parameter of some chapter of the book, and its value must
    fit each chapter that declares it; returns the values as given (each chapter parses its
    own)."""
    from advlib.book.build import toc_chapters
    from advlib.book.runner import chapter_parameters, check_parameters

    try:
        chapters = toc_chapters(root)
    except Exception as exc:  # noqa: BLE001  (a _toc.yml that YAML or the walker cannot read)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(
            f"book: cannot read {root / '_toc.yml'} ({first}); it must be YAML "
            "listing the chapters, as jupyter-book reads it"
        ) from None
    declared: dict[str, list[Path]] = {}
    for chapter in chapters:
        for name in chapter_parameters(chapter):
            declared.setdefault(name, []).append(chapter)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise UsageError(
            f"book: no chapter of {root} has a parameter {', '.join(map(repr, unknown))}; "
            f"the chapters' parameters are {', '.join(sorted(declared)) or '(none)'}"
        )
    for name, value in given.items():
        for chapter in declared[name]:
            check_parameters(chapter, {name: value})
    return given


def _cmd_book(args: argparse.Namespace) -> int:
    from advlib.book.build import build, render_executed
    from advlib.book.paths import book_root

    start = Path(args.root)
    if not start.exists():
        raise UsageError(
            f"book: {start} does not exist; ROOT must be the book's folder (the one "
            "holding _toc.yml) or a folder inside it"
        )
    if not start.is_dir():
        raise UsageError(
            f"book: {start} is a file; ROOT must be the book's folder (the one "
            "holding _toc.yml) or a folder inside it"
        )
    root = book_root(start)
    if root is None:
        raise UsageError(
            f"book: no _toc.yml at or above {start}; ROOT must be the book's folder "
            "or a folder inside it"
        )
    given = _pairs(args.parameter, "book")
    for name, option in (("scale", "--scale"), ("epoch_cap", "--epoch-cap")):
        if name in given:
            raise UsageError(f"book: give {name} with {option}, not -p {name}")
    parameters = _book_parameters(root, given)
    if args.render_only:
        if parameters or args.scale != "quick" or args.epoch_cap or args.scheduler or args.workers:
            raise UsageError(
                "book: --render-only renders the notebooks already executed; it "
                "takes no -p, --scale, --epoch-cap, --scheduler or --workers"
            )
        return render_executed(root)
    check_environment()
    if args.scale != "quick":
        parameters["scale"] = args.scale
    if args.epoch_cap:
        parameters["epoch_cap"] = str(args.epoch_cap)
    workers = _worker_count(args, "book")
    if args.scheduler or workers > 1:  # train what the chapters need first
        _train(args.scale, args.epoch_cap, args.scheduler, None, workers)
    return build(root, parameters)


def _check_scheduler(scheduler: str) -> None:
    """A Dask scheduler answers at ``scheduler``: a UsageError now, not a traceback from deep
    inside distributed after the models were listed."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs Dask's distributed: pip install -e .[sweep]") from None
    try:
        with Client(scheduler, timeout="10s"):
            pass
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); "
            "start one (dask scheduler) and give its address"
        ) from None


def _train(
    scale: str, epoch_cap: int, scheduler: str | None, only: list[str] | None, workers: int
) -> None:
    from advlib.book.needs import book_recipes
    from advlib.zoo import train_all

    if scheduler:
        _check_scheduler(scheduler)
    recipes = book_recipes(scale, epoch_cap=epoch_cap, chapters=only)
    where = scheduler or f"this machine ({workers} process{'es' if workers > 1 else ''})"
    print(f"[advlib train] {len(recipes)} models at scale {scale!r} on {where}", flush=True)
    tic = time.perf_counter()
    rows = train_all(recipes, scheduler=scheduler, workers=1 if scheduler else workers)
    for row in rows:
        print(
            f"[advlib train]   {row['name']} seed {row['seed']} on {row['dataset']}, "
            f"{row['epochs']} epochs at most: {row['status']} ({row['seconds']:.0f} s)",
            flush=True,
        )
    print(f"[advlib train] done in {time.perf_counter() - tic:.0f} s", flush=True)


def _cmd_train(args: argparse.Namespace) -> int:
    from advlib.book.needs import NEEDS

    unknown = sorted(set(args.chapter or ()) - set(NEEDS))
    if unknown:
        raise UsageError(
            f"train: --chapter {', '.join(unknown)} is not a chapter that trains "
            f"models; it must be one of {', '.join(sorted(NEEDS))}"
        )
    check_environment()
    _train(args.scale, args.epoch_cap, args.scheduler, args.chapter, _worker_count(args, "train"))
    return 0


def _worker_count(args: argparse.Namespace, verb: str) -> int:
    """--workers, else 1 with --scheduler and one per core without."""
    if args.scheduler and args.workers and args.workers > 1:
        raise UsageError(
            f"{verb}: --workers {args.workers} trains here, --scheduler on a cluster; give one"
        )
    return args.workers or (1 if args.scheduler else os.cpu_count() or 1)


def _check_new_folder(folder: Path, what: str) -> None:
    """``folder`` is a folder, or can be made one: not a file, below no file, writable."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{what} {folder} is a file; it must be a folder (created if missing)")
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(
                    f"{what} {folder} lies under {parent}, which is a file; it must be a folder"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise UsageError(
                    f"{what} {folder}: the folder {parent} cannot be written; it "
                    "must be a folder advlib may write to"
                )
            return


def _cmd_download(args: argparse.Namespace) -> int:
    from advlib.data import download_mnist

    if args.directory is not None:
        _check_new_folder(Path(args.directory), "download: DIRECTORY")
    else:
        check_environment()
    folder = download_mnist(args.directory)
    print(f"MNIST IDX files (sha256-checked) are in {folder}")
    return 0


_SCHEDULER = re.compile(r"^((tcp|tls|ws|wss|ucx|inproc)://[^\s/]+|[^\s/:]+:\d+)$")


def _cap(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            f"must be a whole number >= 0 (0: the scale's own), got {text!r}"
        )
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def _scheduler(text: str) -> str:
    if not _SCHEDULER.match(text):
        raise argparse.ArgumentTypeError(
            f"must be a Dask scheduler address such as tcp://HOST:8786, got {text!r}"
        )
    return text


def _scale_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scale",
        choices=("quick", "paper"),
        default="quick",
        help="quick: the embedded digits and CI budgets (default); paper: full "
        "MNIST and the paper's protocol",
    )
    p.add_argument(
        "--epoch-cap",
        type=_cap,
        default=0,
        metavar="N",
        help="cap every model's training at N epochs (0: the scale's own)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        type=_scheduler,
        help="a Dask scheduler (tcp://host:8786): train the chapters' models on "
        "its workers and store them in this machine's model cache",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="without --scheduler: train the chapters' models in N processes here first, "
        "each with cores // N torch threads (default: one per core; 1 trains each model "
        "in its chapter)",
    )


def _parameter_option(p: argparse.ArgumentParser, help: str | None = None) -> None:
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help=help or "a chapter parameter and its value; each name at most once",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a bad argument)."""
    parser = _Parser(prog="python -m advlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("params", help="list a chapter's parameters, types and defaults")
    p.add_argument("chapter")
    p.set_defaults(func=_cmd_params)

    p = sub.add_parser("run", help="execute one chapter with papermill, parameters checked")
    p.add_argument("chapter")
    _parameter_option(p)
    p.add_argument("-o", "--output", help="executed notebook (default CHAPTER.out.ipynb)")
    p.add_argument("--log", action="store_true", help="stream the chapter's output")
    p.add_argument(
        "--store-claims",
        action="store_true",
        help="store the chapter's claims table for the book's summary "
        "($ADVLIB_RESULTS, else the book's _build/results), replacing the one "
        "stored there; by default a run leaves the book's results alone",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("book", help="execute every chapter with papermill, then render (-W)")
    p.add_argument("root", nargs="?", default=".")
    _parameter_option(
        p,
        "passed to every chapter that declares it (e.g. -p dataset mnist); "
        "each name must be some chapter's parameter",
    )
    p.add_argument(
        "--render-only", action="store_true", help="render the notebooks already executed"
    )
    _scale_options(p)
    p.set_defaults(func=_cmd_book)

    p = sub.add_parser("train", help="train the models the chapters need (here or on Dask)")
    _scale_options(p)
    p.add_argument(
        "--chapter",
        action="append",
        metavar="STEM",
        help="only the models of this chapter (e.g. 06_adversarial_training)",
    )
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("download", help="download full MNIST once (needs internet)")
    p.add_argument("directory", nargs="?", default=None)
    p.set_defaults(func=_cmd_download)

    try:
        from advlib.book.sweep import add_parser as add_sweep_parser
    except ImportError:
        pass
    else:
        add_sweep_parser(sub)

    args = parser.parse_args(argv)
    from advlib.data import DataError

    errors: tuple[type[Exception], ...] = (UsageError, DataError)
    try:
        from advlib.book.runner import ParameterError
    except ImportError:  # the science alone: download works without the book extra
        pass
    else:
        errors += (ParameterError,)
    try:
        return args.func(args)
    except errors as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
