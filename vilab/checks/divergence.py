"""Watching the first steps of a training: a loss that climbs or parameters that jump
(learning rate too large), and a training stopped by a scale parameter that went negative.

A learning rate far too large does not always make the loss climb: Adam with lr=2 on the
simple Gaussian moves each log-scale by about 2 per step, the loss still falls, and the
posterior's sd ends 12x too small. The robust sign is the jump itself: a constrained
parameter (a scale, a rate, a probability) whose unconstrained value (its log, its logit)
moves by more than ``max_jump`` = 1 in one step is multiplied by e = 2.7 or more at once,
twice in the first steps.

The Trainer registers one :class:`DivergenceWatch` when ``check=True``. During the first
``horizon`` steps it reads the constrained parameters at every step and the history every
``every`` steps, and warns at most once, so it costs nothing measurable. When a run
fails, it adds a note to the exception naming the parameter to constrain (notes are
printed under the error message).
"""

from __future__ import annotations

import math
import statistics
import sys

import pyro
import torch.distributions.constraints as tc

from ..callbacks import Callback
from ..errors import TrainingDiverged
from .messages import Diagnostic, in_vilab, warn
from .params import constraint_text, scale_uses


class DivergenceWatch(Callback):
    """Warn once if the loss climbs over the first ``horizon`` steps (diagnostic 11), and
    explain a stop caused by an unconstrained scale (diagnostic 7).

    The loss is judged every ``every`` steps from step 50 on; it must look wrong at two
    judgements in a row (one bump of a noisy loss is no reason to alarm a student).
    """

    def __init__(
        self, every: int = 25, horizon: int = 150, strikes: int = 2, max_jump: float = 1.0
    ):
        self.every = 1  # the parameters are read at every step (of the first ``horizon``)
        self.judge_every = every
        self.horizon = horizon
        self.strikes = strikes
        self.max_jump = max_jump
        self.warned = False
        self._judged_at = 0
        self._count = 0
        self._jumps = 0
        self._last_step = 0
        self._previous: dict = {}

    def on_steps(self, trainer) -> None:
        error = _unwinding_error()
        if error is not None:
            explain_failure(trainer, error)
            return
        done = trainer.num_steps_done
        if done < self._last_step:  # trainer.reset(): a fresh run, watched afresh
            self.warned, self._judged_at, self._count, self._jumps = False, 0, 0, 0
            self._previous = {}
        self._last_step = done
        if self.warned or done > self.horizon:
            return
        jump = self._largest_jump(trainer)
        if jump is not None:
            self._jumps += 1
            if self._jumps >= self.strikes:
                self.warned = True
                warn(jump_diagnostic(*jump, trainer.lr))
                return
        if done < self._judged_at + self.judge_every:
            return
        loss = list(trainer.history.loss)
        if len(loss) < 50:
            return
        self._judged_at = done
        diagnostic = lr_diagnostic(loss, trainer.lr)
        self._count = self._count + 1 if diagnostic is not None else 0
        if self._count >= self.strikes:
            self.warned = True
            warn(diagnostic)

    def on_run_end(self, trainer, error) -> None:
        if error is not None:
            explain_failure(trainer, error)

    def _largest_jump(self, trainer) -> tuple[str, float] | None:
        """(name, size) of the largest one-step move of a constrained parameter's
        unconstrained value, if above ``max_jump``."""
        with trainer.scope:
            store = pyro.get_param_store()
            constraints = store._constraints
            current = {
                name: value.detach().clone()
                for name, value in store.named_parameters()
                if type(constraints.get(name, tc.real)) is not tc._Real
            }
        previous = self._previous
        if not previous and trainer.num_steps_done == 1:  # the first step moved from these
            previous = trainer._initial_values or {}
        largest = None
        for name, value in current.items():
            before = previous.get(name)
            if before is None or before.shape != value.shape or not value.numel():
                continue
            size = float((value - before).abs().max())
            if size > self.max_jump and (largest is None or size > largest[1]):
                largest = (name, size)
        self._previous = current
        return largest


