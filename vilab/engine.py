"""The headless training engine: Pyro's ``svi.step`` in a loop, with the bookkeeping a
classroom needs (history, observers, seeds, NaN stop, pause, checkpoints).

The UI panel, the CLI and the notebooks all drive a :class:`Trainer`; it never imports
widgets or draws anything.

Example::

    trainer = Trainer(model, guide, args=(data,), lr=0.01, seed=0)
    trainer.run(2000)                 # with a progress bar
    trainer.history.elbo_per_point    # one value per step
    trainer.params()                  # {"loc": tensor(...), ...}
"""

from __future__ import annotations

import math
import time
import warnings
import weakref
from collections.abc import Callable
from contextlib import contextmanager, nullcontext

import pyro
import pyro.poutine as poutine
import torch
from pyro.distributions import constraints
from pyro.infer.util import torch_item
from torch.distributions import biject_to

from . import checks
from .autoguide_start import can_start_at_map, start_at_map
from .callbacks import Callback, FunctionCallback, ProgressBar
from .checkpoint import load_checkpoint, model_identity, optim_kind, save_checkpoint
from .convergence import ConvergenceMonitor
from .defaults import (
    DEFAULT_AUTOGUIDE_START,
    DEFAULT_ELBO,
    DEFAULT_JIT,
    DEFAULT_LR,
    DEFAULT_NUM_PARTICLES,
    DEFAULT_OPTIM,
    DEFAULT_VALIDATE_EVERY,
)
from .device import on_device, resolve_device, to_device
from .errors import TrainingDiverged
from .history import History
from .interrupts import InterruptGuard
from .options import check_lr, check_num_steps, make_elbo, make_optim, set_optim_lr
from .run import Run
from .scope import PrivateScope
from .validation import one_of, whole_number


