"""One torch optimiser for all of a trainer's parameters.

Pyro's ``PyroOptim`` (behind ``pyro.optim.Adam`` and friends) creates one torch optimiser
per parameter and calls each one's ``step()``. On a small model that Python overhead costs
more than the arithmetic: ~100 µs per parameter per step, a fifth of a temperature-model
step. :class:`SharedOptimiser` keeps a single torch optimiser whose one parameter group
holds exactly the parameters the current step used (as ``PyroOptim`` steps exactly those),
so every parameter gets the same update, bit for bit, from one call.

Its saved state has ``PyroOptim``'s format (parameter name -> torch ``state_dict`` of a
one-parameter optimiser), so checkpoints written with either load into the other.

Torch guards an optimiser's ``step`` and ``add_param_group`` against its compiler
(``torch.compile`` must not trace them); the guards import the compiler, ``torch._dynamo``,
at their first call: 0.65-0.85 s that a fresh process paid before its first training step.
While nothing has imported the compiler nothing can be compiling, so the guards have nothing
to do: the optimiser then runs the guarded functions themselves (the same code, so the same
numbers, bit for bit; the profiler label and the grad mode the guards set are kept). Once
the compiler is loaded (the student compiles something), torch's guarded path is used.

Example::

    optim = SharedOptimiser(torch.optim.Adam, {"lr": 0.01})
    optim(params)                     # one step for these parameters (after backward)
"""

from __future__ import annotations

import sys
import types

import pyro
import torch
import torch.optim.optimizer as torch_optimizer
from pyro.optim import PyroOptim


class SharedOptimiser(PyroOptim):
    """A drop-in for a ``pyro.optim`` object (Pyro's ``SVI`` takes it too): ``optim(params)``
    steps ``params``.

    Arguments:
        optim_cls: a torch optimiser class, e.g. ``torch.optim.Adam``.
        options: its constructor options, ``lr`` included, shared by every parameter.
    """

    def __init__(self, optim_cls: type[torch.optim.Optimizer], options: dict):
        super().__init__(optim_cls, options)  # PyroOptim's per-parameter machinery stays unused
        self.optim_cls = optim_cls
        self.options = dict(options)
        self.optimizer: torch.optim.Optimizer | None = None  # made at the first step
        self._waiting: dict[str, dict] = {}  # saved state of parameters not seen yet, by name
        self._saved_group: dict = {}  # saved group settings (e.g. a decayed lr), applied once
        self._step = None  # the optimiser's step, unguarded where that is safe: _unguarded_step
        self._step_source = None  # the class attribute _step was made from

    def __call__(self, params) -> None:
        params = list(params)
        if not params:
            return
        if self.optimizer is None:
            self.optimizer = self._make(params)
        group = self.optimizer.param_groups[0]
        group["params"] = params  # this step's parameters, and only those
        if self._saved_group:
            group.update(self._saved_group)
            self._saved_group = {}
        if self._waiting:
            self._restore(params)
        if _compiler_loaded():
            self.optimizer.step()
        else:
            source = type(self.optimizer).step  # re-read if someone replaced it (a wrapper)
            if self._step is None or self._step_source is not source:
                self._step, self._step_source = _unguarded_step(self.optimizer), source
            self._step()

    def _make(self, params) -> torch.optim.Optimizer:
        try:
            return construct_optimizer(self.optim_cls, params, self.options)
        except RuntimeError:
            if not self.options.get("fused"):
                raise
            # the fused kernels need floating-point parameters on a device that has them;
            # the plain kernel computes the same update
            self.options["fused"] = False
            return construct_optimizer(self.optim_cls, params, self.options)

    @property
    def param_groups(self) -> list[dict]:
        return self.optimizer.param_groups if self.optimizer is not None else []

    def set_lr(self, lr: float) -> None:
        """The next step, and parameters first seen later, use ``lr``."""
        self.options["lr"] = lr
        self._saved_group.pop("lr", None)
        for group in self.param_groups:
            group["lr"] = lr

    # -- state, in PyroOptim's format -------------------------------------------------------

    def get_state(self) -> dict[str, dict]:
        """Optimiser state by parameter name (call with the trainer's scope active)."""
        state = dict(self._waiting)  # restored from a checkpoint but not stepped yet
        if self.optimizer is None:
            return state
        store = pyro.get_param_store()
        settings = {k: v for k, v in self.optimizer.param_groups[0].items() if k != "params"}
        for param, param_state in self.optimizer.state.items():
            name = store.param_name(param)
            if name is not None:
                state[name] = {
                    "state": {0: dict(param_state)},
                    "param_groups": [{**settings, "params": [0]}],
                }
        return state

    def set_state(self, state: dict[str, dict]) -> None:
        """Restore :meth:`get_state`'s output; each parameter picks its state up at the
        first step that uses it, the shared settings (e.g. a decayed lr) at the next step."""
        self._waiting.update(state)
        for saved in state.values():
            groups = saved.get("param_groups") or [{}]
            self._saved_group = {k: v for k, v in groups[0].items() if k != "params"}

    def _restore(self, params) -> None:
        store = pyro.get_param_store()
        group = self.optimizer.param_groups[0]
        on_device = any(group.get(k) for k in ("fused", "capturable"))
        for param in params:
            if param in self.optimizer.state:
                continue
            saved = self._waiting.pop(store.param_name(param), None)
            if saved is not None:
                self.optimizer.state[param] = {
                    key: _cast_like(param, key, value, on_device)
                    for key, value in saved["state"].get(0, {}).items()
                }


