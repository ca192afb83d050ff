"""How the training panel runs the engine: an asyncio task on the kernel's event loop, or a
plain loop. This docstring is the one place where the choice and its limits are written down.

Why an asyncio task (and not a thread)
--------------------------------------
A Jupyter kernel handles widget messages (a click on Pause, a moved slider) on its event
loop, between cells. A plain ``for`` loop over ``svi.step`` blocks that loop: in JupyterLab
a Stop click was ignored for 5.5 s, until the cell ended. The same loop run as an asyncio
task on the kernel's loop, giving the loop back every few steps, stopped within 0.3 s. A
background thread would also free the loop, but output and widget updates from a thread
land in whichever cell happens to be running (ipywidgets #2358, #4020), and the engine
swaps Pyro's *global* parameter store and random state during every step, which code in
the main thread would then see. So the panel trains in short *chunks* of steps
(``trainer.step(n)``, sized to take about :data:`CHUNK_SECONDS`), and after each chunk it
updates the status and, throttled, the plot, then gives the loop :data:`YIELDS` turns
(``await asyncio.sleep(0)``; a message needs several turns to be read and handled). In a
real ipykernel a Pause click sent over the Jupyter protocol was handled within ~20-50 ms
(tests/ui/test_panel_kernel.py drives one). Each chunk costs the engine a swap of the
parameter store and random state (~0.5 ms), hence chunks of ~50 ms rather than single steps;
a blocking run (nothing can be clicked) uses chunks of ~0.25 s, just for the status line.

When does ``panel.train()`` return at once? (the detection rule)
----------------------------------------------------------------
``panel.train()`` trains in the background (returns at once, the panel stays live) iff

1. it runs in an IPython *kernel* (``get_ipython().kernel`` exists), and
2. the cell was sent by a person's frontend: the execute request allows ``input()``
   (``allow_stdin``). JupyterLab, the classic notebook and VS Code send ``allow_stdin=True``;
   nbval, nbconvert/nbclient, papermill and Voila send ``False``, and
3. the environment variable ``VILAB_HEADLESS`` is not set to 1/true/yes/on.

Otherwise (nbval, scripts, ``python -c``, CI) it trains synchronously to the end, so later
cells and lines see the result, and leaves one static figure. ``panel.train(block=True)``
or ``block=False`` overrides the rule. Clicks on the panel's buttons start a background
task whenever an event loop is running (always the case in a kernel), else they block.
Smoke mode (``VILAB_SMOKE=1``) changes only the sizes, not the rule: a smoke-mode Run All in
a browser trains in the background exactly as in class (the browser tests rely on it).

The notebook rule: ``await panel.wait()`` (Run All sees finished runs)
------------------------------------------------------------------------
In a notebook, the cell after ``panel.train()`` that first uses the trained result (prints
the posterior, draws it, saves it) starts with ``await panel.wait()``. With Run All, that
cell then waits (its output line says "waiting for the training panel above: step 420 of
2000", then "training finished at step 2000 (waited 3.1 s)") while the panel above keeps
training live: its plot moves and Pause, Step and the lr slider answer, because an
``await`` gives the kernel's event loop back between chunks. The cells below it queue behind
it, so every one of them sees the finished run. If the student presses Pause, the wait ends
and says so ("paused at step 118 of 1000: the cells below see this partial result"); if the
run failed, the wait raises the run's error. Headless (nbval, CI) the panel has already
trained to the end and the wait returns at once, printing nothing.

Limits
------
* The kernel runs one thing at a time: while a chunk runs (~50 ms) nothing else does, and
  a *running cell* (e.g. ``time.sleep(10)`` or another ``trainer.run``) freezes the panel
  until it ends. A click waits for the end of the current chunk; one slow step (a big
  model) makes the panel that slow to answer.
* A cell without ``await panel.wait()`` that runs while the panel trains sees intermediate
  results. A blocking wait is not possible inside a kernel (the cell would block the very
  loop that trains): the wait must be an ``await``.
* Interrupting the kernel does not stop a background run; press Pause.
* Use the panel's Pause, not ``trainer.request_stop()``: the engine forgets a stop
  requested between two chunks.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator

from ..checks import VilabWarning

HEADLESS_ENV_VAR = "VILAB_HEADLESS"
CHUNK_SECONDS = 0.05  # time between two visits of the event loop while training
BLOCKING_CHUNK_SECONDS = 0.25  # between two status updates of a blocking run
YIELDS = 10  # event-loop turns per visit
MAX_CHUNK = 10_000  # steps per chunk, whatever the speed
_TRUE = {"1", "true", "yes", "on"}


def _kernel():
    """The running ipykernel, or None (plain Python, a terminal IPython)."""
    if "IPython" not in sys.modules:  # never import IPython just to find out
        return None
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None)


def kernel_present() -> bool:
    """True inside a Jupyter kernel (whoever sent the cell)."""
    return _kernel() is not None


def frontend_present() -> bool:
    """True when the current cell came from a person's frontend (see the rule above)."""
    kernel = _kernel()
    if kernel is None:
        return False
    try:
        parent = kernel.get_parent()
    except Exception:  # an unusual kernel: behave as headless, which always works
        return False
    return bool((parent or {}).get("content", {}).get("allow_stdin", False))


