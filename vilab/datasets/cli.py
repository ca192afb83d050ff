"""``vilab data``: see, download and hand-place the course's data files.

    vilab data list                      every file: cached / missing / corrupt, and its path
    vilab data fetch rugged              download (a group name such as ``mnist`` works too)
    vilab data import mnist-train-images ~/Downloads/train-images-idx3-ubyte.gz

``vilab/cli.py`` hooks this in with :func:`add_data_parser`; every handler returns the
process exit code (0 success, 1 failure).
"""

from __future__ import annotations

import argparse
import sys

from . import cache
from .download import DEFAULT_TIMEOUT, DatasetUnavailable, fetch, import_file


def _list(args: argparse.Namespace) -> int:
    root = cache.data_dir(args.data_dir)
    print(f"Cache folder: {root}")
    rows = [
        (entry.name, cache.file_status(entry, root), cache.file_path(entry, root))
        for entry in cache.REGISTRY.values()
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, status, path in rows:
        print(f"{name:<{width}}  {status:<7}  {path}")
    if any(status == "corrupt" for _, status, _ in rows):
        print("A corrupt file fails its checksum: run `vilab data fetch NAME` to replace it.")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    try:
        entries = cache.expand_names(args.name)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    failed = 0
    for entry in entries:
        try:
            path = fetch(entry.name, args.data_dir, progress=args.progress, timeout=args.timeout)
        except DatasetUnavailable as error:
            print(f"{entry.name}: failed\n{error}\n", file=sys.stderr)
            failed += 1
        else:
            print(f"{entry.name}: ok  {path}")
    return 1 if failed else 0


def _import(args: argparse.Namespace) -> int:
    try:
        target = import_file(args.name, args.path, args.data_dir)
    except (ValueError, OSError, DatasetUnavailable) as error:
        print(f"{args.name}: not imported\n{error}", file=sys.stderr)
        return 1
    print(f"{args.name}: verified and copied to {target}")
    return 0


def _help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _add_data_dir(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument(
        "--data-dir",
        default=default,
        metavar="DIR",
        help=f"cache folder (default: ${cache.ENV_VAR}, else data/ or ~/.cache/vilab)",
    )


def add_data_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``data`` and its sub-commands to an ``add_subparsers()`` object; return its parser."""
    parser = subparsers.add_parser(
        "data",
        help="list, download or import the data files",
        description="List, download (with checksum checks) or import the course's data files.",
    )
    _add_data_dir(parser, None)
    parser.set_defaults(func=_help(parser))
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    names = sorted(cache.REGISTRY) + sorted(cache.GROUPS)

    show = commands.add_parser("list", help="every file with its status and path")
    show.set_defaults(func=_list)

    get = commands.add_parser("fetch", help="download a file (or a group, e.g. mnist)")
    get.add_argument("name", metavar="NAME", help="one of: " + ", ".join(names))
    get.add_argument("--no-progress", dest="progress", action="store_false")
    get.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds")
    get.set_defaults(func=_fetch)

    put = commands.add_parser("import", help="verify a file obtained elsewhere; copy it in")
    put.add_argument("name", metavar="NAME", help="one of: " + ", ".join(sorted(cache.REGISTRY)))
    put.add_argument("path", metavar="PATH", help="the file, or a folder holding it")
    put.set_defaults(func=_import)

    for sub in (show, get, put):  # `vilab data list --data-dir X` works as well
        _add_data_dir(sub, argparse.SUPPRESS)
    return parser
