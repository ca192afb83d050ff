"""The interactive training panel: buttons, settings, a live ELBO plot and a status line
around a headless :class:`~vilab.Trainer`.

Usage in a notebook::

    from vilab.ui import TrainingPanel
    panel = TrainingPanel(trainer, num_steps=2000, live_plot=temperature.plots.live_plot)
    panel.train()          # shows the panel and trains; returns at once in JupyterLab

    # next cell, the first that uses the result:
    await panel.wait()     # waits for the end of the run (at once when nothing runs)

In JupyterLab or the classic notebook, ``train()`` trains in the background and the panel
stays live (Pause, the learning-rate slider...). Without a person's frontend (nbval,
scripts, CI) the same call trains to the end, then shows one static figure and a status
line, and raises the engine's error if training fails, like ``trainer.run``. The rule, and
why an asyncio task, are in :mod:`vilab.ui.runner`; so is the notebook rule: the first cell
after ``panel.train()`` that uses the trained result starts with ``await panel.wait()``.

States: ``idle`` -> ``running`` -> ``paused`` -> ``running`` -> ``idle``; a failed run
goes to ``error`` (Start is enabled again). ``panel.state`` says which.
"""

from __future__ import annotations

import asyncio
import time

import ipywidgets as widgets

from ..engine import Trainer
from . import runner as run_rule
from .controls import Controls
from .runner import Runner
from .view import PanelView


