"""vilab: a workbench for learning and teaching variational inference with Pyro.

The public API is small on purpose; importing vilab never imports ipywidgets (the
interactive panel lives in :mod:`vilab.ui` and is imported only when asked for).
"""

from .callbacks import Callback, ProgressBar
from .config import apply_thread_policy, smoke_mode
from .engine import Trainer
from .errors import (
    CheckpointError,
    CommandLineError,
    DatasetUnavailable,
    DataSourceNotice,
    DownloadError,
    GraphvizMissing,
    InfError,
    ModelGuideMismatch,
    SolutionMarkerError,
    TrainingDiverged,
    VilabError,
    VilabWarning,
)
from .history import History

__version__ = "0.1.0"

# One torch thread unless VILAB_NUM_THREADS says otherwise: measured in config.torch_threads.
apply_thread_policy()

# Submodules reachable as attributes (``vilab.ui.TrainingPanel``) but imported only on first
# use, so ``import vilab`` stays light and never imports ipywidgets.
_LAZY_SUBMODULES = {
    "arviz_export",
    "checks",
    "course",
    "datasets",
    "evidence",
    "exercises",
    "graph",
    "inf",
    "kl",
    "plots",
    "reference",
    "ui",
}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'vilab' has no attribute {name!r}")


__all__ = [
    "Callback",
    "CheckpointError",
    "CommandLineError",
    "DataSourceNotice",
    "DatasetUnavailable",
    "DownloadError",
    "GraphvizMissing",
    "History",
    "InfError",
    "ModelGuideMismatch",
    "ProgressBar",
    "SolutionMarkerError",
    "Trainer",
    "TrainingDiverged",
    "VilabError",
    "VilabWarning",
    "smoke_mode",
]