class Trainer:
    """Stochastic variational inference on one model/guide pair, in a private parameter store.

    Arguments:
        model, guide: Pyro callables taking ``*args, **kwargs``.
        args, kwargs: the data passed to model and guide at every step.
        batch_fn: optional ``batch_fn(step) -> args`` for minibatch SVI; replaces ``args``.
        lr, optim: learning rate and optimiser: "auto" (Adam whose rate halves when the
            gradients show the iterates rattle around the optimum), "adam", "clipped_adam",
            "sgd" or a pyro.optim. The defaults, and why: :mod:`vilab.defaults`.
        optim_args: further optimiser options, e.g. {"lrd": 0.999} (learning-rate decay per
            step) for "clipped_adam", or {"betas": (0.9, 0.99)}.
        elbo: "stl" (Trace_ELBO with the path-derivative gradient), "trace" (Trace_ELBO),
            "meanfield" (TraceMeanField_ELBO), or an ELBO object.
        jit: compile the ELBO with PyTorch's JIT and update with the fused Adam/SGD kernels
            (faster for small models; the model must have a fixed structure). Without it,
            every step is exactly Pyro's ``svi.step`` with the matching ``pyro.optim``.
            "auto": compiled with the default ELBO and optimiser when PyTorch traces the
            model without a warning, else the plain loop, silently (why it is not the
            default: :mod:`vilab.defaults`).
        num_particles: samples per ELBO estimate.
        seed: the same seed, model and data give the same loss trace, whatever else runs.
        num_data: data points used to report the ELBO per point (default: inferred from the
            observed sites).
        check: run :mod:`vilab.checks` on the model/guide pair before training.
        device: where data and parameters live: "cpu" (the default), "cuda", "cuda:N", or
            "auto" (the GPU when PyTorch sees one). Readouts (``params``, draws) come back
            to the CPU. The same seed gives the same trace on the same device.
        autoguide_start: "map": a Pyro autoguide left at its default start (never called,
            default ``init_loc_fn``) starts at the mode of the log joint instead, found by a
            short L-BFGS search (:mod:`vilab.autoguide_start`); None: Pyro's own start.
        validate_every: Pyro checks every distribution's arguments on the first
            ``validate_every`` steps and every ``validate_every``-th step after, and a step
            that fails in between is replayed with the checks, so its message still names
            the bad argument; 1 checks every step, as Pyro does (about 20% slower on small
            models: :mod:`vilab.defaults`). Minibatch trainers check every step.
        context: anything the trainer's owner wants to keep beside it, untouched by the
            engine: an exercise stores its data (and networks) here for its plots, as
            ``trainer.context``, instead of ad-hoc attributes.
    """

    def __init__(
        self,
        model: Callable,
        guide: Callable,
        args: tuple = (),
        kwargs: dict | None = None,
        *,
        batch_fn: Callable[[int], tuple] | None = None,
        lr: float = DEFAULT_LR,
        optim=DEFAULT_OPTIM,
        optim_args: dict | None = None,
        elbo=DEFAULT_ELBO,
        jit: bool | str = DEFAULT_JIT,
        num_particles: int = DEFAULT_NUM_PARTICLES,
        vectorize_particles: bool = False,
        seed: int = 0,
        num_data: int | None = None,
        check: bool = True,
        device="cpu",
        autoguide_start: str | None = DEFAULT_AUTOGUIDE_START,
        validate_every: int = DEFAULT_VALIDATE_EVERY,
        context=None,
    ):
        for role, fn in (("model", model), ("guide", guide)):
            if not callable(fn):
                raise TypeError(
                    f"The {role} must be a function (or nn.Module) that calls pyro.sample, "
                    f"got {type(fn).__name__}: {fn!r}. Pass the function itself, e.g. "
                    f"Trainer(model, guide, ...), not the result of calling it."
                )
        if not isinstance(args, tuple):
            raise TypeError(
                f"args must be a tuple of the model's positional arguments, got "
                f"{type(args).__name__}. For a single argument write args=(data,)."
            )
        self.model, self.guide = model, guide
        self.context = context
        self.device = resolve_device(device)  # first: the scope's random state covers it
        self.args, self.kwargs = to_device((args, dict(kwargs or {})), self.device)
        self.batch_fn = batch_fn
        self._lr = check_lr(lr)
        one_of(
            "jit",
            jit,
            (True, False, "auto"),
            fix='jit=False (the default), jit="auto" or jit=True.',
        )
        self.optim_choice, self.elbo_choice, self.jit = optim, elbo, jit
        self.optim_args = dict(optim_args or {})
        self.num_particles, self.vectorize_particles = num_particles, vectorize_particles
        self.seed, self.check = seed, check
        self.validate_every = whole_number(
            "validate_every", validate_every, fix="e.g. validate_every=25, or 1 for every step."
        )
        fix = 'autoguide_start="map" (the default) or None (Pyro\'s own start).'
        self.autoguide_start = one_of("autoguide_start", autoguide_start, ("map", None), fix=fix)
        self.callbacks: list[Callback] = []
        self.scope = PrivateScope(seed)
        self._stop_requested = False
        self._interrupts = InterruptGuard()  # Ctrl-C waits for the update to finish
        self._num_data_arg = num_data
        checks.check_data(self.args, self.kwargs)
        self._checked = False  # the pair is checked once; a reset replays the same traces
        self._initial_values: dict[str, torch.Tensor] | None = None
        self.reset()
        if check:  # warns once if the first steps' loss climbs; explains a negative scale
            checks.watch(self)

    # -- set-up -------------------------------------------------------------------------

    def reset(self) -> None:
        """Fresh parameters, optimiser and history, from the same seed: a clean restart."""
        self.scope.clear()
        self.jit_active = self.jit is True or (
            self.jit == "auto"
            and (self.elbo_choice, self.optim_choice) == (DEFAULT_ELBO, DEFAULT_OPTIM)
            and self.batch_fn is None
        )
        self._make_loss_and_optim()
        self.convergence = ConvergenceMonitor(adapt_lr=self.optim_choice == "auto")
        self.num_steps_done = 0
        self._elapsed = 0.0
        num_data = self._initialise()
        self._restore_initial_values()
        if self.jit_active:
            try:
                self._compile(strict=self.jit == "auto")
            except Exception:
                if self.jit is True:
                    raise
                self.jit_active = False  # "auto": the plain loop, silently
                self._drop_grads()
                nesting = getattr(self.loss, "max_plate_nesting", None)
                self._make_loss_and_optim()
                if self.vectorize_particles and hasattr(self.loss, "max_plate_nesting"):
                    self.loss.max_plate_nesting = nesting
        self.history = History(num_data=num_data)

    def _make_loss_and_optim(self) -> None:
        self.loss = make_elbo(
            self.elbo_choice,
            self.num_particles,
            self.jit_active,
            self.vectorize_particles,
            ignore_jit_warnings=self.jit is True,
        )
        self.optim = self.new_optim()

    def new_optim(self):
        """A fresh optimiser as chosen (with ``jit=True``, the fused Adam/SGD kernels: the
        fast mode's numbers differ from the plain loop's anyway)."""
        return make_optim(self.optim_choice, self._lr, self.optim_args, fused=self.jit_active)

    def _restore_initial_values(self) -> None:
        """Make a reset, or a new Trainer on the same guide, bring back the very first
        parameter values. Plain ``pyro.param`` sites would be re-created identically from
        the seed anyway, but networks registered with ``pyro.module`` and autoguides (their
        parameters live in the module too) re-register their current, trained values. The
        first values are remembered per guide object, for every trainer built on it."""
        owner = _guide_owner(self.guide)
        with self.scope:
            params = dict(pyro.get_param_store().named_parameters())
            if self._initial_values is None:
                remembered = _FIRST_VALUES.get(owner) if owner is not None else None
                if remembered is None:
                    self._initial_values = {k: v.detach().clone() for k, v in params.items()}
                    if owner is not None:
                        _FIRST_VALUES[owner] = self._initial_values
                    return
                self._initial_values = remembered
            with torch.no_grad():
                for name, value in self._initial_values.items():
                    if name in params and params[name].shape == value.shape:
                        params[name].copy_(value)

    def _initialise(self) -> int:
        """Run guide and model once: creates the parameters, checks the pair (on the first
        call: a reset replays the same traces), counts data."""
        args, kwargs = self._step_args(0)
        first_check = self.check and not self._checked
        if first_check:  # NaN (error) and dtype (warning) of the data, before tracing
            checks.report(checks.data_diagnostics(args, kwargs))
        if self._initial_values is None and _guide_owner(self.guide) is not None:
            at_map = self.autoguide_start == "map" and self.batch_fn is None
            at_map = at_map and can_start_at_map(self.guide)  # before its set-up: still Pyro's
            self._set_up_guide(args, kwargs)
            if at_map:  # off the random stream, like the set-up
                with self.scope.inspecting(), on_device(self.device):
                    start_at_map(self.model, self.guide, args, kwargs)
        with self.scope, on_device(self.device):  # parameters are created on the device
            guide_trace, model_trace = checks.trace_pair(
                self.model, self.guide, args, kwargs, explain=self.check
            )
        if first_check:
            minibatch_num_data = self._num_data_arg if self.batch_fn is not None else None
            checks.check_traces(model_trace, guide_trace, num_data=minibatch_num_data)
            self._checked = True
        with self.scope:  # what a checkpoint must match to be loaded here
            self._identity = model_identity(model_trace, guide_trace)
        if self.vectorize_particles and hasattr(self.loss, "max_plate_nesting"):
            # the particle dimension sits left of the model's plates, as Pyro's own guess does
            self.loss.max_plate_nesting = checks.plate_nesting(model_trace, guide_trace) + 1
        return self._num_data_arg or checks.count_observed(model_trace)

    def _set_up_guide(self, args, kwargs) -> None:
        """Call a module guide once, off the training's random stream. An autoguide sets itself
        up at its first call and draws random numbers doing so; done here, a first run starts
        from the same point of the stream as a reset, or as a new Trainer built on the same,
        already used guide (a student re-running the Trainer cell): all give one loss trace."""
        try:
            with self.scope.inspecting(), on_device(self.device):
                self.guide(*args, **kwargs)
        except Exception:
            pass  # a broken guide: the check that follows explains what is wrong

    def _compile(self, strict: bool = False) -> None:
        """Trace the JIT-compiled ELBO now. Tracing runs the model and guide, drawing random
        numbers; done here, off the training's random stream, it cannot shift the stream of
        a reset or of a run resumed from a checkpoint. ``strict``: refuse a model whose
        trace PyTorch warns about (a Python ``if`` or ``float()`` on a tensor: the compiled
        function would freeze that branch), by raising."""
        args, kwargs = self._step_args(0)
        with (
            self.scope.inspecting(),
            on_device(self.device),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always", torch.jit.TracerWarning)
            # torch 2.13 deprecates torch.jit.trace, which Pyro's compiled ELBOs call: a
            # notice about vilab's choice to compile, not the caller's code (under
            # -W error it would stop the VAE exercise, whose default compiles)
            warnings.filterwarnings("ignore", "`torch.jit.trace` is", DeprecationWarning)
            with poutine.trace(param_only=True) as param_capture:
                self.loss.loss_and_grads(self.model, self.guide, *args, **kwargs)
        _clear_grads(_captured_params(param_capture.trace))
        traced = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
        frozen = [w for w in traced if any(m in str(w.message) for m in _FROZEN_BY_TRACING)]
        if strict and frozen:
            raise RuntimeError(f"not traceable: {frozen[0].message}")
        for w in caught:  # the rest are the caller's business, as without the recording
            if w not in traced:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def _step_args(self, step: int) -> tuple[tuple, dict]:
        if self.batch_fn is None:
            return self.args, self.kwargs
        return to_device(tuple(self.batch_fn(step)), self.device), self.kwargs

    # -- options that may change between steps --------------------------------------------

    @property
    def lr(self) -> float:
        """The learning rate asked for (``optim="auto"`` steps with a fraction of it once
        the run settles: :attr:`current_lr`)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        """A new learning rate takes effect on the next step (and restarts the adaptive
        step size and the convergence watch from it)."""
        self._lr = check_lr(value)
        self.convergence.reset()
        set_optim_lr(self.optim, self._lr)

    @property
    def current_lr(self) -> float:
        """The learning rate of the next step."""
        return self._lr * self.convergence.lr_factor

    # settings that define the objective or the optimiser: changing one resets the trainer
    REBUILD_SETTINGS = ("optim", "optim_args", "elbo", "num_particles", "vectorize_particles")

    def configure(self, **settings) -> None:
        """Change settings between runs, all checked before any is applied: ``lr`` takes
        effect on the next step; ``optim``, ``optim_args``, ``elbo``, ``num_particles`` and
        ``vectorize_particles`` define the objective and the optimiser's state, so changing
        one resets the trainer (fresh parameters from the same seed, a new history).
        The training panel's settings go through here."""
        unknown = sorted(set(settings) - set(self.REBUILD_SETTINGS) - {"lr"})
        if unknown:
            raise TypeError(
                f"configure() got unknown settings {unknown}. Fix: use lr or one of "
                f"{list(self.REBUILD_SETTINGS)}."
            )
        lr = check_lr(settings.get("lr", self._lr))
        rebuild = {
            "optim_choice": settings.get("optim", self.optim_choice),
            "optim_args": dict(settings.get("optim_args", self.optim_args) or {}),
            "elbo_choice": settings.get("elbo", self.elbo_choice),
            "num_particles": settings.get("num_particles", self.num_particles),
            "vectorize_particles": settings.get("vectorize_particles", self.vectorize_particles),
        }
        changed = any(getattr(self, name) != value for name, value in rebuild.items())
        if changed:  # raise here, before anything changes, if a setting is bad
            make_elbo(
                rebuild["elbo_choice"],
                rebuild["num_particles"],
                False,  # only checked here; reset() decides about compiling
                rebuild["vectorize_particles"],
            )
            make_optim(rebuild["optim_choice"], lr, rebuild["optim_args"])
            for name, value in rebuild.items():
                setattr(self, name, value)
            self._lr = lr
            self.reset()
        elif lr != self._lr:
            self.lr = lr

    # -- observers ------------------------------------------------------------------------

    def add_callback(self, callback, every: int = 1) -> Callback:
        """Subscribe ``callback(trainer)`` (or a :class:`Callback`) to every ``every`` steps."""
        if not isinstance(callback, Callback):
            if not callable(callback):
                raise TypeError(f"A callback must be callable, got {callback!r}.")
            whole_number("every", every, fix="e.g. add_callback(fn, every=25).")
            callback = FunctionCallback(callback, every)
        self.callbacks.append(callback)
        return callback

    def remove_callback(self, callback: Callback) -> None:
        self.callbacks.remove(callback)

    def request_stop(self) -> None:
        """Ask a running ``run``/``step`` to stop after the current step (Pause). A request
        made while nothing runs is dropped when the next block starts (the UI panel keeps
        its own paused state for that)."""
        self._stop_requested = True

    # -- training -------------------------------------------------------------------------

    def run(
        self, num_steps: int, progress: bool | Callback = True, until_converged: bool = False
    ) -> History:
        """Train for ``num_steps`` steps (fewer if stopped), showing a progress bar
        (``progress=False`` for none, or a :class:`ProgressBar` configured your way).
        ``num_steps`` is a whole number: ``2000``, ``np.int64(2000)``, ``torch.tensor(2000)``
        and ``1e4`` (a float holding a whole number) all work.

        ``until_converged=True`` stops as soon as :attr:`convergence` says the run has
        converged, with ``num_steps`` as the cap; the progress bar's last line says which
        ("converged at step 840", or "not converged: still moving" at the cap)."""
        if progress is True:
            progress = ProgressBar()
        extra = [progress] if progress else []
        with self.running(num_steps, extra, until_converged=until_converged) as run:
            run.step(run.num_steps)
        return self.history

    def running(self, num_steps: int, extra_callbacks=(), until_converged: bool = False) -> Run:
        """A run of ``num_steps`` steps taken in chunks (``with trainer.running(n) as run:
        run.step(50)``...), whose observers hear about it as about :meth:`run`: see
        :mod:`vilab.run`. The training panel trains this way between two clicks."""
        callbacks = self.callbacks + list(extra_callbacks)
        return Run(self, check_num_steps(num_steps), callbacks, until_converged)

    def step(self, num_steps: int = 1) -> float:
        """Take ``num_steps`` steps without a progress bar; returns the last loss. Observers
        hear at multiples of their ``every`` only: a loop of ``step(1)`` calls a callback
        set to ``every=25`` once every 25 steps, not at every call."""
        num_steps = check_num_steps(num_steps)
        self._steps(num_steps, self.callbacks, {})
        return self.history.loss[-1] if self.history.loss else math.nan

    def _steps(
        self,
        num_steps: int,
        callbacks: list[Callback],
        notified: dict,
        until_converged: bool = False,
    ) -> None:
        """Take the steps, notifying ``callbacks`` at multiples of their ``every`` (recorded
        in ``notified``). A step either happens whole or not at all: whatever stops it
        (Ctrl-C, an error, a divergence) before its update leaves no gradient behind and
        rewinds the random stream, and an interrupt during the update waits for its end.
        A failed block ends with a call to every observer (the last state is worth seeing)."""
        self._stop_requested = False
        clock = time.perf_counter
        with self.scope, self._interrupts:
            start, elapsed = clock(), self._elapsed
            try:
                for _ in range(num_steps):
                    if self._stop_requested or (until_converged and self.convergence.converged):
                        break
                    self._one_step(lambda: elapsed + clock() - start)
                    for callback in callbacks:
                        if self.num_steps_done % callback.every == 0:
                            notified[id(callback)] = self.num_steps_done
                            callback.on_steps(self)
            except BaseException:
                for callback in callbacks:  # even one just notified: it has not seen this
                    notified[id(callback)] = self.num_steps_done
                    callback.on_steps(self)
                raise
            finally:
                self._elapsed = elapsed + clock() - start

    def _one_step(self, elapsed: Callable[[], float]) -> None:
        """One step, recorded in the history with the training time ``elapsed()``. If it
        fails before it is recorded, its gradients are dropped and the random stream is
        rewound to where it began: the trainer is as before the step."""
        step, rng = self.num_steps_done, torch.get_rng_state()  # Pyro draws from torch's
        try:
            loss, params = self._loss_and_grads(step, rng)
            with self._interrupts.deferred():  # the watch may move the parameters: with them
                factor = self.convergence.observe(step + 1, params)
                self._update(params)
                if factor != 1.0:  # the adaptive step size: the next step uses the new rate
                    set_optim_lr(self.optim, self.current_lr)
                self.num_steps_done += 1
                self.history.append(self.num_steps_done, loss, elapsed())
        except BaseException:
            if self.num_steps_done == step:
                self._drop_grads()
                torch.set_rng_state(rng)
            raise

    def _loss_and_grads(
        self, step: int, rng: torch.Tensor | None = None
    ) -> tuple[float, list[torch.Tensor]]:
        """Pyro's ``SVI.step`` up to the update: the loss, and the parameters it used with
        their gradients, checked finite. ``rng``: the random state the step began with
        (to replay a failed step with Pyro's checks)."""
        args, kwargs = self._step_args(step)
        checked = self._checks_step(step)
        try:
            with (
                on_device(self.device),
                poutine.trace(param_only=True) as param_capture,
                nullcontext() if checked else pyro.validation_enabled(False),
            ):
                loss = self.loss.loss_and_grads(self.model, self.guide, *args, **kwargs)
        except ValueError as exc:
            diverged = self._diverged_on_invalid_arguments(exc)
            if diverged is None:
                raise
            raise diverged from exc
        params = _captured_params(param_capture.trace)
        loss = torch_item(loss)
        if not (math.isfinite(loss) and _grads_finite(params)):
            if not checked and rng is not None:  # again with Pyro's checks: they may name it
                self._replay_with_checks(step, rng)
            raise self._diverged(loss)
        return loss, params

    def _checks_step(self, step: int) -> bool:
        """Whether Pyro checks the distributions' arguments at this step. Minibatches bring
        new data at every step, so they are checked at every step; a compiled ELBO is left
        as it is (it checked once, when traced)."""
        every = self.validate_every
        return self.jit_active or self.batch_fn is not None or step < every or step % every == 0

    def _replay_with_checks(self, step: int, rng: torch.Tensor) -> None:
        """Run a failed step's loss again, from its random state, with Pyro's checks on; if
        they reject an argument, raise the divergence with their message."""
        args, kwargs = self._step_args(step)
        torch.set_rng_state(rng)
        try:
            with on_device(self.device), torch.no_grad():
                self.loss.loss(self.model, self.guide, *args, **kwargs)
        except Exception as exc:  # anything but Pyro's checks: the plain divergence message
            diverged = self._diverged_on_invalid_arguments(exc)
            if diverged is not None:
                raise diverged from exc

    def _diverged_on_invalid_arguments(self, exc: Exception) -> TrainingDiverged | None:
        """Pyro's validation rejects NaN/inf or out-of-support distribution parameters before
        the loss is even computed: the same failure, reported the same way (None: ``exc``
        is something else)."""
        if not isinstance(exc, ValueError) or "found invalid values" not in str(exc):
            return None
        return self._diverged(math.nan, detail=str(exc).split("\nTrace Shapes")[0])

    def _update(self, params) -> None:
        """The optimiser step on ``params`` (an interrupt waits for it: see ``_steps``)."""
        try:
            self.optim(params)
        finally:
            _clear_grads(params)

    def _drop_grads(self) -> None:
        """Forget every gradient of this trainer's parameters (a step that failed half-way
        may have written some; the next backward would add to them)."""
        _clear_grads(value for _, value in pyro.get_param_store().named_parameters())

    def _diverged(self, loss: float, detail: str = "") -> TrainingDiverged:
        step = self.num_steps_done + 1
        if detail:
            what = f"a distribution got invalid parameters ({detail.strip()})"
        elif not math.isfinite(loss):
            what = f"the loss became {loss}"
        else:
            what = "a gradient became NaN/inf"
        return TrainingDiverged(
            f"Training stopped at step {step}: {what}. The parameters after step {step - 1} "
            f"(the last finite ones) are kept.\nLikely causes:\n"
            f"  - the learning rate is too large (lr={self._lr:g}): try lr={self._lr / 10:g};\n"
            f"  - a scale parameter can become negative or zero: declare it with "
            f"constraint=constraints.positive;\n"
            f"  - the data contain NaN/inf or extreme values: check and standardise them.",
            step=step,
        )

    def evaluate_loss(self) -> float:
        """A fresh loss estimate without training; the training's random stream is untouched."""
        args, kwargs = self._step_args(self.num_steps_done)
        with self.scope.inspecting(), on_device(self.device), torch.no_grad():
            return torch_item(self.loss.loss(self.model, self.guide, *args, **kwargs))

    # -- parameters -----------------------------------------------------------------------

    @contextmanager
    def activated(self):
        """Make this trainer's parameters the global ones (for Predictive, plots...), with
        new tensors made on its device."""
        with self.scope.inspecting(), on_device(self.device):
            yield self

    def params(self) -> dict[str, torch.Tensor]:
        """Current parameter values (constrained, detached copies on the CPU), by name.

        An autoguide keeps each latent's location on the unconstrained scale (for a positive
        sigma, log sigma); here ``AutoNormal.locs.sigma`` comes back in the latent's own
        units (q's median, e.g. sigma itself). :func:`vilab.predictive.posterior_summary`
        gives means, sds and intervals of every latent."""
        with self.scope:
            store = pyro.get_param_store()
            values = {name: store[name].detach().to("cpu", copy=True) for name in store.keys()}
        return _constrained_locations(self.guide, values)

    def param(self, name: str) -> torch.Tensor:
        params = self.params()
        if name not in params:
            raise KeyError(f"No parameter {name!r}; this trainer has {sorted(params)}.")
        return params[name]

    def sample_posterior(
        self,
        num_samples: int = 1000,
        return_sites=None,
        args=None,
        kwargs=None,
        parallel: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Samples of the latent sites (and, with ``return_sites``, of any model site such as
        the predicted observations) from the guide's current posterior, via Pyro's Predictive.
        ``args``/``kwargs`` replace the training data, e.g. new inputs for predictions.
        ``parallel=True`` draws all samples in one vectorised call (much faster; needs a
        model whose plates declare their dims). Without ``return_sites`` it returns the latent
        sites only, drawn from the guide in one vectorised call
        (:func:`vilab.predictive.sample_latents`), whatever ``parallel`` says."""
        if return_sites is None:
            from .predictive import sample_latents

            return sample_latents(self, num_samples, args=args, kwargs=kwargs)
        from pyro.infer import Predictive

        args = self._step_args(self.num_steps_done)[0] if args is None else tuple(args)
        kwargs = self.kwargs if kwargs is None else kwargs
        with self.activated(), torch.no_grad():
            predictive = Predictive(
                self.model,
                guide=self.guide,
                num_samples=num_samples,
                return_sites=return_sites,
                parallel=parallel,
            )
            return {k: v.detach() for k, v in predictive(*args, **kwargs).items()}

    # -- checkpoints ----------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything a run needs to continue exactly where it is: parameters, optimiser
        state, random state, history, step count, training time, learning rate, the
        convergence watch, and the model/guide identity a restore is checked against.
        :func:`vilab.checkpoint.save_checkpoint` writes this to a file."""
        with self.scope:
            params = {
                name: value.detach().clone()
                for name, value in pyro.get_param_store().named_parameters()
            }
            optim_state = self.optim.get_state()
        return {
            "num_steps_done": self.num_steps_done,
            "elapsed": self._elapsed,
            "lr": self._lr,
            "seed": self.seed,
            "params": params,
            "optim": optim_state,
            "optim_kind": optim_kind(self.optim),
            "identity": self._identity,
            "rng": self.scope.rng_state,
            "history": self.history.to_dict(),
            "convergence": self.convergence.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from :meth:`state_dict`'s output (checked by the caller: the checkpoint
        module refuses a file that does not fit). The optimiser and the convergence watch
        are rebuilt first; only then does anything change, so a failure changes nothing."""
        optim = make_optim(self.optim_choice, state["lr"], self.optim_args, fused=self.jit_active)
        optim.set_state(state["optim"])
        convergence = ConvergenceMonitor(adapt_lr=self.optim_choice == "auto")
        if state.get("convergence"):  # checkpoints older than the watch have none
            convergence.load_state_dict(state["convergence"])
        history = state["history"]
        history = history if isinstance(history, History) else History.from_dict(history)
        with self.scope, torch.no_grad():
            current = dict(pyro.get_param_store().named_parameters())
            for name, value in state["params"].items():
                current[name].copy_(value)
                current[name].grad = None
        self._lr, self.optim, self.convergence = float(state["lr"]), optim, convergence
        self.scope.rng_state = state["rng"]
        self.num_steps_done = int(state["num_steps_done"])
        self._elapsed = float(state["elapsed"])
        self.history = history

    def save(self, path) -> None:
        """Save parameters, optimiser state, random state and history to ``path``."""
        save_checkpoint(self, path)

    def load(self, path) -> None:
        """Restore a checkpoint saved by :meth:`save`; training continues where it stopped.
        The file is checked whole first (same model and guide, same optimiser): a refused
        file raises :class:`~vilab.errors.CheckpointError` and changes nothing."""
        load_checkpoint(self, path)


# PyTorch's tracer warnings that mean the compiled function would freeze a value or a branch
# (a Python bool/float/int of a tensor, a loop over one); "torch.tensor results are
# registered as constants" is what every pyro.param(..., torch.tensor(0.0)) start says.
_FROZEN_BY_TRACING = ("Converting a tensor to a Python", "Iterating over a tensor")

# guide (or the object owning a bound-method guide) -> its parameters' first values
_FIRST_VALUES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _guide_owner(guide):
    """The module whose parameters outlive a trainer (an autoguide, or a guide written as an
    ``nn.Module``), else None: a plain guide function re-creates its ``pyro.param`` values
    from its own code (perhaps from new data) in every new trainer, which is right."""
    owner = getattr(guide, "__self__", guide)
    return owner if isinstance(owner, torch.nn.Module) else None


def _constrained_locations(guide, values: dict) -> dict:
    """An autoguide's per-site locations (``<name>.locs.<site>``) mapped onto the support of
    their latent site; every other value as it is."""
    prototype = getattr(guide, "prototype_trace", None)
    prefix = f"{getattr(guide, '_pyro_name', '')}.locs."
    if prototype is None or not hasattr(guide, "locs"):
        return values
    for name, value in values.items():
        site = prototype.nodes.get(name[len(prefix) :]) if name.startswith(prefix) else None
        if site is not None and site["fn"].support is not constraints.real:
            with torch.no_grad():
                values[name] = biject_to(site["fn"].support)(value)
    return values


def _grads_finite(params) -> bool:
    """Whether every gradient is finite, in one fused call: the kernel behind PyTorch's
    GradScaler (it multiplies the gradients by 1.0, which changes no bit). Checking tensor by
    tensor cost ~45 µs of a 1.2 ms temperature-model step; gradients that kernel refuses
    (sparse, several devices) are checked one by one."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return True
    found_nonfinite = torch.zeros((), device=grads[0].device)
    try:
        torch._amp_foreach_non_finite_check_and_unscale_(
            grads, found_nonfinite, torch.ones((), device=grads[0].device)
        )
    except (RuntimeError, NotImplementedError, AttributeError):
        dense = [g.coalesce().values() if g.is_sparse else g for g in grads]
        return all(bool(torch.isfinite(g).all()) for g in dense)
    return not found_nonfinite.item()


def _captured_params(trace) -> list[torch.Tensor]:
    """The unconstrained tensors behind the ``pyro.param`` sites of a param-only trace: what
    the optimiser updates (as in Pyro's ``SVI.step``), each once, in the order the sites ran
    (a set's order may change from step to step: the convergence watch lines values up)."""
    return list(dict.fromkeys(site["value"].unconstrained() for site in trace.nodes.values()))


def _clear_grads(params) -> None:
    """Drop the gradients, so the next backward writes fresh ones (Pyro's ``zero_grads``
    allocates zero tensors to add them to: the same numbers, more work)."""
    for p in params:
        p.grad = None
