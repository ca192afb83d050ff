"""Pure plotting: functions take arrays (or a History) and draw on an Axes.

Each function accepts ``ax=None`` (a new figure is made) and returns the Axes it drew on;
``ax.figure`` is the Figure. Nothing here trains or imports widgets.
"""

from .density import plot_density_comparison
from .elbo import plot_elbo

__all__ = ["plot_density_comparison", "plot_elbo"]
