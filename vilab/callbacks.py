"""Observers of a training run: the progress bar here, the UI panel and live plots elsewhere.

An observer is notified, never consulted: it reads ``trainer.history`` and draws or
prints. It can be a plain function ``fn(trainer)`` (called every ``every`` steps) or a
:class:`Callback` subclass that also hears when a run starts and ends.
"""

from __future__ import annotations


class Callback:
    """Base class for observers. Override what you need; ``every`` sets the step interval."""

    every: int = 1

    def on_run_start(self, trainer, num_steps: int) -> None:
        """A call to ``trainer.run(num_steps)`` begins."""

    def on_steps(self, trainer) -> None:
        """``every`` more steps are done (and at the end of each block of steps)."""

    def on_run_end(self, trainer, error: BaseException | None) -> None:
        """The run finished, was paused, or failed with ``error``."""


class FunctionCallback(Callback):
    """Wraps ``fn(trainer)`` so it is called every ``every`` steps."""

    def __init__(self, fn, every: int):
        self.fn = fn
        self.every = every

    def on_steps(self, trainer) -> None:
        self.fn(trainer)


class ProgressBar(Callback):
    """A tqdm bar showing the ELBO per data point; the notebook widget variant is picked
    automatically by ``tqdm.auto`` (imported only when a bar is shown)."""

    def __init__(self, every: int = 10, leave: bool = True, file=None):
        self.every = every
        self.leave = leave
        self.file = file  # None: tqdm's default (stderr, or a widget in a notebook)
        self._bar = None
        self._counted = 0

    def on_run_start(self, trainer, num_steps: int) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=num_steps, desc="SVI", unit="step", leave=self.leave, file=self.file)
        self._counted = trainer.num_steps_done

    def on_steps(self, trainer) -> None:
        if self._bar is None:
            return
        done = trainer.num_steps_done
        self._bar.update(done - self._counted)
        self._counted = done
        history = trainer.history
        if history.loss:  # the last value only: converting the whole history grows with it
            elbo_per_point = -history.loss[-1] / history.num_data
            status = trainer.convergence.describe()
            self._bar.set_postfix_str(f"ELBO/point {elbo_per_point:.4g}, {status}", refresh=False)

    def on_run_end(self, trainer, error) -> None:
        if self._bar is not None:
            self.on_steps(trainer)
            if error is None and not trainer.convergence.converged:  # say so, plainly
                self._bar.set_description("SVI (not converged yet)", refresh=False)
            self._bar.close()
            self._bar = None