def _cast_like(param: torch.Tensor, key: str, value, step_on_device: bool):
    """Saved optimiser state onto the parameter's device and dtype, as torch's
    ``load_state_dict`` does (the step count stays on the CPU unless fused/capturable)."""
    if not torch.is_tensor(value):
        return value
    if key == "step":
        device = param.device if step_on_device else value.device
        return value.detach().to(device=device, copy=True)
    dtype = param.dtype if value.is_floating_point() else value.dtype
    return value.detach().to(device=param.device, dtype=dtype, copy=True)


# -- torch's compiler guards, skipped while the compiler is not loaded -----------------------


def _compiler_loaded() -> bool:
    """Whether ``torch._dynamo`` is imported: until it is, nothing can be compiling."""
    return "torch._dynamo" in sys.modules


def _guard_code(decorate):
    """The code object of the wrapper that ``decorate`` puts around a function (None where
    this torch has no such decorator): how a guard is recognised, whatever it wraps."""
    try:
        return decorate(lambda *args: None).__code__
    except (AttributeError, TypeError):
        return None


_GRAD_GUARD = _guard_code(getattr(torch_optimizer, "_use_grad_for_differentiable", None))
_COMPILER_GUARD = _guard_code(getattr(torch, "_disable_dynamo", None))
_PROFILE_HOOK = _guard_code(torch.optim.Optimizer.profile_hook_step)


def construct_optimizer(optim_cls, params, options: dict) -> torch.optim.Optimizer:
    """``optim_cls(params, **options)``, its ``add_param_group`` called without the compiler
    guard while the compiler is not loaded."""
    add = optim_cls.add_param_group
    if _compiler_loaded() or getattr(add, "__code__", None) is not _COMPILER_GUARD:
        return optim_cls(params, **options)
    optimizer = optim_cls.__new__(optim_cls)
    optimizer.add_param_group = types.MethodType(add.__wrapped__, optimizer)  # for __init__
    try:
        optim_cls.__init__(optimizer, params, **options)
    finally:
        del optimizer.add_param_group
    return optimizer


def _unguarded_step(optimizer: torch.optim.Optimizer):
    """``optimizer.step`` as a function of no arguments that runs torch's own step body
    without the compiler guard, keeping what the wrappers do besides: the profiler label and
    the grad mode the guard sets. Step hooks, or wrappers other than the ones expected
    (another torch version), get ``optimizer.step`` itself."""
    step = type(optimizer).step
    needed = ("_optimizer_step_code", "_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")
    if getattr(step, "__code__", None) is not _PROFILE_HOOK or not all(
        hasattr(optimizer, name) for name in needed
    ):
        return optimizer.step
    body, grad_mode = step.__wrapped__, None  # None: a plain step (Pyro's ClippedAdam)
    if getattr(body, "__code__", None) is _GRAD_GUARD:
        body, grad_mode = body.__wrapped__, bool(optimizer.defaults.get("differentiable"))
    if hasattr(body, "__wrapped__"):
        return optimizer.step  # a wrapper this function does not know
    label = f"Optimizer.step#{type(optimizer).__name__}.step"

    def unguarded() -> None:
        if (
            optimizer._optimizer_step_pre_hooks
            or optimizer._optimizer_step_post_hooks
            or getattr(torch_optimizer, "_global_optimizer_pre_hooks", True)
            or getattr(torch_optimizer, "_global_optimizer_post_hooks", True)
        ):
            optimizer.step()  # torch's wrapper calls the hooks
            return
        with torch.autograd.profiler.record_function(label):
            if grad_mode is None:
                body(optimizer)
            else:
                with torch.set_grad_enabled(grad_mode):
                    body(optimizer)
            optimizer._optimizer_step_code()

    return unguarded
