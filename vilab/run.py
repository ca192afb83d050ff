"""A run taken in chunks, with the observer semantics of ``Trainer.run``.

``trainer.run(2000)`` trains in one go. The training panel must give the kernel back between
chunks of steps (to hear a Pause click) yet tell the trainer's observers about one run:
``on_run_start`` once, ``on_steps`` at multiples of each observer's ``every`` and once at the
end, ``on_run_end`` once, with the error if one stopped the run::

    with trainer.running(2000) as run:
        while run.remaining and not paused:
            run.step(50)              # then redraw, handle clicks, ...

``Trainer.run`` is this with a single chunk.
"""

from __future__ import annotations

from .callbacks import Callback


class Run:
    """One run of ``num_steps`` steps of ``trainer``, notifying ``callbacks``."""

    def __init__(
        self, trainer, num_steps: int, callbacks: list[Callback], until_converged: bool = False
    ):
        self.trainer, self.num_steps, self.callbacks = trainer, num_steps, list(callbacks)
        self.until_converged = until_converged  # end the run when the trainer has converged
        self.done = 0
        self.notified: dict[int, int] = {}  # observer id -> step of its last on_steps

    @property
    def remaining(self) -> int:
        if self.until_converged and self.trainer.convergence.converged:
            return 0
        return self.num_steps - self.done

    def __enter__(self) -> Run:
        for callback in self.callbacks:
            callback.on_run_start(self.trainer, self.num_steps)
        return self

    def step(self, num_steps: int) -> int:
        """Train up to ``num_steps`` more steps of the run; returns how many were taken
        (fewer when the run ends or an observer asked the trainer to stop)."""
        size = min(num_steps, self.remaining)
        if size < 1:
            return 0
        before = self.trainer.num_steps_done
        try:
            self.trainer._steps(size, self.callbacks, self.notified, self.until_converged)
        finally:
            self.done += self.trainer.num_steps_done - before
        return self.trainer.num_steps_done - before

    def __exit__(self, exc_type, error, traceback) -> None:
        trainer = self.trainer
        if isinstance(error, GeneratorExit):  # a chunked run its consumer left: it ended
            error = None
        try:
            for callback in self.callbacks:  # the end of a run is news to every observer
                if self.notified.get(id(callback)) != trainer.num_steps_done:
                    callback.on_steps(trainer)
        finally:
            for callback in self.callbacks:
                callback.on_run_end(trainer, error)
