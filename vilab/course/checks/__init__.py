"""Answer checks that teach: one call after each exercise cell says what is right and
what is wrong, in plain words, and "not done yet" for a blank, without crashing.

One module per notebook (``primer``, ...); each function takes the student's answer and
returns a :class:`Feedback`. How to add a check: write a function in the notebook's module
that returns :func:`verdict` (or :func:`check_model` for a model), test it with a correct
answer, typical wrong answers (pin the messages) and a blank in ``tests/course/``.
"""

from .feedback import CORRECT, NOT_DONE, WRONG, Feedback, answer_or_reference, is_blank, verdict
from .models import check_model

__all__ = [
    "CORRECT",
    "NOT_DONE",
    "WRONG",
    "Feedback",
    "answer_or_reference",
    "check_model",
    "is_blank",
    "verdict",
]
