"""KL explorer: a target p(z) set with sliders, a Gaussian q(z) fitted to it by reverse
KL(q || p) (what VI does, trained live by vilab's Trainer) or forward KL(p || q) (moment
matching), both divergences and their cross-entropy/entropy split.

    explorer = KLExplorer(kind="two modes", separation=8.0, weight=0.3)
    explorer           # in a notebook: the controls, q over p, the KL bars
    explorer.q         # (loc, scale) of the fitted Gaussian

Headless (tests, nbval) every change refits to the end before returning; in JupyterLab
the reverse fit runs as an asyncio task on the kernel's loop (the rule and its reasons are
in :mod:`vilab.ui.runner`) and the figure redraws while q moves, at most 10 times a
second. The figure is a plain matplotlib Figure rendered to PNG in an ``ipywidgets.Image``;
every callback's error is shown in ``explorer.errors`` (the training panel's error area).
"""

from __future__ import annotations

import asyncio
import io
import time

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from ..kl import KINDS, kl_split, make_reverse_kl_trainer, make_target, moment_match, q_params
from ..kl.divergence import gaussian_log_prob, target_entropy
from ..kl.fitting import NUM_STEPS, check_direction
from ..plots.kl import plot_kl_split, plot_target_and_q
from . import runner as run_rule
from .errors_area import ErrorArea
from .live_plot import CSS_DPI
from .runner import Runner

REDRAW_SECONDS = 0.1  # at most 10 redraws a second while fitting
DIRECTION_OPTIONS = (("reverse KL(q||p): VI", "reverse"), ("forward KL(p||q)", "forward"))


