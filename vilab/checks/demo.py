"""Showing a deliberate mistake in a notebook without stopping the notebook.

Example (in an exercise notebook)::

    from vilab.checks import explain
    explain(Trainer, model, guide_without_gamma, args=(x,))   # prints the V1 message
    explain(trainer.run, 200, progress=False)                 # prints a V11 warning, if any
"""

from __future__ import annotations

import warnings

from .messages import Diagnostic, VilabWarning


def explain(fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` and print what vilab (or Pyro) says about it.

    Returns the exception ``fn`` raised (vilab's carry a ``diagnostics`` list), or else the
    list of :class:`Diagnostic` behind the :class:`VilabWarning` s it issued (empty if
    none). Nothing is raised: a notebook cell demonstrating a mistake runs to its end.
    Other warnings are passed on unchanged.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", VilabWarning)
        try:
            fn(*args, **kwargs)
            error = None
        except Exception as exc:  # noqa: BLE001 - showing any failure is the point
            error = exc
    diagnostics: list[Diagnostic] = []
    for record in caught:
        if isinstance(record.message, VilabWarning):
            diagnostics.append(record.message.diagnostic)
        else:
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
    for diagnostic in diagnostics:
        print(f"VilabWarning: {diagnostic}\n")
    if error is not None:
        print(f"{type(error).__name__}: {error}")
        for note in getattr(error, "__notes__", ()):
            print(note)
        return error
    if not diagnostics:
        print("vilab found no problem.")
    return diagnostics
