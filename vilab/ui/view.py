"""What the panel shows of a training, and how often: status line, parameter readout, the
live figure (rendered into an ``ipywidgets.Image``) and the headless static picture.

The panel calls :meth:`PanelView.refresh` after every chunk of steps. The cheap parts
(status, readout) are updated every :data:`STATUS_INTERVAL` seconds; the figure only when
:class:`~vilab.ui.live_plot.RedrawThrottle` allows it and someone may be looking (the panel
was displayed, or trains in the background). ``force=True`` (end of a run, a changed
setting) updates everything at once.
"""

from __future__ import annotations

import sys

import ipywidgets as widgets

from .errors_area import ErrorArea
from .live_plot import LiveElboPlot, RedrawThrottle
from .status import default_readout, readout_html, status_html, status_text

STATUS_INTERVAL = 0.2  # seconds between two updates of the status line and readout


class PanelView:
    """The output half of the panel: widgets ``status``, ``readout_area``, ``error_area``,
    ``image``, the figure ``plot`` and its ``throttle``."""

    def __init__(self, trainer, live_plot=None, live_every: int = 50, readout=None):
        if isinstance(live_every, bool) or not isinstance(live_every, int) or live_every < 1:
            raise ValueError(f"live_every must be a whole number >= 1, got {live_every!r}.")
        for name, value in (("live_plot", live_plot), ("readout", readout)):
            if value is not None and not callable(value):
                raise TypeError(
                    f"{name} must be a function of the trainer or None, got {value!r}. "
                    f"Pass the function itself, without calling it."
                )
        self.trainer, self.live_every = trainer, live_every
        self.plot, self.throttle = LiveElboPlot(live_plot), RedrawThrottle()
        self.readout_fn = readout if readout is not None else default_readout(trainer)
        self.status, self.readout_area = widgets.HTML(), widgets.HTML()
        self.error_area, self.image = ErrorArea(), widgets.Image(format="png")
        self.live = False  # True once the panel is displayed or trains in the background
        self.live_step: int | None = None  # step of the last "posterior now" drawing
        self.live_plot_ok = True
        self._status_at = -float("inf")

    def refresh(
        self,
        state: str,
        target: int | None,
        note: str,
        smoothing: int,
        log_scale: bool,
        force: bool = False,
    ) -> None:
        """Status and readout if due, the figure if due and visible; all when ``force``."""
        clock = self.throttle.clock
        if force or clock() - self._status_at >= STATUS_INTERVAL:
            self._status_at = clock()
            self.status.value = status_html(status_text(self.trainer, state, target, note))
            if self.readout_fn is not None:
                self._show_readout()
        if force or (self.live and self.throttle.due()):
            self.draw(smoothing, log_scale, force)

    def status_now(self) -> None:
        """Make the next :meth:`refresh` update the status line (e.g. the state changed)."""
        self._status_at = -float("inf")

    def draw(self, smoothing: int, log_scale: bool, force: bool = False) -> None:
        """Redraw the ELBO lines; the "posterior now" axes too if ``live_every`` steps have
        passed since they were drawn (or, when ``force``, if any step has)."""
        start = self.throttle.clock()
        self.plot.update(self.trainer.history, smoothing, log_scale)
        done, last = self.trainer.num_steps_done, self.live_step
        live_due = last is None or (done != last if force else done - last >= self.live_every)
        if self.plot.live_ax is not None and live_due and self.live_plot_ok:
            self.live_step = done
            try:
                self.plot.draw_live(self.trainer)
            except Exception as exc:
                self.live_plot_ok = False  # shown once; tried again at the next run
                self.error_area.show(exc, "the live plot")
        if self.live:
            self.image.value = self.plot.render_png()
        self.throttle.record(self.throttle.clock() - start)

    def show_static(self, note: str) -> None:
        """Headless end of a run: the figure once (in IPython), and the status as text."""
        shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
        if shell:  # rendered only where it can be shown
            from IPython.display import Image, display

            display(Image(data=self.plot.render_png(), format="png"))
        print(status_text(self.trainer, None, note=note, timing=False))

    def _show_readout(self) -> None:
        try:
            self.readout_area.value = readout_html(self.readout_fn(self.trainer))
        except Exception as exc:
            self.readout_fn = None  # shown once, not after every chunk
            self.error_area.show(exc, "the parameter readout")