def interactive() -> bool:
    """The detection rule of the module docstring: train in the background?"""
    if os.environ.get(HEADLESS_ENV_VAR, "").strip().lower() in _TRUE:
        return False
    return frontend_present()


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Runner:
    """Trains ``num_steps`` steps in chunks, calling ``after_chunk()`` between chunks.

    The trainer's own observers are notified as ``trainer.run`` would notify them (the
    engine's ``trainer.running``): ``on_run_start``/``on_run_end`` once per run (a pause
    ends a run), ``on_steps`` at multiples of their ``every`` and at the end, not at the end
    of every chunk.
    """

    def __init__(self, trainer, chunk_seconds: float = CHUNK_SECONDS):
        self.trainer = trainer
        self.chunk_seconds = chunk_seconds
        self.blocking_chunk_seconds = BLOCKING_CHUNK_SECONDS
        self.seconds_per_step: float | None = None
        self._stop = False
        self.diagnostics: list[VilabWarning] = []  # vilab's warnings, for the error area

    def request_stop(self) -> None:
        """Stop before the next chunk (and, in a blocking run, after the current step)."""
        self._stop = True
        self.trainer.request_stop()

    def run_blocking(self, num_steps: int, after_chunk: Callable[[], None]) -> None:
        for _ in self.chunks(num_steps, self.blocking_chunk_seconds):
            after_chunk()

    async def run_async(self, num_steps: int, after_chunk: Callable[[], None]) -> None:
        for _ in self.chunks(num_steps, self.chunk_seconds):
            after_chunk()
            for _ in range(YIELDS):  # the kernel handles clicks and slider moves here
                await asyncio.sleep(0)

    def chunks(self, num_steps: int, chunk_seconds: float) -> Iterator[int]:
        """Train, yielding the number of steps done after each chunk of ~``chunk_seconds``.
        The stop flag is cleared now, not when iteration starts, so a Pause clicked in
        between counts."""
        self._stop = False
        return self._chunks(num_steps, chunk_seconds)

    def _chunks(self, num_steps: int, chunk_seconds: float) -> Iterator[int]:
        """One engine run (``trainer.running``: its observers hear about one run, not about
        each chunk), taken ~``chunk_seconds`` of steps at a time."""
        with self.trainer.running(num_steps) as run:
            while run.remaining > 0 and not self._stop:
                planned = min(self._chunk_size(chunk_seconds), run.remaining)
                start = time.perf_counter()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", VilabWarning)
                    done = run.step(planned)
                self._sort_warnings(caught)
                self._learn_speed(time.perf_counter() - start, done)
                if done < planned:  # an observer called trainer.request_stop()
                    self._stop = True
                yield run.done

    def _sort_warnings(self, caught) -> None:
        """vilab's diagnostics (e.g. a diverging learning rate) go to the panel's error
        area, where a student sees them; any other warning is shown as usual."""
        for record in caught:
            if isinstance(record.message, VilabWarning):
                self.diagnostics.append(record.message)
            else:
                warnings.showwarning(
                    record.message, record.category, record.filename, record.lineno
                )

    def _chunk_size(self, chunk_seconds: float) -> int:
        if not self.seconds_per_step:
            return 1
        return max(1, min(MAX_CHUNK, int(chunk_seconds / self.seconds_per_step)))

    def _learn_speed(self, seconds: float, steps: int) -> None:
        if steps < 1:
            return
        per_step = seconds / steps
        previous = self.seconds_per_step
        self.seconds_per_step = per_step if previous is None else 0.7 * previous + 0.3 * per_step
