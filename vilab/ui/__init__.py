"""The ipywidgets front end: the training panel and the latent explorer.

Importing :mod:`vilab` never imports ipywidgets; importing ``vilab.ui`` does::

    from vilab.ui import TrainingPanel
    TrainingPanel(trainer, num_steps=2000).train()

How the panel runs (an asyncio task on the kernel's loop) and when ``train()`` blocks is
documented once, in :mod:`vilab.ui.runner`.
"""

from __future__ import annotations

from .panel import TrainingPanel

__all__ = ["KLExplorer", "LatentExplorer", "TrainingPanel"]


def __getattr__(name: str):
    # imported on first use, so vilab.ui works while latent_explorer.py is being written
    if name == "LatentExplorer":
        from .latent_explorer import LatentExplorer

        return LatentExplorer
    if name == "KLExplorer":
        from .kl_explorer import KLExplorer

        return KLExplorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
