"""Command line: ``python -m advlib {params,run,book,download}`` (and ``sweep``)."""

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
    return build(root, _pairs(args.parameter))


def _cmd_download(args: argparse.Namespace) -> int:
    from advlib.data import download_mnist

    folder = download_mnist(args.directory)
    print(f"MNIST IDX files (sha256-checked) are in {folder}")
    return 0


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
    p.set_defaults(func=_cmd_book)

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
