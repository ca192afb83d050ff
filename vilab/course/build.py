"""The student edition of a notebook: the solutions cut out, a hint and a stub left in.

Each notebook in ``notebooks/`` is written once, as the *solution edition*. Solutions are
marked with nbgrader's conventions, so teachers who know nbgrader read them at once::

    def guide(sensor):
        ### BEGIN SOLUTION
        # HINT: a learnable loc, a positive scale, then pyro.sample("temp", ...)
        a = pyro.param("a", torch.tensor(15.0))
        ...
        ### END SOLUTION

The student edition replaces everything between the two markers by nbgrader's stub,
indented like the ``### BEGIN SOLUTION`` line, after the hint lines of the region::

    def guide(sensor):
        # HINT: a learnable loc, a positive scale, then pyro.sample("temp", ...)
        # YOUR CODE HERE
        raise NotImplementedError()

Two additions to nbgrader's rules, both plain comments in the solution edition:

* ``# HINT: ...`` lines inside a region are kept, word for word, in the student edition;
* ``# BLANK: <code>`` lines inside a region replace the stub, with the prefix removed. Use
  them where ``raise`` would stop the notebook (a top-level assignment): ``# BLANK:
  samples = ...`` gives the student ``samples = ...  # YOUR CODE HERE``, and the check
  after it reports "not done yet" instead of crashing.

A markdown cell with a region gets nbgrader's text stub ("YOUR ANSWER HERE"). Outputs are
cleared (nbconvert's ``ClearOutputPreprocessor``) and the notebook's metadata records
``{"vilab": {"edition": "student", "source": ...}}``.

Why not nbgrader's own ``ClearSolutions``: nbgrader 0.9 installs SQLAlchemy, alembic,
rapidfuzz and the classic notebook server, needs Python >= 3.11 (vilab supports 3.10), and
importing its preprocessors imports its exchange and database layers; its preprocessor also
insists on nbgrader cell metadata and has no ``...`` blank. The rewriting itself is a few
lines on nbconvert's ``Preprocessor`` base class (nbconvert comes with JupyterLab), which
is what is used here.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SolutionMarkerError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT_PREFIX, BLANK_PREFIX = "# HINT:", "# BLANK:"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"
DEFAULT_OUT = "student"


def strip_solutions(source: str, cell_type: str = "code", where: str = "cell") -> tuple[str, int]:
    """``source`` with every solution region replaced by its hints and a stub, and the
    number of regions replaced."""
    out: list[str] = []
    region: list[str] | None = None
    indent, count = "", 0
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN in line:
            if region is not None:
                raise SolutionMarkerError(
                    f"Expected {END!r} before a new {BEGIN!r}, got a second {BEGIN!r} at "
                    f"line {number} of {where}. Fix: close the first region; regions "
                    "cannot be nested."
                )
            region, indent = [], re.match(r"\s*", line).group(0)
        elif END in line:
            if region is None:
                raise SolutionMarkerError(
                    f"Expected {BEGIN!r} before {END!r}, got {END!r} alone at line {number} "
                    f"of {where}. Fix: add the {BEGIN!r} line above the solution."
                )
            out.extend(_stub(region, indent, cell_type))
            region, count = None, count + 1
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise SolutionMarkerError(
            f"Expected {END!r} to close the region opened in {where}, got the end of the "
            f"cell. Fix: add a line {END!r} after the solution."
        )
    return "\n".join(out), count


def _stub(region: list[str], indent: str, cell_type: str) -> list[str]:
    """What the student sees in place of one solution region."""
    if cell_type != "code":
        return [TEXT_STUB]
    stripped = [line.strip() for line in region]
    hints = [indent + line for line in stripped if line.startswith(HINT_PREFIX)]
    blanks = [
        line[len(BLANK_PREFIX) :].strip() for line in stripped if line.startswith(BLANK_PREFIX)
    ]
    if blanks:
        return hints + [f"{indent}{blank}  {CODE_STUB[0]}" for blank in blanks]
    return hints + [indent + line for line in CODE_STUB]


def _preprocessor_class():
    """nbconvert's Preprocessor subclass, made on first use (nbconvert is imported lazily)."""
    from nbconvert.preprocessors import Preprocessor

    class StudentEdition(Preprocessor):
        """Replace every ``### BEGIN/END SOLUTION`` region by hints and a stub."""

        def preprocess(self, nb, resources):
            resources.setdefault("regions", 0)
            return super().preprocess(nb, resources)

        def preprocess_cell(self, cell, resources, index):
            where = f"cell {index} of {resources.get('source', 'the notebook')}"
            cell.source, count = strip_solutions(cell.source, cell.cell_type, where)
            resources["regions"] += count
            return cell, resources

    return StudentEdition


def student_edition(notebook, source: str = "the notebook"):
    """The student edition of an nbformat notebook (a new object) and its number of blanks."""
    import copy

    from nbconvert.preprocessors import ClearOutputPreprocessor

    nb = copy.deepcopy(notebook)
    resources = {"source": source}
    nb, resources = _preprocessor_class()().preprocess(nb, resources)
    nb, resources = ClearOutputPreprocessor().preprocess(nb, resources)
    nb.metadata["vilab"] = {"edition": "student", "source": source}
    return nb, resources["regions"]


def build(notebooks, out: str | Path = DEFAULT_OUT) -> dict[Path, int]:
    """Write the student edition of each notebook path into ``out``; returns
    ``{written path: number of blanks}``. Notebooks without a region are copied with their
    outputs cleared, so the student folder holds the whole course."""
    import nbformat

    out = Path(out)
    paths = [Path(p) for p in notebooks]
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise FileNotFoundError(
                f"Expected a notebook file (.ipynb), got {str(path)!r}. Fix: give paths such "
                "as notebooks/01_temperature.ipynb, or none to build every notebook."
            )
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        student, count = student_edition(notebook, source=f"{path.parent.name}/{path.name}")
        target = out / path.name
        nbformat.write(student, target)
        written[target] = count
    return written


def course_notebooks(folder: str | Path = "notebooks") -> list[Path]:
    """The course's notebooks in teaching order (their file names start with the number)."""
    return sorted(Path(folder).glob("[0-9]*.ipynb"))
