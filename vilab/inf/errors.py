"""The errors of :mod:`vilab.inf`, each saying what was wrong and how to fix it.

A Q-model that does not fit its P-model raises vilab's own
:class:`~vilab.errors.ModelGuideMismatch`; the rest are :class:`InfError` (a ``ValueError``).
"""

from __future__ import annotations

import inspect
import os

from ..errors import InfError, ModelGuideMismatch

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_line() -> str:
    """``file:line: code`` of the first caller outside vilab.inf (the student's own line)."""
    for frame in inspect.stack(context=1)[1:]:
        if os.path.dirname(os.path.abspath(frame.filename)) == _PACKAGE_DIR:
            continue
        code = frame.code_context[0].strip() if frame.code_context else ""
        return f"{os.path.basename(frame.filename)}, line {frame.lineno}: {code}"
    return "(unknown line)"


def names(items) -> str:
    """A sorted, quoted list of names for a message."""
    return "[" + ", ".join(repr(n) for n in sorted(items)) + "]"


__all__ = ["InfError", "ModelGuideMismatch", "names", "user_line"]
