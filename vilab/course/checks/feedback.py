"""What an answer check says: :class:`Feedback`, and how a blank answer is recognised.

A check never raises on the student's mistakes: it returns a Feedback that prints as
plain sentences (``Correct: ...``, ``Not yet right: ...`` with one line per problem, or
``Not done yet: ...``). A blank is the value ``...``, or a function whose body still
holds the student edition's stub (``raise NotImplementedError()`` or a ``...``).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field

CORRECT, WRONG, NOT_DONE = "correct", "wrong", "not done yet"


@dataclass
class Feedback:
    """The verdict on one answer. ``status`` is "correct", "wrong" or "not done yet";
    ``problems`` says what is wrong, one sentence each; ``note`` adds what is right."""

    task: str
    status: str
    problems: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def done(self) -> bool:
        """False while the answer is still the blank of the student edition."""
        return self.status != NOT_DONE

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        if self.status == CORRECT:
            return f"Correct: {self.task}. {self.note}".rstrip()
        if self.status == NOT_DONE:
            return f"Not done yet: {self.task}. {self.note}".rstrip()
        lines = [f"Not yet right: {self.task}."]
        lines += [f"  - {problem}" for problem in self.problems]
        if self.note:
            lines.append(f"  What is right: {self.note}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the sentences
        printer.text(str(self))


def not_done(task: str, what: str = "answer") -> Feedback:
    return Feedback(
        task,
        NOT_DONE,
        note=f"Fill in the {what} (replace the `...` or the `raise NotImplementedError()`), "
        "run its cell, then run this check again.",
    )


def verdict(task: str, problems: list[str], note: str = "") -> Feedback:
    """Correct when there is no problem, else the list of problems."""
    return Feedback(task, WRONG if problems else CORRECT, list(problems), note)


def is_blank(answer) -> bool:
    """Is ``answer`` still the student edition's blank (``...``, or a stub body)?"""
    if answer is Ellipsis:
        return True
    if not callable(answer):
        return False
    if isinstance(answer, type):  # a class: its methods (IPython keeps no source for classes)
        return any(is_blank(f) for f in vars(answer).values() if inspect.isfunction(f))
    try:
        source = textwrap.dedent(inspect.getsource(answer))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return False  # no source to read: the check finds out by running it
    return _has_stub(tree)


def _has_stub(tree: ast.AST) -> bool:
    in_slices = {
        id(node)
        for sub in ast.walk(tree)
        if isinstance(sub, ast.Subscript)
        for node in ast.walk(sub.slice)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value is Ellipsis and id(node) not in in_slices:
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return True
    return False


def answer_or_reference(answer, reference, name: str | None = None):
    """``answer`` once it is written; until then ``reference`` (vilab's solution), saying
    so, so that the cells after an unfinished exercise still run."""
    if not is_blank(answer):
        return answer
    label = name or getattr(answer, "__name__", None) or getattr(reference, "__name__", "answer")
    reference_name = getattr(reference, "__name__", "reference")
    print(
        f"Your {label} is not written yet: the cells below use vilab's {reference_name} for "
        f"now. Fill it in and run the cells again to train your own."
    )
    return reference
