"""The panel's live pictures: the ELBO curve and the exercise's "posterior now" figure,
redrawn while training runs in the same thread, without slowing it down.

Two renderers, chosen by cost (measured on a 2-core laptop, see ``benchmarks/bench_panel.py``):

* :class:`ElboChart`, the curve: SVG text built from the history in ~1 ms (see
  :mod:`vilab.ui.svg_chart` for why not matplotlib), shown in an ``ipywidgets.HTML``. The
  browser draws it as vectors, sharp on any screen, so it can redraw 5-7 times a second for
  about 1% of the time. The default view is a readable trend: the per-step values faint,
  their moving average bold; with ``log_evidence`` the chart also draws ln p(x), the line the
  ELBO can never cross, and a second chart of the gap ln p(x) - ELBO = KL(q || posterior).
* :class:`PosteriorFigure`, the exercise's ``live_plot(trainer, ax)``: a matplotlib figure
  rendered to PNG at twice the CSS size (sharp on high-resolution screens) and shown at its
  CSS size. A redraw costs ~30-60 ms, so :class:`RedrawThrottle` keeps it to ~4% of the
  time (about one redraw a second).

Headless runs (nbval, scripts) draw neither live; :func:`static_figure` draws both on one
matplotlib figure once, at the end.

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
from .svg_chart import Series, line_chart, nice_limits

CSS_DPI = 96  # CSS pixels per inch: figure inches -> CSS pixels
CHART_WIDTH, CHART_HEIGHT, GAP_HEIGHT = 470, 300, 150  # CSS pixels; two fit a 1,000 px column
RAW, SMOOTH, EVIDENCE, GAP = "#1f77b4", "#ff7f0e", "#222222", "#2ca02c"


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
    """Says when a redraw is due: at most one per ``min_interval`` seconds, and drawing about
    ``max_share`` of the time (the pause after a redraw grows with the typical cost of one),
    but never more than ``max_interval`` seconds apart, so a picture keeps moving even when
    one draw was slow (the first one loads fonts and fits the layout: up to a second)."""

    def __init__(
        self,
        min_interval: float = 0.15,
        max_share: float = 0.03,
        clock=time.perf_counter,
        max_interval: float = 3.0,
    ):
        self.min_interval, self.max_share, self.clock = min_interval, max_share, clock
        self.max_interval = max_interval
        self.interval = min_interval
        self.cost: float | None = None  # running average of a redraw's cost, in seconds
        self.last = -math.inf
        self.count = 0

    def due(self) -> bool:
        return self.clock() - self.last >= self.interval

    def postpone(self) -> None:
        """Count from now: the next redraw comes one interval later."""
        self.last = self.clock()

    def record(self, cost: float) -> None:
        """A redraw that took ``cost`` seconds just ended."""
        self.last = self.clock()
        self.count += 1
        self.cost = cost if self.cost is None else 0.7 * self.cost + 0.3 * cost
        paced = self.cost / self.max_share
        self.interval = max(self.min_interval, min(self.max_interval, paced))


class _HistoryArrays:
    """The history's steps and losses as NumPy arrays, extended incrementally: converting a
    100,000-step list at every redraw would cost more than drawing it."""

    def __init__(self):
        self._history, self._steps, self._loss = None, np.empty(0), np.empty(0)

    def __call__(self, history) -> tuple[np.ndarray, np.ndarray]:
        n, cached = len(history.loss), len(self._loss)
        fresh = history is not self._history or n < cached
        if not fresh and cached and history.loss[cached - 1] != self._loss[-1]:
            fresh = True  # truncated and refilled to the same length
        if fresh:
            self._history, cached = history, 0
            self._steps, self._loss = np.empty(0), np.empty(0)
        if n > cached:
            self._steps = np.concatenate([self._steps, np.asarray(history.step[cached:], float)])
            self._loss = np.concatenate([self._loss, np.asarray(history.loss[cached:], float)])
        return self._steps, self._loss


class ElboChart:
    """The live ELBO curve as SVG (see the module docstring).

    ``svg(history, ...)`` returns the picture; ``last`` keeps the values it drew (what the
    tests read): ``raw`` and ``smooth`` as (steps, values), ``ylabel``, ``log_scale``.
    """

    def __init__(self, max_points: int = 800, width: int = CHART_WIDTH, height: int = CHART_HEIGHT):
        self.max_points, self.width, self.height = max_points, width, height
        self._arrays = _HistoryArrays()
        self.last: dict = {}

    def svg(
        self,
        history,
        smoothing: int = 1,
        log_scale: bool = False,
        x_max: int | None = None,
        log_evidence: float | None = None,
    ) -> str:
        steps, loss = self._arrays(history)
        num_data = history.num_data or 1
        values, shift = -loss / num_data, 0.0
        evidence = None if log_evidence is None else log_evidence / num_data
        if log_scale:
            values, shift = log_scale_values(-values)
            if evidence is not None:
                evidence = -evidence + shift
        smooth = moving_average(values, smoothing) if smoothing > 1 and len(values) else None
        raw_xy = downsample(steps, values, self.max_points)
        series = [Series(*raw_xy, RAW, 1.0, 0.35 if smooth is not None else 1.0, "per step")]
        if smooth is not None:
            smooth_xy = downsample(steps, smooth, self.max_points)
            series.append(Series(*smooth_xy, SMOOTH, 2.0, 1.0, f"moving average ({smoothing})"))
        if evidence is not None and len(steps):
            series.append(
                Series(
                    np.array([0, steps[-1]]),
                    np.full(2, evidence),
                    EVIDENCE,
                    1.2,
                    1.0,
                    "ln p(x) per point",
                    dashed=True,
                )
            )
        first = float(steps[0]) - 1 if len(steps) else 0.0
        xlim = (min(0.0, first), float(max(x_max or 0, steps[-1] if len(steps) else 1)))
        ylabel = self._ylabel(log_scale, shift)
        title = "Loss during training (log scale)" if log_scale else "ELBO (higher is better)"
        self.last = {
            "raw": raw_xy,
            "smooth": None if smooth is None else smooth_xy,
            "ylabel": ylabel,
            "log_scale": log_scale,
            "evidence": evidence,
        }
        chart = line_chart(
            series,
            xlim=xlim,
            ylim=self._ylim(values, smooth, log_scale, evidence),
            log_y=log_scale,
            title=title,
            xlabel="step",
            ylabel=ylabel,
            width=self.width,
            height=self.height,
            legend="upper right" if log_scale else "lower right",
        )
        if log_evidence is None or not len(steps):
            return chart
        return chart + self._gap_chart(history, steps, -loss, smoothing, log_evidence, xlim)

    def _gap_chart(self, history, steps, elbo, smoothing, log_evidence, xlim) -> str:
        """ln p(x) - ELBO = KL(q || posterior) >= 0 on a log axis: from the precise ELBO
        estimates when the run records them (``vilab.evidence.record_elbo_estimate``; one
        step's ELBO is far noisier than a gap of 0.001 nats), else the moving average."""
        steps_at, precise = precise_elbo(history)
        if len(precise):
            gap_xy = downsample(steps_at, np.maximum(log_evidence - precise, 1e-6), self.max_points)
        else:
            gap = log_evidence - moving_average(elbo, max(smoothing, 1))
            gap_xy = downsample(steps, np.maximum(gap, 1e-4), self.max_points)
        self.last["gap"] = gap_xy
        return line_chart(
            [Series(*gap_xy, GAP, 1.8, 1.0, "ln p(x) - ELBO")],
            xlim=xlim,
            log_y=True,
            title="The gap: KL(q || posterior) = ln p(x) - ELBO",
            xlabel="step",
            ylabel="nats (log scale)",
            width=self.width,
            height=GAP_HEIGHT,
            legend="upper right",
        )

    @staticmethod
    def _ylabel(log_scale: bool, shift: float) -> str:
        if log_scale:
            return "loss = -ELBO per point" + (f" + {shift:g}" if shift else "") + " (log)"
        return "ELBO per data point"

    @staticmethod
    def _ylim(values, smooth, log_scale, evidence):
        """Fit the trend, not the noise: the moving average, the per-step values of the last
        quarter (the noise the student should see now) and the ln p(x) line."""
        parts = [values if smooth is None else smooth]
        if smooth is not None:
            parts.append(values[-max(1, len(values) // 4) :])
        if evidence is not None:
            parts.append(np.array([evidence]))
        joined = np.concatenate(parts) if parts else np.array([])
        joined = joined[np.isfinite(joined) & ((joined > 0) if log_scale else True)]
        if not len(joined):
            return None
        return nice_limits(float(joined.min()), float(joined.max()), log_scale)


def precise_elbo(history) -> tuple[np.ndarray, np.ndarray]:
    """Steps and values of the many-sample ELBO estimates in ``history.extras`` (recorded by
    ``vilab.evidence.record_elbo_estimate``; NaN between them), empty when there are none."""
    series = history.extras.get("elbo_estimate")
    if not series:
        return np.empty(0), np.empty(0)
    values = np.asarray(series, dtype=float)
    steps = np.asarray(history.step[: len(values)], dtype=float)
    keep = np.isfinite(values)
    return steps[keep], values[keep]


class PosteriorFigure:
    """The exercise's ``live_plot(trainer, ax)`` on a figure of its own, rendered to PNG at
    ``scale`` times its CSS size (sharp on screens with up to ``scale`` device pixels per CSS
    pixel) and shown at its CSS size, ``css_width`` x ``css_height``."""

    def __init__(
        self,
        live_plot: Callable,
        css_width: int = CHART_WIDTH,
        css_height: int = CHART_HEIGHT,
        scale: int = 2,
    ):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        self.live_plot, self.css_width, self.css_height = live_plot, css_width, css_height
        self.figure = Figure(
            figsize=(css_width / CSS_DPI, css_height / CSS_DPI), dpi=CSS_DPI * scale
        )
        FigureCanvasAgg(self.figure)
        self.ax = self.figure.subplots()
        self._layout, self._layout_key, self.renders = ConstrainedLayoutEngine(), None, 0

    def draw(self, trainer) -> None:
        """Let the exercise redraw its "posterior now" axes from the trainer's current state."""
        self.ax.clear()
        self.live_plot(trainer, self.ax)

    def render_png(self) -> bytes:
        """The figure as PNG bytes (margins refitted only when the labels changed: constrained
        layout costs more than the drawing itself)."""
        key = _label_key(self.figure)
        if key != self._layout_key:
            self._layout.execute(self.figure)
            self._layout_key = key
        self.renders += 1
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


def _label_key(figure) -> tuple:
    """What decides the margins: texts around the axes and the y tick labels' width."""
    key = []
    for ax in figure.axes:
        formatter, locs = ax.yaxis.get_major_formatter(), ax.yaxis.get_majorticklocs()
        widest = max((len(label) for label in formatter.format_ticks(locs)), default=0)
        key.append((ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), widest))
    return tuple(key)


def static_figure(
    trainer,
    live_plot: Callable | None = None,
    smoothing: int = 1,
    log_scale: bool = False,
    log_evidence: float | None = None,
):
    """One matplotlib figure of a finished run: the ELBO (and the exercise's posterior picture
    when ``live_plot`` is given); what a headless run shows instead of the live panel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = 1 if live_plot is None else 2
    figure = Figure(figsize=(5.0 * ncols, 3.2), dpi=CSS_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    history, ax = trainer.history, axes[0]
    steps = np.asarray(history.step, float)
    values = -np.asarray(history.loss, float) / (history.num_data or 1)
    shift, evidence = 0.0, None if log_evidence is None else log_evidence / (history.num_data or 1)
    if log_scale:
        values, shift = log_scale_values(-values)
        evidence = None if evidence is None else -evidence + shift
        ax.set_yscale("log")
    smoothed = smoothing > 1 and len(values) > 0
    ax.plot(
        *downsample(steps, values),
        lw=1,
        color=RAW,
        alpha=0.35 if smoothed else 1.0,
        label="per step",
    )
    if smoothed:
        ax.plot(
            *downsample(steps, moving_average(values, smoothing)),
            lw=2,
            color=SMOOTH,
            label=f"moving average ({smoothing})",
        )
    if evidence is not None:
        ax.axhline(evidence, color=EVIDENCE, ls="--", lw=1.2, label="ln p(x) per point")
    ax.set_xlabel("step")
    ax.set_ylabel(ElboChart._ylabel(log_scale, shift))
    ax.set_title("Loss during training (log scale)" if log_scale else "ELBO (higher is better)")
    if len(values):
        ax.legend(loc="upper right" if log_scale else "lower right")
    if live_plot is not None:
        live_plot(trainer, axes[1])
    return figure


def figure_png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
