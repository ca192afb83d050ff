"""Command line: ``vilab run <exercise>`` trains headless; ``vilab data ...`` manages datasets.

Examples::

    vilab run                         # list the exercises
    vilab run temperature --steps 500 --seed 1 --out runs/temp
    vilab run temperature --smoke     # a few steps, as in CI
    vilab data list

A user error (missing data, an unwritable ``--out``, a run that diverges) prints one line
``error: ... Fix: ...`` on stderr and exits with status 1, never a traceback; Ctrl-C exits
with status 130.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .config import SMOKE_ENV_VAR
from .errors import CommandLineError, DatasetUnavailable, VilabError


def _list_exercises() -> int:
    from .exercises import EXERCISES, get_exercise

    print("Available exercises (run one with: vilab run NAME):")
    for name in EXERCISES:
        print(f"  {name:<22} {get_exercise(name).TITLE}")
    return 0


def _run(args) -> int:
    if args.exercise is None:
        return _list_exercises()
    import matplotlib

    matplotlib.use("Agg")  # headless: write PNG files, never open a window
    from .exercises import get_exercise
    from .plots import plot_elbo

    try:
        exercise = get_exercise(args.exercise)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out or Path("runs") / args.exercise)
    _check_writable(out)
    smoke = True if args.smoke else None
    print(f"Training {args.exercise}: {exercise.TITLE}")
    start = time.perf_counter()
    report = exercise.train(
        num_steps=args.steps, seed=args.seed, smoke=smoke, progress=not args.no_progress
    )
    wall_time = time.perf_counter() - start

    histories = {label: trainer.history for label, trainer in report.trainers.items()}
    written = [out / "elbo.png"]
    plot_elbo(histories).figure.savefig(written[0], dpi=100, bbox_inches="tight")
    # train() returns numbers; the pictures come from the exercise's figures module
    figures = report.figures or exercise.plots.figures(report)
    for stem, figure in figures.items():
        written.append(out / f"{stem}.png")
        figure.savefig(written[-1], dpi=100, bbox_inches="tight")
    summary = {
        "exercise": report.name,
        "seed": args.seed,
        "wall_time_s": wall_time,
        "runs": {
            label: {
                "steps": trainer.num_steps_done,
                "final_elbo": trainer.history.final_elbo,
                "final_elbo_per_point": (
                    float(trainer.history.elbo_per_point[-1]) if len(trainer.history) else None
                ),
                "training_time_s": trainer.history.elapsed,
            }
            for label, trainer in report.trainers.items()
        },
        **report.summary,
    }
    written.append(out / "summary.json")
    written[-1].write_text(json.dumps(summary, indent=2, default=float))
    for label, run in summary["runs"].items():
        print(f"  {label}: {run['steps']} steps, final ELBO {run['final_elbo']:.4f}")
    print(f"Done in {wall_time:.1f} s. Wrote: " + ", ".join(str(p) for p in written))
    return 0


def _check_writable(out: Path) -> None:
    """Fail before training, not after it, if the figures cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".vilab-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CommandLineError(
            f"cannot write to the output folder {out} ({exc.strerror or exc}). Fix: pass "
            f"--out with a folder you can write to, e.g. --out runs/mine."
        ) from exc


def _one_line(exc: BaseException) -> str:
    """The message of a user error, on one line."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, DatasetUnavailable):
        return (
            f"the data this command needs are not in the cache and could not be fetched: "
            f"{first} Fix: run `vilab data list` to see what is missing, then `vilab data "
            f"fetch NAME`, or `vilab data import NAME PATH` for a file you downloaded."
        )
    if isinstance(exc, CommandLineError):
        return first
    if isinstance(exc, VilabError):
        return f"{first} (train it in a notebook to read the whole explanation and fixes)"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return (
            f"could not read or write{where} ({exc.strerror or first}). Fix: check the "
            f"path and its permissions."
        )
    return first


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vilab", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command")

    run = subparsers.add_parser("run", help="train an exercise headless and write its figures")
    run.add_argument("exercise", nargs="?", help="exercise name (omit to list them)")
    run.add_argument(
        "--steps",
        type=int,
        default=None,
        help="training steps (default: the "
        "exercise's full-mode count, or its smoke count with --smoke)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--out", default=None, help="output folder (default runs/<exercise>)")
    run.add_argument(
        "--smoke",
        action="store_true",
        help=f"few steps and small data, as in CI (same as {SMOKE_ENV_VAR}=1)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    from .datasets.cli import add_data_parser

    add_data_parser(subparsers)
    from .course.cli import add_course_parser

    add_course_parser(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    if getattr(args, "steps", None) is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    try:
        return args.func(args)
    except (VilabError, OSError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C); nothing more was written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
