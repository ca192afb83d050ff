"""What a check reports: a :class:`Diagnostic`, the catalogue of codes, and how diagnostics
reach the student (a :class:`VilabWarning` pointing at their line, or one
:class:`~vilab.errors.ModelGuideMismatch` listing every error).

Every message names the site, shows what the model has and what the guide has, and says
the fix, in the words of the course.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

from ..errors import ModelGuideMismatch, VilabWarning

# code -> (number in the course catalogue, severity, one-line title)
CATALOGUE = {
    "missing-guide-site": (1, "error", "a latent site of the model is missing from the guide"),
    "unknown-guide-site": (2, "error", "the guide samples a site the model does not have"),
    "guide-samples-observed": (3, "error", "the guide samples an observed (data) site"),
    "signature-mismatch": (4, "error", "model and guide take different arguments"),
    "shape-mismatch": (5, "error", "model and guide disagree on the shape of a site"),
    "support-mismatch": (6, "error", "the guide proposes values the prior does not allow"),
    "support-risk": (6, "warning", "the guide could leave the prior's support (unlikely now)"),
    "support-narrower": (6, "warning", "the guide cannot reach part of the prior's support"),
    "unconstrained-scale": (7, "warning", "a scale parameter has no positivity constraint"),
    "missing-plate": (8, "warning", "data dimension outside any plate"),
    "plate-size-mismatch": (8, "error", "plate size disagrees with the data"),
    "data-broadcast": (8, "error", "data broadcast against a bigger batch (e.g. shape (N, 1))"),
    "minibatch-unscaled": (9, "warning", "minibatch likelihood not scaled up to the data set"),
    "subsample-not-indexed": (9, "error", "subsampling plate given the full data"),
    "stale-param-shape": (10, "error", "a stale parameter of another shape is in the store"),
    "stale-param-value": (10, "warning", "parameters continue from an earlier run"),
    "lr-too-large": (11, "warning", "the loss goes up: learning rate too large"),
    "data-nan": (12, "error", "the data contain NaN or inf"),
    "data-dtype": (12, "warning", "data of an unexpected dtype"),
    "data-empty": (12, "error", "the data are empty"),
    "data-type": (12, "error", "observed data that are not a tensor (a list, a numpy array)"),
    "empty-model": (13, "error", "the model samples nothing (its body is still empty)"),
    "nothing-to-train": (13, "error", "no parameter to learn in the guide or the model"),
}

# errors about the data alone, raised as a plain ValueError (not a model/guide mismatch)
DATA_ONLY = ("data-nan", "data-dtype", "data-empty", "data-type")


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a model/guide pair.

    ``code`` is a stable name from :data:`CATALOGUE`, ``number`` its number in the course
    catalogue, ``site`` the sample site (or parameter/argument) concerned. ``model`` and
    ``guide`` say what each side has (printed under ``labels``: "model"/"data" for a data
    problem, "init"/"store" for a stale parameter); ``fix`` says what to change.
    """

    code: str
    site: str | None
    message: str
    model: str = ""
    guide: str = ""
    fix: str = ""
    labels: tuple[str, str] = ("model", "guide")  # what the two sides are called

    def __post_init__(self):
        if self.code not in CATALOGUE:
            raise ValueError(f"Unknown diagnostic code {self.code!r}; known: {sorted(CATALOGUE)}.")

    @property
    def number(self) -> int:
        return CATALOGUE[self.code][0]

    @property
    def severity(self) -> str:
        return CATALOGUE[self.code][1]

    def __str__(self) -> str:
        where = f" at {self.site!r}" if self.site is not None else ""
        lines = [f"[V{self.number} {self.code}] {self.severity}{where}: {self.message}"]
        sides = ((self.labels[0], self.model), (self.labels[1], self.guide), ("fix", self.fix))
        for label, text in sides:
            if text:
                lines.append(f"  {label + ':':<7}{text}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Diagnostic V{self.number} {self.code} {self.severity} at {self.site!r}>"


class Diagnostics(list):
    """The list :func:`vilab.checks.check` returns; it prints as the messages themselves."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == "warning"]

    def __str__(self) -> str:
        if not self:
            return "vilab found no problem with this model/guide pair."
        return "\n\n".join(str(d) for d in self)

    __repr__ = __str__


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def in_vilab(frame) -> bool:
    """Is this stack frame running vilab's own code?"""
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep)


def user_stacklevel() -> int:
    """The ``stacklevel`` of the first caller outside vilab, for ``warnings.warn`` called
    by our caller: the warning then points at the student's line, not at ours."""
    frame, level = sys._getframe(2), 2
    while frame is not None and in_vilab(frame):
        frame, level = frame.f_back, level + 1
    return level


def warn(diagnostic: Diagnostic) -> None:
    """Issue ``diagnostic`` as a :class:`VilabWarning` attributed to the student's code."""
    warnings.warn(VilabWarning(diagnostic), stacklevel=user_stacklevel())


def report(diagnostics: list[Diagnostic]) -> None:
    """Warn about each soft diagnostic, then raise one exception listing the errors:
    :class:`ModelGuideMismatch`, or ValueError when only the data are at fault."""
    for diagnostic in diagnostics:
        if diagnostic.severity == "warning":
            warn(diagnostic)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        count = f"{len(errors)} problems" if len(errors) > 1 else "a problem"
        data_only = all(d.code in DATA_ONLY for d in errors)
        error = (ValueError if data_only else ModelGuideMismatch)(
            f"vilab found {count} before training:\n\n" + "\n\n".join(map(str, errors))
        )
        error.diagnostics = errors
        raise error


def closest_name(name: str, choices) -> str | None:
    """The entry of ``choices`` nearest to ``name`` (a likely typo), or None."""
    import difflib

    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def closest(name: str, choices) -> str:
    """' Did you mean "x"?' for the nearest of ``choices``, or nothing."""
    match = closest_name(name, choices)
    return f" Did you mean {match!r}?" if match else ""


def describe_site(site) -> str:
    """'Gamma, batch shape (), event shape ()' for a traced sample site."""
    fn = site["fn"]
    return (
        f"{site['name']} ~ {type(fn).__name__}, batch shape {tuple(fn.batch_shape)}, "
        f"event shape {tuple(fn.event_shape)}"
    )
