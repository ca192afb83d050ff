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


def pick_steps(full: int, smoke: int, smoke_override: bool | None = None) -> int:
    """Step count for the current mode; ``smoke_override`` beats the environment."""
    use_smoke = smoke_mode() if smoke_override is None else smoke_override
    return smoke if use_smoke else full
