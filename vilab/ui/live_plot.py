"""The panel's live figure: ELBO per data point against the step, and optionally the
exercise's "posterior now" picture, redrawn while training without slowing it down.

How it is shown: the figure is created once (a bare ``matplotlib.figure.Figure``, not
pyplot, so the inline backend never shows a stray copy at the end of the cell), each update
moves the lines' data with ``set_data`` and the figure is rendered to PNG into an
``ipywidgets.Image`` inside the panel. Like fastprogress's ``display(fig,
display_id=True)`` + ``handle.update(fig)``, this replaces the picture in place (no
``clear_output`` flicker) and reaches the right cell whatever cell is running; unlike it,
the picture sits inside the panel's widget box, and no ipympl extension is needed.

How often: rendering a PNG takes ~30-100 ms on a laptop, so :class:`RedrawThrottle` waits at
least 0.1 s between redraws and long enough that rendering takes at most ~3% of the time
(never once per step). Lines are downsampled to at most ``max_points`` points, so a run of
100,000 steps draws as fast as one of 2,000. Matplotlib's constrained layout (margins that
fit the labels) would cost more than the drawing itself if run at every draw, so it runs
only when a label, a title or the width of the y tick labels changed.

Log scale: the loss (-ELBO per data point, lower is better) on a log axis. A log axis
needs positive values; when some losses are <= 0 the curve is shifted up by a power of ten
``c`` (the axis label says ``+ c``). Without log scale the plot shows the ELBO itself.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable

import numpy as np

from ..plots.elbo import downsample, moving_average


def log_scale_values(loss: np.ndarray) -> tuple[np.ndarray, float]:
    """Loss values ready for a log axis, and the shift added (0 when all are positive)."""
    loss = np.asarray(loss, dtype=float)
    finite = loss[np.isfinite(loss)]
    lowest = float(finite.min()) if len(finite) else 1.0
    if lowest > 0:
        return loss, 0.0
    shift = 10.0 ** math.ceil(math.log10(1.0 - lowest))
    return loss + shift, shift


class RedrawThrottle:
    """Says when a redraw is due: at most one per ``min_interval`` seconds, and rendering at
    most ``max_share`` of the time (the pause after a redraw grows with its cost)."""

    def __init__(self, min_interval: float = 0.1, max_share: float = 0.03, clock=time.perf_counter):
        self.min_interval, self.max_share, self.clock = min_interval, max_share, clock
        self.interval = min_interval
        self.last = -math.inf
        self.count = 0

    def due(self) -> bool:
        return self.clock() - self.last >= self.interval

    def postpone(self) -> None:
        """Count from now: a run's first redraw comes one interval after its start (the
        picture was drawn when the previous run ended; the status line moves at once)."""
        self.last = self.clock()

    def record(self, cost: float) -> None:
        """A redraw that took ``cost`` seconds just ended."""
        self.last = self.clock()
        self.count += 1
        self.interval = max(self.min_interval, cost / self.max_share)


class LiveElboPlot:
    """ELBO-versus-step axes (plus the ``live_plot(trainer, ax)`` axes when given) on one
    figure that lives as long as the panel. ``update`` sets line data, ``render_png`` draws."""

    def __init__(self, live_plot: Callable | None = None, max_points: int = 2000, dpi: int = 80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        self.live_plot, self.max_points = live_plot, max_points
        ncols = 1 if live_plot is None else 2
        self.figure = Figure(figsize=(5.2 * ncols, 3.4), dpi=dpi)
        FigureCanvasAgg(self.figure)
        self._layout, self._layout_key, self.renders = ConstrainedLayoutEngine(), None, 0
        axes = self.figure.subplots(1, ncols, squeeze=False)[0]
        self.elbo_ax = axes[0]
        self.live_ax = axes[1] if live_plot is not None else None
        (self.raw_line,) = self.elbo_ax.plot([], [], lw=1, color="C0", label="per step")
        (self.smooth_line,) = self.elbo_ax.plot([], [], lw=2, color="C1", label="moving average")
        self.elbo_ax.set_xlabel("step")
        self._log_scale: bool | None = None
        self._set_scale(False)
        if self.live_ax is not None:
            self.live_ax.set_title("posterior now (updates while training)")

    def update(self, history, smoothing: int = 1, log_scale: bool = False) -> None:
        """Show ``history``: raw ELBO per data point, and its moving average over
        ``smoothing`` steps when ``smoothing > 1``; log scale plots the loss instead."""
        steps = np.asarray(history.step, dtype=float)
        values = np.asarray(history.elbo_per_point, dtype=float)
        shift = 0.0
        if log_scale:
            values, shift = log_scale_values(-values)
        self.raw_line.set_data(*downsample(steps, values, self.max_points))
        smoothed = smoothing > 1 and len(values) > 0
        if smoothed:
            self.smooth_line.set_data(
                *downsample(steps, moving_average(values, smoothing), self.max_points)
            )
            self.smooth_line.set_label(f"moving average ({smoothing} steps)")
        else:
            self.smooth_line.set_data([], [])
        self.smooth_line.set_visible(smoothed)
        self.raw_line.set_alpha(0.35 if smoothed else 1.0)
        if len(values):
            self.elbo_ax.relim()
        self._set_scale(log_scale, shift)  # after relim: a log axis needs positive data
        if len(values):
            self.elbo_ax.autoscale_view()
        # a fixed corner: "best" would search the 2,000 points at every redraw
        self.elbo_ax.legend(
            handles=[self.raw_line] + ([self.smooth_line] if smoothed else []),
            loc="upper right" if log_scale else "lower right",
        )

    def draw_live(self, trainer) -> None:
        """Let the exercise redraw its "posterior now" axes from the trainer's current state."""
        self.live_ax.clear()
        self.live_plot(trainer, self.live_ax)

    def render_png(self) -> bytes:
        """The figure as PNG bytes (margins refitted first if the labels changed)."""
        key = self._label_key()
        if key != self._layout_key:
            self._layout.execute(self.figure)
            self._layout_key = key
        self.renders += 1
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def _label_key(self) -> tuple:
        """What decides the margins: texts around the axes and the y tick labels' width."""
        key = []
        for ax in self.figure.axes:
            formatter, locs = ax.yaxis.get_major_formatter(), ax.yaxis.get_majorticklocs()
            widest = max((len(label) for label in formatter.format_ticks(locs)), default=0)
            key.append((ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), widest))
        return tuple(key)

    def _set_scale(self, log_scale: bool, shift: float = 0.0) -> None:
        ax = self.elbo_ax
        if log_scale:
            label = "loss = -ELBO per data point" + (f" + {shift:g}" if shift else "")
            ax.set_ylabel(label + " (log scale)")
            ax.set_title("Loss during training (log scale)")
        else:
            ax.set_ylabel("ELBO per data point")
            ax.set_title("ELBO during training (higher is better)")
        if log_scale != self._log_scale:
            ax.set_yscale("log" if log_scale else "linear")
            self._log_scale = log_scale
