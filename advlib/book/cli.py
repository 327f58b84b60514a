"""Command line: ``python -m advlib {params,run,book,train,download}`` (and ``sweep``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _pairs(items: list[list[str]] | None) -> dict[str, str]:
    return {name: value for name, value in (items or [])}


def _cmd_params(args: argparse.Namespace) -> int:
    from advlib.book.runner import chapter_parameters

    params = chapter_parameters(args.chapter)
    print(f"Parameters of {args.chapter}:")
    for p in params.values():
        print("  " + p.describe())
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from advlib.book.runner import run_chapter

    chapter = Path(args.chapter)
    output = Path(args.output) if args.output else chapter.with_name(chapter.stem + ".out.ipynb")
    # the book's stored claims tables (the summary's source) change only when asked
    env = None if args.store_claims else {"ADVLIB_RESULTS": "off"}
    results = run_chapter(chapter, output, _pairs(args.parameter), log_output=args.log, env=env)
    print(f"executed {chapter} -> {output}")
    for name, value in results.items():
        if name != "claims":
            print(f"  {name} = {value!r}")
    for row in results.get("claims", []):
        print(f"  {row['claim']}: {row['quantity']}: paper {row['paper']}, ours {row['ours']}"
              f" -> {row['verdict']}")
    return 0


def _cmd_book(args: argparse.Namespace) -> int:
    from advlib.book.build import build, render_executed
    from advlib.book.paths import book_root

    root = book_root(args.root)
    if root is None:
        print(f"no _toc.yml at or above {args.root}", file=sys.stderr)
        return 2
    if args.render_only:
        return render_executed(root)
    parameters = _pairs(args.parameter)
    if args.scale != "quick":
        parameters["scale"] = args.scale
    if args.epoch_cap:
        parameters["epoch_cap"] = str(args.epoch_cap)
    if args.scheduler:  # train what the chapters need on the cluster first
        _train(args.scale, args.epoch_cap, args.scheduler, None)
    return build(root, parameters)


def _train(scale: str, epoch_cap: int, scheduler: str | None, only: list[str] | None) -> None:
    from advlib.book.needs import book_recipes
    from advlib.zoo import train_all

    recipes = book_recipes(scale, epoch_cap=epoch_cap, chapters=only)
    where = scheduler or "this machine"
    print(f"[advlib train] {len(recipes)} models at scale {scale!r} on {where}", flush=True)
    for row in train_all(recipes, scheduler=scheduler):
        print(f"[advlib train]   {row['name']} seed {row['seed']} on {row['dataset']}, "
              f"{row['epochs']} epochs at most: {row['status']} ({row['seconds']:.0f} s)",
              flush=True)


def _cmd_train(args: argparse.Namespace) -> int:
    _train(args.scale, args.epoch_cap, args.scheduler, args.chapter)
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from advlib.data import download_mnist

    folder = download_mnist(args.directory)
    print(f"MNIST IDX files (sha256-checked) are in {folder}")
    return 0


def _scale_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", choices=("quick", "paper"), default="quick",
                   help="quick: the embedded digits and CI budgets (default); paper: full "
                        "MNIST and the paper's protocol")
    p.add_argument("--epoch-cap", type=int, default=0, metavar="N",
                   help="cap every model's training at N epochs (0: the scale's own)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a Dask scheduler (tcp://host:8786): train the chapters' models on "
                        "its workers and store them in this machine's model cache")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m advlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("params", help="list a chapter's parameters, types and defaults")
    p.add_argument("chapter")
    p.set_defaults(func=_cmd_params)

    p = sub.add_parser("run", help="execute one chapter with papermill, parameters checked")
    p.add_argument("chapter")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"))
    p.add_argument("-o", "--output", help="executed notebook (default CHAPTER.out.ipynb)")
    p.add_argument("--log", action="store_true", help="stream the chapter's output")
    p.add_argument("--store-claims", action="store_true",
                   help="store the chapter's claims table for the book's summary "
                        "($ADVLIB_RESULTS, else the book's _build/results), replacing the one "
                        "stored there; by default a run leaves the book's results alone")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("book", help="execute every chapter with papermill, then render (-W)")
    p.add_argument("root", nargs="?", default=".")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="passed to every chapter that declares it (e.g. -p dataset mnist)")
    p.add_argument("--render-only", action="store_true",
                   help="render the notebooks already executed")
    _scale_options(p)
    p.set_defaults(func=_cmd_book)

    p = sub.add_parser("train", help="train the models the chapters need (here or on Dask)")
    _scale_options(p)
    p.add_argument("--chapter", action="append", metavar="STEM",
                   help="only the models of this chapter (e.g. 06_adversarial_training)")
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
    from advlib.book.runner import ParameterError

    try:
        return args.func(args)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
