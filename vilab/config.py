"""Run-wide switches shared by the notebooks, the CLI and the tests.

One switch controls how much work every notebook and ``vilab run`` does:

* ``VILAB_SMOKE=1`` (the test suite sets it): *smoke mode*, a few steps on small data, so
  the whole notebook suite runs in CI in minutes;
* unset or ``VILAB_SMOKE=0``: *full mode*, the step counts used in class.

Usage in a notebook::

    from vilab import smoke_mode
    num_steps = 50 if smoke_mode() else 2000
"""

from __future__ import annotations

import os

SMOKE_ENV_VAR = "VILAB_SMOKE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def smoke_mode() -> bool:
    """True when ``VILAB_SMOKE`` asks for the short CI-sized runs."""
    value = os.environ.get(SMOKE_ENV_VAR, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{SMOKE_ENV_VAR}={value!r} is not understood: use {SMOKE_ENV_VAR}=1 for smoke mode "
        f"(few steps, for CI) or {SMOKE_ENV_VAR}=0 for full mode (class)."
    )


def resolve_smoke(smoke: bool | None = None) -> bool:
    """An exercise's ``smoke=`` argument: True/False as given, None for the environment's
    choice (:func:`smoke_mode`). Every exercise and loader decides its size through this."""
    return smoke_mode() if smoke is None else bool(smoke)


def pick_steps(full: int, smoke: int, smoke_override: bool | None = None) -> int:
    """Step count for the current mode; ``smoke_override`` beats the environment."""
    return smoke if resolve_smoke(smoke_override) else full


THREADS_ENV_VAR = "VILAB_NUM_THREADS"


def torch_threads() -> int:
    """The number of torch threads vilab uses: ``VILAB_NUM_THREADS``, else 1.

    Why 1 (``benchmarks/bench_threads.py`` measures it side by side on the course's models):
    on a 2-core laptop, two threads never made a course model faster, and when anything else
    keeps one core busy (a browser, a second kernel) two threads wait for each other at every
    matrix product: a VAE step took 2.5-9x longer with 2 threads than with 1, and 500 VAE steps
    took 149 s instead of 4.7 s in a class notebook. The course's models are small, so one
    thread is also the fast choice on an idle machine (temperature model 0.70 vs 0.69 ms a
    step). Set ``VILAB_NUM_THREADS=4`` (or call ``torch.set_num_threads``) for big models on a
    machine of your own.
    """
    value = os.environ.get(THREADS_ENV_VAR, "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{THREADS_ENV_VAR}={value!r} is not understood: expected a whole number >= 1, "
            f"e.g. {THREADS_ENV_VAR}=1 (the default) or {THREADS_ENV_VAR}=4."
        )
    return int(value)


def apply_thread_policy() -> int:
    """Set torch's intra-op threads to :func:`torch_threads` (done once, on ``import vilab``:
    the one place the choice is made, instead of a line in every notebook)."""
    import torch

    threads = torch_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