def _unwinding_error() -> BaseException | None:
    """The exception propagating through the engine right now, if on_steps is called from
    the ``finally`` of a failed step (and not one the student caught earlier, which
    ``sys.exc_info`` also reports inside their ``except`` block)."""
    error = sys.exc_info()[1]
    if error is None:
        return None
    in_traceback = set()
    tb = error.__traceback__
    while tb is not None:
        in_traceback.add(id(tb.tb_frame))
        tb = tb.tb_next
    frame = sys._getframe(2)
    while frame is not None and in_vilab(frame):
        if id(frame) in in_traceback:
            return error
        frame = frame.f_back
    return None


def _median(values) -> float:
    return statistics.median(values) if values else float("nan")


def lr_diagnostic(loss: list[float], lr: float, first: int = 10, last: int = 25):
    """A diagnostic if the loss over the last ``last`` steps sits clearly above where it
    started (by 5 times the first steps' spread and 2% of its size), or None."""
    if len(loss) < first + last:
        return None
    start, recent = loss[:first], loss[-last:]
    start_level, recent_level = _median(start), _median(recent)
    spread = _median([abs(x - start_level) for x in start])
    rise = recent_level - start_level
    if not rise > max(5 * spread, 0.02 * abs(start_level), 1e-6):
        return None
    return Diagnostic(
        "lr-too-large",
        None,
        f"The loss went up instead of down: median {start_level:.4g} over the first {first} "
        f"steps, {recent_level:.4g} over steps {len(loss) - last + 1}-{len(loss)}. With "
        f"lr={lr:g} the optimiser overshoots the optimum and climbs away from it.",
        fix=f"start again with a smaller learning rate, e.g. lr={lr / 10:g} "
        f"(trainer.lr = {lr / 10:g}; trainer.reset()), or optim='clipped_adam' with "
        f"optim_args={{'lrd': 0.99}} to decay it.",
    )


def jump_diagnostic(name: str, size: float, lr: float) -> Diagnostic:
    """Diagnostic 11 from a parameter that jumped by ``size`` on its unconstrained scale."""
    return Diagnostic(
        "lr-too-large",
        name,
        f"In one step the parameter {name!r} moved by {size:.2g} on its unconstrained scale "
        f"(for a positive parameter, the log: a factor {math.exp(min(size, 50)):.3g} at "
        f"once). With lr={lr:g} every step of Adam moves a parameter by about lr on that "
        f"scale: the optimiser overshoots, and even while the loss falls the posterior's "
        f"spread can collapse far below the right value.",
        fix=f"start again with a smaller learning rate, e.g. lr={lr / 10:g} "
        f"(trainer.lr = {lr / 10:g}; trainer.reset()).",
    )


def explain_failure(trainer, error: BaseException) -> None:
    """Add a note naming unconstrained scale parameters to a failed run's exception."""
    constraint_error = isinstance(error, ValueError) and "to satisfy the constraint" in str(error)
    if getattr(error, "_vilab_explained", False) or not (
        isinstance(error, TrainingDiverged) or constraint_error
    ):
        return
    error._vilab_explained = True
    uses = _scale_uses_now(trainer)
    if not uses:
        return
    params = trainer.params()
    lines = []
    for param, site, dist_name, arg, required in uses:
        value = params.get(param)
        now = f"{float(value.min()):.3g}" if value is not None and value.numel() else "?"
        lines.append(
            f"  '{param}' is the {arg} of the {dist_name} at site '{site}' and has no "
            f"constraint (smallest value now {now}): declare it "
            f"pyro.param('{param}', ..., constraint={constraint_text(required)})."
        )
    error.add_note("[V7 unconstrained-scale] vilab: likely cause:\n" + "\n".join(lines))


def _scale_uses_now(trainer) -> list[tuple]:
    """Trace the pair with the current parameters, validation off (they may be invalid)."""
    import pyro.poutine as poutine

    from .traces import trace_model

    args, kwargs = trainer._step_args(trainer.num_steps_done)
    try:
        with trainer.activated(), pyro.validation_enabled(False):
            guide_trace = poutine.trace(trainer.guide).get_trace(*args, **kwargs)
            model_trace = trace_model(trainer.model, guide_trace, args, kwargs)
    except Exception:
        return []
    return scale_uses(guide_trace, model_trace)


def watch(trainer) -> DivergenceWatch:
    """Subscribe a :class:`DivergenceWatch` to ``trainer`` (the engine does it when
    ``check=True``)."""
    return trainer.add_callback(DivergenceWatch())