class KLExplorer:
    """Sliders for the target, a reverse/forward switch, q drawn over p with both KLs.

    Arguments:
        kind: the target, one of :data:`vilab.kl.KINDS`.
        direction: "reverse" (fit q by SVI on KL(q||p)) or "forward" (moment matching).
        separation, weight: the two-mode target's distance between modes and the left
            mode's weight; skew: the skewed target's shape; df: the heavy-tailed target's
            degrees of freedom.
        num_steps, seed: of each reverse-KL fit (same settings, same answer).
        live: fit in the background and redraw while fitting (None: the rule of
            :mod:`vilab.ui.runner`, i.e. only in a person's JupyterLab).
    """

    def __init__(
        self,
        kind: str = "two modes",
        direction: str = "reverse",
        separation: float = 6.0,
        weight: float = 0.3,
        skew: float = 5.0,
        df: float = 3.0,
        num_steps: int = NUM_STEPS,
        seed: int = 0,
        live: bool | None = None,
    ):
        check_direction(direction)
        if kind not in KINDS:
            raise ValueError(f"Expected kind among {list(KINDS)}, got {kind!r}.")
        self.num_steps, self.seed = num_steps, seed
        self.live = run_rule.interactive() if live is None else live
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        self.kind_dropdown = widgets.Dropdown(options=KINDS, value=kind, description="target")
        self.separation_slider = widgets.FloatSlider(
            value=separation, min=0.0, max=12.0, step=0.5, description="separation", **slider
        )
        self.weight_slider = widgets.FloatSlider(
            value=weight, min=0.0, max=1.0, step=0.05, description="left weight", **slider
        )
        self.skew_slider = widgets.FloatSlider(
            value=skew, min=-10.0, max=10.0, step=0.5, description="skew", **slider
        )
        self.df_slider = widgets.FloatSlider(
            value=df, min=2.5, max=30.0, step=0.5, description="tail df", **slider
        )
        self.direction_buttons = widgets.ToggleButtons(options=DIRECTION_OPTIONS, value=direction)
        self.status = widgets.HTML()
        self.picture = widgets.Image(format="png")
        self.errors = ErrorArea()  # what a failing callback raised, in plain words
        for control in self._controls():
            control.observe(self.errors.guard(self._on_change, "the KL explorer"), names="value")
        for widget, name in (
            (self.kind_dropdown, "kind"),
            (self.separation_slider, "separation"),
            (self.weight_slider, "weight"),
            (self.direction_buttons, "direction"),
            (self.picture, "picture"),
            (self.status, "status"),
        ):
            widget.add_class(f"vilab-kl-{name}")  # handles for the browser tests
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.kind_dropdown, self.direction_buttons]),
                widgets.HBox(
                    [self.separation_slider, self.weight_slider, self.skew_slider, self.df_slider]
                ),
                self.picture,
                self.status,
                self.errors,
            ]
        )
        # drawn at twice its CSS size and shown at its CSS size: sharp on high-resolution
        # screens and never stretched by the browser (as the latent explorer)
        width, height = 9.5, 3.4
        self.figure = Figure(figsize=(width, height), dpi=2 * CSS_DPI, layout="constrained")
        self.picture.layout = widgets.Layout(
            width=f"{round(width * CSS_DPI)}px", height=f"{round(height * CSS_DPI)}px"
        )
        FigureCanvasAgg(self.figure)
        self.density_ax, self.split_ax = self.figure.subplots(
            1, 2, gridspec_kw={"width_ratios": [3, 2]}
        )
        self._background, self._moving, self._grid = None, [], None
        self.trainer, self.task, self._runner = None, None, None
        self.redraws, self._last_redraw = 0, 0.0
        self.fit()

    def _controls(self):
        return (
            self.kind_dropdown,
            self.separation_slider,
            self.weight_slider,
            self.skew_slider,
            self.df_slider,
            self.direction_buttons,
        )

    @property
    def direction(self) -> str:
        return self.direction_buttons.value

    def current_target(self):
        """The target the controls describe now."""
        kind = self.kind_dropdown.value
        settings = {
            "two modes": {
                "separation": self.separation_slider.value,
                "weight": self.weight_slider.value,
            },
            "skewed": {"skew": self.skew_slider.value},
            "heavy tails": {"df": self.df_slider.value},
        }[kind]
        return make_target(kind, **settings)

    # -- fitting ------------------------------------------------------------------------

    def fit(self) -> None:
        """Refit q to the current target in the current direction (stopping a fit that is
        still running), then redraw."""
        self._stop_running_fit()
        self.errors.clear()
        self._show_relevant_sliders()
        self.target = self.current_target()
        self._entropy_p = target_entropy(self.target)
        if self.direction == "forward":
            self.trainer = None
            self.q = moment_match(self.target)
            self.redraw()
            return
        self.trainer = make_reverse_kl_trainer(self.target, seed=self.seed)
        self.q = q_params(self.trainer)
        self._runner = Runner(self.trainer)
        if self.live and run_rule.running_loop() is not None:
            self.redraw()
            self.task = asyncio.get_running_loop().create_task(self._fit_live(self._runner))
        else:
            self._runner.run_blocking(self.num_steps, after_chunk=lambda: None)
            self.q = q_params(self.trainer)
            self.redraw()

    async def _fit_live(self, runner: Runner) -> None:
        try:
            await runner.run_async(self.num_steps, after_chunk=self._after_chunk)
            self.q = q_params(runner.trainer)
            self.redraw()
        except Exception as exc:  # shown in the error area, as a callback's error is
            self.errors.show(exc, "the reverse-KL fit")

    def _after_chunk(self) -> None:
        now = time.perf_counter()
        if now - self._last_redraw >= REDRAW_SECONDS:
            self.q = q_params(self.trainer)
            self.redraw(layout=False)

    async def wait(self) -> None:
        """Wait for a background fit to finish (at once when none runs)."""
        if self.task is not None and not self.task.done():
            await asyncio.shield(self.task)

    def _stop_running_fit(self) -> None:
        if self.task is not None and not self.task.done():
            self._runner.request_stop()
            self.task.cancel()
        self.task = None

    def _on_change(self, change) -> None:
        self.fit()

    # -- drawing ------------------------------------------------------------------------

    def redraw(self, layout: bool = True) -> None:
        """q over p, the KL bars and the status line, from the current target and q.

        ``layout=False`` (a live frame while fitting) redraws only what moves, q's curve and
        the bars, over a saved picture of the rest (matplotlib's blitting), unless they
        left the axes: then everything is drawn again."""
        loc, scale = self.q
        self.split = kl_split(self.target, loc, scale, entropy_p=self._entropy_p)
        if layout or not self._blit():
            self._draw_everything()
        buffer = io.BytesIO()
        PILImage.fromarray(np.asarray(self.figure.canvas.buffer_rgba())).save(
            buffer, format="png", compress_level=1
        )
        self.picture.value = buffer.getvalue()
        self.status.value = self._status_text()
        self.redraws += 1
        self._last_redraw = time.perf_counter()

    def _bar_values(self) -> list[float]:
        """The six bars in the order plot_kl_split draws them (part by part, both groups)."""
        s = self.split
        return [
            s.cross_entropy_qp, s.cross_entropy_pq, s.entropy_q, s.entropy_p,
            s.reverse_kl, s.forward_kl,
        ]  # fmt: skip

    def _q_density(self) -> np.ndarray:
        loc, scale = self.q
        return np.exp(gaussian_log_prob(self._grid, loc, scale))

    def _draw_everything(self) -> None:
        loc, scale = self.q
        low = min(self.target.low, loc - 4 * scale)
        high = max(self.target.high, loc + 4 * scale)
        self._grid = np.linspace(low, high, 600)
        p_density, q_density = self.target.pdf(self._grid), self._q_density()
        for ax in (self.density_ax, self.split_ax):
            ax.clear()
        how = "reverse KL(q||p), as VI does" if self.direction == "reverse" else "forward KL(p||q)"
        plot_target_and_q(
            self._grid,
            p_density,
            q_density,
            ax=self.density_ax,
            title=f"p: {self.target.label}\nq fitted by {how}",
            q_label="q(z), Gaussian",
        )
        self.density_ax.set_ylim(0, 1.25 * max(p_density.max(), q_density.max()))
        plot_kl_split(self.split, ax=self.split_ax)
        bottom = min(0.0, 1.3 * min(self._bar_values()))
        self.split_ax.set_ylim(bottom=bottom)
        self._moving = [self.density_ax.lines[-1], *self.split_ax.patches, *self.split_ax.texts]
        for artist in self._moving:
            artist.set_animated(True)  # left out of the saved background
        self.figure.set_layout_engine("constrained")
        self.figure.canvas.draw()
        self.figure.set_layout_engine("none")  # live frames keep this layout
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_moving()

    def _blit(self) -> bool:
        """Move q's curve and the bars; False when they would leave their axes."""
        if self._background is None:
            return False
        loc, scale = self.q
        q_density = self._q_density()
        values = self._bar_values()
        inside = (
            self._grid[0] <= loc - 4 * scale
            and loc + 4 * scale <= self._grid[-1]
            and q_density.max() <= self.density_ax.get_ylim()[1]
            and self.split_ax.get_ylim()[0] <= min(values)
            and max(values) <= self.split_ax.get_ylim()[1] / 1.15
        )
        if not inside:
            return False
        line, bars, labels = self._moving[0], self._moving[1:7], self._moving[7:]
        line.set_ydata(q_density)
        for bar, label, value in zip(bars, labels, values):
            bar.set_height(value)
            label.xy = (label.xy[0], max(value, 0.0))
            label.set_text(f"{value:.3f}")
        self.figure.canvas.restore_region(self._background)
        self._draw_moving()
        return True

    def _draw_moving(self) -> None:
        for artist in self._moving:
            artist.axes.draw_artist(artist)

    def _status_text(self) -> str:
        s = self.split
        step = f"step {self.trainer.num_steps_done}/{self.num_steps}: " if self.trainer else ""
        return (
            f"{step}q = N({s.loc:.3f}, {s.scale:.3f}); p has mean {self.target.mean:.3f}, "
            f"sd {self.target.sd:.3f}<br>"
            f"KL(q||p) = {s.reverse_kl:.4f} = H(q,p) {s.cross_entropy_qp:.4f} - H(q) "
            f"{s.entropy_q:.4f} nats &nbsp;|&nbsp; KL(p||q) = {s.forward_kl:.4f} = H(p,q) "
            f"{s.cross_entropy_pq:.4f} - H(p) {s.entropy_p:.4f} nats"
        )

    def _show_relevant_sliders(self) -> None:
        kind = self.kind_dropdown.value
        shown = {
            "two modes": (self.separation_slider, self.weight_slider),
            "skewed": (self.skew_slider,),
            "heavy tails": (self.df_slider,),
        }[kind]
        for s in (self.separation_slider, self.weight_slider, self.skew_slider, self.df_slider):
            s.layout.display = None if s in shown else "none"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
