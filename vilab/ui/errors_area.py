"""The panel's error area, and the guard that sends every widget callback's errors to it.

When a widget callback raises, JupyterLab shows nothing in the notebook (the traceback goes
to the log console, if anywhere): a student clicks, and nothing happens. So every handler
the panel registers is wrapped by :meth:`ErrorArea.guard`, and errors of a training run
(e.g. :class:`~vilab.TrainingDiverged` with its list of likely causes) are shown here too,
in plain words. The last error is kept in ``error_area.error`` and its text in
``error_area.message``, for tests and for code in later cells.
"""

from __future__ import annotations

import functools
import html
import traceback

import ipywidgets as widgets

from ..errors import ModelGuideMismatch, TrainingDiverged, VilabError

_BOX_STYLE = (
    "border-left: 4px solid #c62828; background: #fdecea; color: #3b0a0a; "
    "padding: 6px 10px; white-space: pre-wrap; line-height: 1.35;"
)


def error_title(error: BaseException, context: str | None = None) -> str:
    """A short heading for ``error``, in the words a student would use."""
    if isinstance(error, TrainingDiverged):
        return "Training diverged"
    if isinstance(error, ModelGuideMismatch):
        return "The guide does not fit the model"
    if isinstance(error, Warning):
        return "vilab noticed a problem"
    if context:
        return f"Error in {context}"
    if isinstance(error, (ValueError, TypeError)):
        return "Invalid value"
    return f"Training stopped with {type(error).__name__}"


class ErrorArea(widgets.HTML):
    """A red box under the panel's controls, hidden while there is nothing to show."""

    def __init__(self, **kwargs):
        super().__init__(value="", **kwargs)
        self.error: BaseException | None = None
        self.message = ""
        self.layout.display = "none"

    def show(self, error: BaseException, context: str | None = None) -> None:
        """Display ``error``; vilab's own errors already teach, others get a traceback too."""
        title = error_title(error, context)
        text = "\n".join([str(error) or type(error).__name__, *getattr(error, "__notes__", [])])
        self.error, self.message = error, f"{title}: {text}"
        details = ""
        if not isinstance(error, VilabError):
            trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            details = (
                "<details><summary>Python traceback</summary>"
                f"<pre style='font-size: 85%'>{html.escape(trace)}</pre></details>"
            )
        self.value = (
            f'<div style="{_BOX_STYLE}"><b>{html.escape(title)}</b>\n'
            f"{html.escape(text)}{details}</div>"
        )
        self.layout.display = None

    def clear(self) -> None:
        self.error, self.message, self.value = None, "", ""
        self.layout.display = "none"

    def guard(self, handler, context: str):
        """``handler`` wrapped so that its exceptions are shown here instead of being lost."""

        @functools.wraps(handler)
        def guarded(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception as exc:
                self.show(exc, context)
                return None

        return guarded
