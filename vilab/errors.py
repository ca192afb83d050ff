"""Exceptions raised by vilab, each carrying a message that says how to fix the problem."""

from __future__ import annotations


class VilabError(Exception):
    """Base class of vilab's own errors."""


class ModelGuideMismatch(VilabError, ValueError):
    """The guide does not fit the model (missing site, wrong shape, wrong support...)."""


class TrainingDiverged(VilabError, FloatingPointError):
    """The loss or a gradient became NaN/inf; the last finite parameters were kept.

    ``step`` is the number of the step that failed (1-based, counted over the whole run).
    """

    def __init__(self, message: str, step: int):
        super().__init__(message)
        self.step = step


class CheckpointError(VilabError, ValueError):
    """A checkpoint file does not match the trainer it is loaded into."""


class GraphvizMissing(VilabError, RuntimeError):
    """Drawing a model graph needs the graphviz Python package and its `dot` program."""
