"""``vilab course build [--out DIR] [notebooks...]``: write the student editions."""

from __future__ import annotations

import sys

from .build import DEFAULT_OUT, SolutionMarkerError, build, course_notebooks


def _build(args) -> int:
    notebooks = args.notebooks or course_notebooks()
    if not notebooks:
        print(
            "error: no notebooks found in notebooks/. Fix: run this from the repository root, "
            "or name the notebooks to build.",
            file=sys.stderr,
        )
        return 2
    try:
        written = build(notebooks, args.out)
    except (FileNotFoundError, SolutionMarkerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, count in written.items():
        print(f"  {path}  ({count} blank{'s' if count != 1 else ''})")
    print(f"Wrote {len(written)} student notebook(s) to {args.out}/")
    return 0


def add_course_parser(subparsers) -> None:
    """Register ``vilab course ...`` on the main parser's subcommands."""
    course = subparsers.add_parser("course", help="teaching tools: build the student editions")
    actions = course.add_subparsers(dest="course_command")
    build_cmd = actions.add_parser(
        "build",
        help="write the student edition of the notebooks (solutions replaced by blanks)",
    )
    build_cmd.add_argument(
        "notebooks", nargs="*", help="notebooks to build (default: every notebooks/NN_*.ipynb)"
    )
    build_cmd.add_argument(
        "--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT}/)"
    )
    build_cmd.set_defaults(func=_build)
