"""Argument checks with the house wording, so every refusal reads the same way:
what was expected, what came, and how to fix it.

    >>> whole_number("num_steps", 2000)
    2000
    >>> whole_number("num_steps", 2.5, fix="trainer.run(2000).")
    Traceback (most recent call last):
    ...
    ValueError: num_steps must be a whole number >= 1, got 2.5. Fix: trainer.run(2000).

``bool`` is refused where a number is expected: ``True`` is an ``int`` to Python, but a
student who writes ``num_particles=True`` meant something else. Each check raises a
``ValueError`` unless ``error=`` names another type (``TypeError``, or a module's own error
such as :class:`~vilab.errors.InfError`); a check no helper covers words its refusal with
:func:`refuse`.
"""

from __future__ import annotations

import math
import operator


def refuse(name: str, expected: str, value, fix: str | None = None, error=ValueError):
    """Raise ``error("<name> must be <expected>, got <value>. Fix: <fix>")``."""
    message = f"{name} must be {expected}, got {value!r}."
    raise error(f"{message} Fix: {fix}" if fix else message)


def whole_number(
    name: str, value, minimum: int = 1, fix: str | None = None, *, error=ValueError
) -> int:
    """``value`` as an int when it is a whole number (numpy and 0-d tensors included)
    >= ``minimum``; else ``error`` (a ``ValueError``) naming ``name``."""
    count = None
    if not isinstance(value, bool):
        try:
            count = operator.index(value)
        except TypeError:
            count = None
    if count is None or count < minimum:
        refuse(name, f"a whole number >= {minimum}", value, fix, error)
    return count


def real_number(
    name: str,
    value,
    *,
    positive: bool = False,
    finite: bool = True,
    fix: str | None = None,
    error=ValueError,
) -> float:
    """``value`` as a float (not bool, not a string, not NaN; finite and > 0 when asked)."""
    number = None
    if not isinstance(value, (bool, str, bytes)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    ok = number is not None and not math.isnan(number)
    ok = ok and (not finite or math.isfinite(number)) and (not positive or number > 0)
    if not ok:
        kind = "positive" if positive else "finite" if finite else "real"
        refuse(name, f"a {kind} number", value, fix, error)
    return number


def one_of(name: str, value, choices, fix: str | None = None, *, error=ValueError):
    """``value`` when it is one of ``choices``; else an error listing them."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        refuse(name, f"one of {listed}", value, fix, error)
    return value
