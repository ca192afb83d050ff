"""What the panel shows of a training, and how often: status line, parameter readout, the
live ELBO chart, the exercise's "posterior now" figure, and the headless static picture.

The panel calls :meth:`PanelView.refresh` after every chunk of steps (~50 ms of training).
Each part has its own pace, so the cheap ones look live and the costly one stays cheap:

=================  ==========================  ==============================================
part               cost per update             pace
=================  ==========================  ==============================================
status, readout    < 1 ms                      every :data:`STATUS_INTERVAL` s (5 a second)
ELBO chart (SVG)   ~1-2 ms                     every :data:`CHART_INTERVAL` s (~6 a second),
                                               at most :data:`CHART_SHARE` of the time
posterior figure   ~30-60 ms (matplotlib)      every ``live_every`` steps and at most
                                               :data:`FIGURE_SHARE` of the time (~1 a second)
=================  ==========================  ==============================================

Nothing is drawn until someone may be looking (the panel was displayed, or trains in the
background); a headless run draws one static figure at its end instead. ``force=True`` (end
of a run, a changed setting) updates everything at once.
"""

from __future__ import annotations

import math
import sys

import ipywidgets as widgets
import numpy as np

from ..validation import whole_number
from .errors_area import ErrorArea
from .live_plot import (
    ElboChart,
    PosteriorFigure,
    RedrawThrottle,
    figure_png,
    precise_elbo,
    static_figure,
)
from .status import default_readout, readout_html, status_html, status_text

STATUS_INTERVAL = 0.2  # seconds between two updates of the status line and readout
CHART_INTERVAL, CHART_SHARE = 0.15, 0.08
FIGURE_INTERVAL, FIGURE_SHARE = 0.3, 0.04