class TrainingPanel:
    """Controls and live plots for ``trainer``; see the module docstring.

    Arguments:
        trainer: a :class:`vilab.Trainer`.
        num_steps: steps per Start (editable in the panel).
        live_plot: optional ``live_plot(trainer, ax)`` drawing the current posterior on
            ``ax``; called at redraws, at most every ``live_every`` steps. Without one, a
            model with a few scalar latents gets q's marginals
            (:func:`vilab.plots.default_live_plot`).
        readout: optional ``readout(trainer) -> {name: float}`` shown live; by default
            every scalar parameter of small models (at most 10 scalars).
        log_evidence: optional ln p(x) of the data (a number, or a function of the trainer),
            for models where it is known: the chart draws it above the ELBO with the gap
            KL(q || posterior) = ln p(x) - ELBO below, and the status line shows the split.

    Widgets are attributes (``start_button``, ``pause_button``, ``step_button``,
    ``step_size_input``, ``reset_button``, ``lr_slider``, ``steps_input``,
    ``particles_input``, ``optim_dropdown``, ``elbo_dropdown``, ``smoothing``,
    ``log_scale``, ``status``, ``readout_area``, ``error_area``, ``chart`` (the ELBO, SVG in
    an HTML widget), ``image`` (the posterior figure, PNG)); ``widget`` is the whole box.
    """

    def __init__(
        self,
        trainer: Trainer,
        num_steps: int = 2000,
        live_plot=None,
        live_every: int = 50,
        readout=None,
        log_evidence=None,
    ):
        if not isinstance(trainer, Trainer):
            raise TypeError(
                f"TrainingPanel needs a vilab.Trainer, got {type(trainer).__name__}. "
                f"Build one with Trainer(model, guide, args=(data,))."
            )
        self.trainer, self.runner = trainer, Runner(trainer)
        if live_plot is None:  # any model with a few scalar latents gets a moving picture
            from ..plots.latent_marginals import can_draw_default_live_plot, default_live_plot

            live_plot = default_live_plot if can_draw_default_live_plot(trainer) else None
        self.view = PanelView(trainer, live_plot, live_every, readout, log_evidence)
        self.controls = Controls(trainer, num_steps)
        for name in Controls.NAMES:
            setattr(self, name, getattr(self.controls, name))
        for name in ("status", "readout_area", "error_area", "chart", "image"):
            setattr(self, name, getattr(self.view, name))
        self.widget = widgets.VBox(
            [
                *self.controls.rows(),
                self.status,
                self.readout_area,
                self.error_area,
                self.view.pictures,
            ],
            layout=widgets.Layout(max_width="1000px"),
        )
        for widget, name in (
            (self.widget, "panel"),
            (self.status, "status"),
            (self.chart, "chart"),
            (self.image, "posterior"),
            (self.step_size_input, "step-size"),
            (self.lr_slider, "lr"),
        ):  # CSS classes: stable handles for the browser tests (and for a teacher's own CSS)
            widget.add_class(f"vilab-{name}")
        self._optim_args = dict(trainer.optim_args)  # the options the trainer came with
        self._state, self._task, self._note = "idle", None, ""
        self._run_error: BaseException | None = None
        self._run_start = self._run_target = None
        self._reset_pending = False
        self._wire()
        self._set_state("idle")

    # -- public ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """One of "idle", "running", "paused", "error"."""
        return self._state

    @property
    def error(self) -> BaseException | None:
        """The error that ended the last run (or of the last control), else None."""
        return self.error_area.error

    def train(self, block: bool | None = None) -> None:
        """Show the panel (with a frontend) and train ``steps_input.value`` steps, or resume
        a paused run. ``block=None`` follows :func:`vilab.ui.runner.interactive`."""
        interactive = run_rule.interactive()
        if interactive:
            from IPython.display import display

            display(self)  # through _repr_mimebundle_, which draws the current state first
        self._start(
            block=not interactive if block is None else bool(block), headless=not interactive
        )

    async def wait(self) -> None:
        """``await panel.wait()``: wait until the current run ends (at once if none runs),
        so the cell sees the trained result. While it waits, the cell shows a line saying so
        and the panel stays live (Pause, the lr slider); at the end the line says how the run
        ended. A run that failed raises its error here; a paused run is reported, not waited
        for (its result is partial: press Resume, then run the cell again)."""
        task = self._task
        if task is not None and not task.done():
            line = _Line(f"waiting for the training panel above: {self._progress()} …")
            start = time.perf_counter()
            await asyncio.shield(task)
            waited = time.perf_counter() - start
            line.update(f"training {self._outcome()} (waited {waited:.1f} s)")
        elif self._state == "paused":
            _Line(f"training {self._outcome()}")
        if self._state == "error" and self._run_error is not None:
            raise self._run_error

    def _progress(self) -> str:
        target = self._run_target
        return f"step {self.trainer.num_steps_done}" + (f" of {target}" if target else "")

    def _outcome(self) -> str:
        if self._state == "paused":
            return (
                f"paused at {self._progress()}: the cells below see this partial result "
                f"(press Resume, then run them again)"
            )
        if self._state == "error":
            return f"stopped by an error at step {self.trainer.num_steps_done}"
        return f"finished at step {self.trainer.num_steps_done}"

    def _repr_mimebundle_(self, **kwargs):
        self.view.live = True
        self._refresh(force=True)
        return self.widget._repr_mimebundle_(**kwargs)

    # -- button and setting handlers (each wrapped by the error area's guard) ---------------

    def _wire(self) -> None:
        guard = self.error_area.guard
        self.start_button.on_click(guard(self._on_start, "the Start button"))
        self.pause_button.on_click(guard(self._on_pause, "the Pause button"))
        self.step_button.on_click(guard(self._on_step, "the Step button"))
        self.reset_button.on_click(guard(self._on_reset, "the Reset button"))
        observers = [
            (self.lr_slider, self._on_lr, "the learning-rate slider"),
            (self.optim_dropdown, self._on_rebuild, "the optimiser setting"),
            (self.elbo_dropdown, self._on_rebuild, "the ELBO setting"),
            (self.particles_input, self._on_rebuild, "the particles setting"),
            (self.step_size_input, self._on_step_size, "the step size"),
            (self.steps_input, self._on_view, "the steps setting"),
            (self.smoothing, self._on_view, "the smoothing setting"),
            (self.log_scale, self._on_view, "the log-scale switch"),
        ]
        for widget, handler, context in observers:
            widget.observe(guard(handler, context), names="value")

    def _on_start(self, _button=None) -> None:
        self._start(block=run_rule.running_loop() is None, headless=False)

    def _on_pause(self, _button=None) -> None:
        if self._state == "running":
            self.runner.request_stop()
            self.pause_button.disabled, self.pause_button.description = True, "Pausing…"

    def _on_step(self, _button=None) -> None:
        if self._state != "running":
            self._launch(self.step_size_input.value, block=run_rule.running_loop() is None)

    def _on_reset(self, _button=None) -> None:
        if self._state == "running":  # stop first; the end of the run resets
            self._reset_pending = True
            self.runner.request_stop()
            return
        self.trainer.reset()
        self._after_reset("parameters reset (same seed)")

    def _on_lr(self, change) -> None:
        self.trainer.lr = change["new"]

    def _on_rebuild(self, _change=None) -> None:
        if not self.controls.syncing:
            running = self._state == "running"
            note = self.controls.apply_settings(self.trainer, self._optim_args, running)
            self._after_reset(note)

    def _on_step_size(self, change) -> None:
        self.step_button.description = f"Step {change['new']}"

    def _on_view(self, _change=None) -> None:
        self._refresh(force=True)

    # -- runs -------------------------------------------------------------------------------

    def _start(self, block: bool, headless: bool) -> None:
        """Start (or resume) a run of ``steps_input.value`` steps; ignored while running."""
        if self._state == "running":
            return
        done, num_steps = self.trainer.num_steps_done, self.steps_input.value
        if self._state == "paused" and self._run_start + num_steps > done:
            self._run_target = self._run_start + num_steps
        else:
            self._run_start, self._run_target = done, done + num_steps
        self._launch(self._run_target - done, block, headless)

    def _launch(self, num_steps: int, block: bool, headless: bool = False) -> None:
        loop = None if block else run_rule.running_loop()
        if not block and loop is None:
            raise RuntimeError(
                "panel.train(block=False) needs a running asyncio event loop "
                "(a Jupyter kernel, or `async def` code). In a script, call "
                "panel.train() or panel.train(block=True)."
            )
        self.error_area.clear()
        self._note, self.view.live_plot_ok = "", True
        self._set_state("running")
        self.view.postpone()
        if not block:
            self.view.live = True
            self._task = loop.create_task(self._drive(num_steps))
            return
        try:
            self.runner.run_blocking(num_steps, self._after_chunk)
        except Exception as exc:
            self._finish(exc)
            if headless:
                self._show_static()
                raise
        except BaseException:  # KeyboardInterrupt: the run is paused, the interrupt goes on
            self._finish(None)
            raise
        else:
            self._finish(None)
            if headless:
                self._show_static()

    async def _drive(self, num_steps: int) -> None:
        error = None
        try:
            await self.runner.run_async(num_steps, self._after_chunk)
        except Exception as exc:
            error = exc
        except KeyboardInterrupt:
            pass
        finally:
            self._finish(error)

    def _finish(self, error: BaseException | None) -> None:
        """A run ended: completed, paused, reset or failed."""
        if self._reset_pending:
            self._reset_pending = False
            self.trainer.reset()
            self._after_reset("parameters reset (same seed)")
            return
        self._run_error = error
        if error is not None:
            self._run_target = None
            self.view.live_step = self.trainer.num_steps_done  # no posterior at a failed state
            self.error_area.show(error)
            state = "error"
        elif self._run_target is not None and self.trainer.num_steps_done < self._run_target:
            state = "paused"
        else:
            self._run_target, state = None, "idle"
        self._set_state(state)
        self._refresh(force=True)

    def _after_reset(self, note: str) -> None:
        self._run_start = self._run_target = self.view.live_step = None
        self.error_area.clear()
        self._set_state("idle")
        self._note = note
        self._refresh(force=True)

    # -- helpers ----------------------------------------------------------------------------

    def _after_chunk(self) -> None:
        while self.runner.diagnostics:
            self.error_area.show(self.runner.diagnostics.pop(0), "diagnostic")
        self._refresh(force=False)

    def _refresh(self, force: bool) -> None:
        target = self._run_target if self._state in ("running", "paused") else None
        self.view.refresh(
            self._state, target, self._note, self.smoothing.value, self.log_scale.value, force
        )

    def _show_static(self) -> None:
        self.view.show_static(self._note, self.smoothing.value, self.log_scale.value)

    def _set_state(self, state: str) -> None:
        self._state = state
        self.view.status_now()
        self.controls.enable_for(state)


class _Line:
    """One line of text in the current cell's output, replaced in place in a notebook (a
    plain print elsewhere)."""

    def __init__(self, text: str):
        self.handle = None
        if run_rule.kernel_present():
            from IPython.display import display

            self.handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            print(text)

    def update(self, text: str) -> None:
        if self.handle is not None:
            self.handle.update({"text/plain": text}, raw=True)
        else:
            print(text)
