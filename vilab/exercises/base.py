"""The shape every course exercise has, written once and checked by a test.

An exercise is two modules: ``vilab/exercises/<name>.py`` computes (model, guides, data,
reference answer, ``make_trainer``, ``train``) and never draws; ``<name>_figures.py`` draws
(``live_plot``, ``figures(report)`` and the exercise's own plots). The numbers module
reaches its pictures lazily as ``<name>.plots``, so a notebook imports one module per
exercise and no import runs in a circle. ``temperature.py`` is the annotated template: a
new exercise starts as a copy of it and its ``_figures`` module.

:func:`contract_problems` lists, in plain words, what a module lacks;
``tests/exercises/test_contract.py`` runs it over every registered exercise.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class ExerciseReport:
    """The outcome of ``<exercise>.train(...)``: numbers only (``<exercise>.plots.figures``
    draws them).

    ``trainers`` maps a label (e.g. "VI", "MAP", "Africa") to the Trainer behind it; their
    histories make the ELBO plot and ``trainer.context`` holds each one's data. ``summary`` is
    JSON-ready (posterior summaries, reference comparisons).
    """

    name: str
    trainers: dict
    summary: dict
    figures: dict = field(default_factory=dict)  # filled by the CLI from plots.figures()


@runtime_checkable
class Exercise(Protocol):
    """What an exercise module provides (module attributes, checked by
    :func:`contract_problems`)."""

    NAME: str  # the registry key, e.g. "temperature"
    TITLE: str  # one line for the CLI and the notebook heading
    FULL_STEPS: int  # steps in class
    SMOKE_STEPS: int  # steps in smoke mode (CI)
    DEFAULT_OPTIONS: dict  # the Trainer options the exercise is tuned with
    GUIDES: dict  # guide name -> guide function (or an autoguide class built on the model)

    def load_data(self, smoke: bool | None = None) -> Any: ...

    def model(self, *args, **kwargs) -> None: ...

    def guide(self, *args, **kwargs) -> None: ...

    def make_trainer(self, data=None, guide=..., seed: int = 0, **options): ...

    def reference(self, data=None) -> dict: ...

    def train(
        self, num_steps: int | None = None, seed: int = 0, smoke=None, progress: bool = True
    ) -> ExerciseReport: ...


# piece -> what to write, in the words of the error a teacher sees
_PIECES = {
    "NAME": "a constant NAME = '<name>' (the registry key)",
    "TITLE": "a constant TITLE, one line saying what the exercise shows",
    "FULL_STEPS": "a constant FULL_STEPS, the step count used in class",
    "SMOKE_STEPS": "a constant SMOKE_STEPS, the step count in smoke mode (CI)",
    "DEFAULT_OPTIONS": "a dict DEFAULT_OPTIONS of the Trainer options it is tuned with",
    "GUIDES": "a dict GUIDES mapping guide names to guides (the course's first)",
    "load_data": "a function load_data(smoke=None) returning the data make_trainer uses",
    "model": "the course's model, a function model(...)",
    "guide": "the course's guide, a function guide(...)",
    "make_trainer": "a function make_trainer(data=None, guide=..., seed=0, **options)",
    "reference": "a function reference(data=None) returning the exact or published answer",
    "train": "a function train(num_steps=None, seed=0, smoke=None, progress=True)",
}
_PARAMETERS = {
    "load_data": ("smoke",),
    "make_trainer": ("data", "guide", "seed"),
    "reference": ("data",),
    "train": ("num_steps", "seed", "smoke", "progress"),
}
_FIGURE_PIECES = {
    "live_plot": "a function live_plot(trainer, ax) drawing the trainer's own data",
    "figures": "a function figures(report) returning {file stem: matplotlib Figure}",
}


def contract_problems(module) -> list[str]:
    """What ``module`` lacks to be a course exercise, one plain sentence per piece
    (empty when it has everything). Also checks its ``<name>_figures`` module."""
    label = getattr(module, "__name__", repr(module)).rsplit(".", 1)[-1]
    problems = []
    for piece, wanted in _PIECES.items():
        value = getattr(module, piece, None)
        if value is None:
            problems.append(f"exercise {label!r} has no {piece}: add {wanted}.")
        elif piece in _PARAMETERS and callable(value):
            missing = _missing_parameters(value, _PARAMETERS[piece])
            if missing:
                problems.append(
                    f"exercise {label!r}: {piece} lacks the parameter(s) "
                    f"{', '.join(missing)}: write {wanted}."
                )
        elif piece in ("model", "guide", "load_data") and not callable(value):
            problems.append(f"exercise {label!r}: {piece} is not callable: add {wanted}.")
    if getattr(module, "NAME", label) != label:
        problems.append(f"exercise {label!r}: NAME is {module.NAME!r}; it must be {label!r}.")
    try:
        pictures = figures_module(module)
    except ImportError as exc:
        problems.append(
            f"exercise {label!r} has no figures module ({exc}): add {label}_figures.py with "
            f"{_FIGURE_PIECES['live_plot']} and {_FIGURE_PIECES['figures']}."
        )
    else:
        for piece, wanted in _FIGURE_PIECES.items():
            if not callable(getattr(pictures, piece, None)):
                problems.append(f"{label}_figures has no {piece}: add {wanted}.")
    return problems


def _missing_parameters(fn: Callable, names) -> list[str]:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return []
    return [name for name in names if name not in parameters]


def figures_module(module):
    """The ``<name>_figures`` module beside an exercise module (imported on first use)."""
    return importlib.import_module(f"{module.__name__}_figures")


def lazy_plots(module_name: str):
    """A module ``__getattr__`` that makes ``<exercise>.plots`` the figures module, imported
    only when used: ``__getattr__ = lazy_plots(__name__)`` at the end of an exercise."""

    def __getattr__(name: str):
        if name == "plots":
            return importlib.import_module(f"{module_name}_figures")
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


def choose_guide(choice, guides: dict, model):
    """The guide to train: a name from the exercise's ``guides`` (an autoguide class there is
    built on ``model``) or a guide function of your own."""
    if isinstance(choice, str):
        if choice not in guides:
            raise ValueError(
                f"guide must be one of {', '.join(repr(g) for g in guides)} or a guide "
                f"function of your own, got {choice!r}. Fix: e.g. guide={next(iter(guides))!r}."
            )
        chosen = guides[choice]
        if isinstance(chosen, type):  # an autoguide class, e.g. AutoNormal
            return chosen(model)
        return chosen
    if callable(choice):
        return choice
    raise ValueError(
        f"guide must be one of {', '.join(repr(g) for g in guides)} or a guide function, "
        f"got {choice!r}."
    )