class PanelView:
    """The output half of the panel: widgets ``status``, ``readout_area``, ``error_area``,
    ``chart`` (the ELBO, an HTML widget holding SVG), ``image`` (the posterior figure, PNG),
    ``pictures`` (both, side by side); ``elbo_chart`` and ``posterior`` draw them and
    ``chart_throttle`` / ``figure_throttle`` pace them."""

    def __init__(
        self, trainer, live_plot=None, live_every: int = 50, readout=None, log_evidence=None
    ):
        live_every = whole_number(
            "live_every", live_every, fix="live_every=50 redraws the picture every 50 steps."
        )
        for name, value in (("live_plot", live_plot), ("readout", readout)):
            if value is not None and not callable(value):
                raise TypeError(
                    f"{name} must be a function of the trainer or None, got {value!r}. "
                    f"Pass the function itself, without calling it."
                )
        if log_evidence is not None and not callable(log_evidence):
            try:
                log_evidence = float(log_evidence)
            except (TypeError, ValueError):
                raise TypeError(
                    f"log_evidence must be ln p(x) as a number, or a function of the trainer "
                    f"returning it, got {log_evidence!r}."
                ) from None
        self.trainer, self.live_plot, self.live_every = trainer, live_plot, live_every
        self.log_evidence_source = log_evidence
        self.elbo_chart = ElboChart()
        self.posterior = PosteriorFigure(live_plot) if live_plot is not None else None
        self.chart_throttle = RedrawThrottle(CHART_INTERVAL, CHART_SHARE)
        self.figure_throttle = RedrawThrottle(FIGURE_INTERVAL, FIGURE_SHARE)
        self.readout_fn = readout if readout is not None else default_readout(trainer)
        self.status, self.readout_area = widgets.HTML(), widgets.HTML()
        self.error_area = ErrorArea()
        self.chart = widgets.HTML(layout=widgets.Layout(width=f"{self.elbo_chart.width + 4}px"))
        self.image = widgets.Image(format="png")
        pictures = [self.chart]
        if self.posterior is not None:
            self.image.layout = widgets.Layout(
                width=f"{self.posterior.css_width}px", height=f"{self.posterior.css_height}px"
            )
            pictures.append(self.image)
        self.pictures = widgets.HBox(
            pictures, layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        )
        self.live = False  # True once the panel is displayed or trains in the background
        self.live_step: int | None = None  # step of the last "posterior now" drawing
        self.live_plot_ok = True
        self._status_at = -float("inf")

    # -- what the panel calls --------------------------------------------------------------

    def refresh(
        self,
        state: str,
        target: int | None,
        note: str,
        smoothing: int,
        log_scale: bool,
        force: bool = False,
    ) -> None:
        """Status and readout if due; the chart and the figure if due and visible; all when
        ``force``."""
        clock = self.chart_throttle.clock
        if force or clock() - self._status_at >= STATUS_INTERVAL:
            self._status_at = clock()
            self.status.value = status_html(self.status_line(state, target, note))
            if self.readout_fn is not None:
                self._show_readout()
        if not self.live:  # headless: show_static draws the end result once
            return
        if force or self.chart_throttle.due():
            self.draw_chart(smoothing, log_scale, target)
        if self.posterior is not None and self._posterior_due(force):
            self.draw_posterior()

    def status_line(self, state, target, note="", timing=True) -> str:
        text = status_text(self.trainer, state, target, note, timing=timing)
        split = self.evidence_split()
        return f"{text} · {split}" if split else text

    def status_now(self) -> None:
        """Make the next :meth:`refresh` update the status line (e.g. the state changed)."""
        self._status_at = -float("inf")

    def postpone(self) -> None:
        """A run starts: the status moves at once, the pictures one interval later."""
        self.chart_throttle.postpone()
        self.figure_throttle.postpone()

    # -- drawing -----------------------------------------------------------------------------

    def draw_chart(self, smoothing: int, log_scale: bool, target: int | None = None) -> None:
        start = self.chart_throttle.clock()
        self.chart.value = self.elbo_chart.svg(
            self.trainer.history,
            smoothing,
            log_scale,
            x_max=target,
            log_evidence=self.log_evidence(),
        )
        self.chart_throttle.record(self.chart_throttle.clock() - start)

    def draw_posterior(self) -> None:
        start = self.figure_throttle.clock()
        self.live_step = self.trainer.num_steps_done
        try:
            self.posterior.draw(self.trainer)
        except Exception as exc:
            self.live_plot_ok = False  # shown once; tried again at the next run
            self.error_area.show(exc, "the live plot")
            return
        self.image.value = self.posterior.render_png()
        self.figure_throttle.record(self.figure_throttle.clock() - start)

    def _posterior_due(self, force: bool) -> bool:
        if not self.live_plot_ok:
            return False
        done, last = self.trainer.num_steps_done, self.live_step
        if last is None:
            return force or self.figure_throttle.due()
        if force:
            return done != last
        return done - last >= self.live_every and self.figure_throttle.due()

    def show_static(self, note: str, smoothing: int = 1, log_scale: bool = False) -> None:
        """Headless end of a run: the figure once (in IPython), and the status as text."""
        shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
        if shell:  # rendered only where it can be shown
            from IPython.display import Image, display

            live_plot = self.live_plot if self.live_plot_ok else None
            try:
                figure = static_figure(
                    self.trainer, live_plot, smoothing, log_scale, self.log_evidence()
                )
            except Exception as exc:
                self.error_area.show(exc, "the live plot")
                figure = static_figure(self.trainer, None, smoothing, log_scale)
            display(Image(data=figure_png(figure), format="png"))
        print(self.status_line(None, None, note, timing=False))

    # -- the ELBO-gap numbers ------------------------------------------------------------

    def log_evidence(self) -> float | None:
        source = self.log_evidence_source
        return source(self.trainer) if callable(source) else source

    def evidence_split(self) -> str:
        """The split "ln p(x) = ELBO + KL" in numbers: the ELBO from the latest precise
        estimate when the run records them (``vilab.evidence.record_elbo_estimate``), else
        averaged over the last 50 steps. A gap within two standard errors is noise: "KL ≈ 0"."""
        evidence, history = self.log_evidence(), self.trainer.history
        if evidence is None or not history.loss:
            return ""
        _, precise = precise_elbo(history)
        errors = [e for e in history.extras.get("elbo_standard_error", []) if math.isfinite(e)]
        if len(precise) and errors:
            elbo, noise = float(precise[-1]), 2 * errors[-1]
        else:
            window = np.asarray(history.loss[-50:], dtype=float)
            elbo = -float(window.mean())
            noise = 2 * float(window.std()) / math.sqrt(len(window)) if len(window) > 1 else 0.0
        gap = evidence - elbo
        kl = (
            f"KL ≈ 0 (within the ELBO's noise, ±{noise:.2g})"
            if abs(gap) <= noise
            else f"KL {gap:.3g}"
        )
        return f"ln p(x) = ELBO + KL: {evidence:.4g} = {elbo:.4g} + {kl}"

    def _show_readout(self) -> None:
        try:
            self.readout_area.value = readout_html(self.readout_fn(self.trainer))
        except Exception as exc:
            self.readout_fn = None  # shown once, not after every chunk
            self.error_area.show(exc, "the parameter readout")
