"""The student edition: solution regions become hints and stubs, errors name the cell, the
CLI writes every course notebook, and the student editions run top to bottom in smoke mode
with every exercise check saying "Not done yet"."""

from __future__ import annotations

import os
import re
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from vilab.cli import main
from vilab.course.build import (
    BEGIN,
    SolutionMarkerError,
    build,
    course_notebooks,
    strip_solutions,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTEBOOKS = course_notebooks(os.path.join(ROOT, "notebooks"))
SOLUTION = """def guide(sensor):
    a = pyro.param("a", torch.tensor(15.0))
    ### BEGIN SOLUTION
    # HINT: a positive scale, then pyro.sample("temp", ...)
    b = pyro.param("b", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("temp", dist.Normal(a, b))
    ### END SOLUTION
print("after")"""


def test_region_becomes_hint_and_nbgrader_stub_indented_like_the_marker():
    source, count = strip_solutions(SOLUTION)
    assert count == 1
    assert source == (
        "def guide(sensor):\n"
        '    a = pyro.param("a", torch.tensor(15.0))\n'
        '    # HINT: a positive scale, then pyro.sample("temp", ...)\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        'print("after")'
    )


def test_blank_lines_replace_the_stub_and_markdown_gets_the_text_stub():
    source, count = strip_solutions(
        "### BEGIN SOLUTION\n# HINT: one call\n# BLANK: samples = ...\nsamples = d.sample((9,))\n"
        "### END SOLUTION\nprint(samples)"
    )
    assert (source, count) == (
        "# HINT: one call\nsamples = ...  # YOUR CODE HERE\nprint(samples)",
        1,
    )
    text, _ = strip_solutions("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "markdown")
    assert text == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION\n### END SOLUTION",
            "Expected '### END SOLUTION' before a new '### BEGIN SOLUTION', got a second "
            "'### BEGIN SOLUTION' at line 3 of cell 4 of a.ipynb. Fix: close the first region",
        ),
        (
            "x = 1\n### END SOLUTION",
            "Expected '### BEGIN SOLUTION' before '### END SOLUTION', got '### END SOLUTION' "
            "alone at line 2 of cell 4 of a.ipynb",
        ),
        (
            "### BEGIN SOLUTION\nx = 1",
            "Expected '### END SOLUTION' to close the region opened in cell 4 of a.ipynb, got "
            "the end of the cell. Fix: add a line '### END SOLUTION' after the solution.",
        ),
    ],
)
def test_broken_markers_raise_an_error_naming_the_cell(source, message):
    with pytest.raises(SolutionMarkerError, match=re.escape(message)):
        strip_solutions(source, where="cell 4 of a.ipynb")


def _small_notebook(path):
    cell = new_code_cell(SOLUTION, outputs=[nbformat.v4.new_output("stream", text="hi\n")])
    nb = new_notebook(cells=[new_markdown_cell("# Title"), cell])
    nbformat.write(nb, path)


def test_cli_builds_student_edition_with_outputs_cleared(tmp_path, capsys):
    source = tmp_path / "notebooks" / "01_x.ipynb"
    source.parent.mkdir()
    _small_notebook(source)
    out = tmp_path / "student"
    assert main(["course", "build", "--out", str(out), str(source)]) == 0
    printed = capsys.readouterr().out
    assert "01_x.ipynb  (1 blank)" in printed and "Wrote 1 student notebook(s)" in printed
    student = nbformat.read(out / "01_x.ipynb", as_version=4)
    assert student.metadata["vilab"] == {"edition": "student", "source": "notebooks/01_x.ipynb"}
    assert student.cells[1].outputs == []
    assert "raise NotImplementedError()" in student.cells[1].source
    assert "BEGIN SOLUTION" not in student.cells[1].source
    # the solution edition is untouched
    assert "BEGIN SOLUTION" in nbformat.read(source, as_version=4).cells[1].source


def test_cli_rejects_a_path_that_is_not_a_notebook(tmp_path, capsys):
    assert main(["course", "build", "--out", str(tmp_path), str(tmp_path / "missing.py")]) == 2
    assert "Expected a notebook file (.ipynb), got" in capsys.readouterr().err


def _regions(path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(cell.source.count(BEGIN) for cell in nb.cells)


def test_every_course_notebook_builds(tmp_path):
    written = build(NOTEBOOKS, tmp_path)
    assert len(written) == len(NOTEBOOKS) >= 8
    for path, count in written.items():
        assert count == _regions(os.path.join(ROOT, "notebooks", path.name))
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        student = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in student.cells if cell.cell_type == "code")


WITH_BLANKS = [path for path in NOTEBOOKS if _regions(path) > 0]
# Executing a student edition costs what its solution edition costs under nbval (8-19 s
# each in smoke mode on a loaded 2-core machine, ~120 s for all eleven). Every one runs by
# default (CI too); VILAB_TEST_STUDENT_EDITIONS=some runs only the Day-1 notebooks and 01-02
# (~35 s) for a quicker local run.
EXECUTED_BY_DEFAULT = {
    "00a_pyro_primer.ipynb",
    "00c_ice_cream_shop.ipynb",
    "01_temperature.ipynb",
    "02_simple_gaussian.ipynb",
}


def _exercise_check_cells(solution, student):
    """Indices of the check calls that follow an exercise cell (in the solution edition)."""
    found = []
    for index, cell in enumerate(solution.cells[1:], start=1):
        previous = solution.cells[index - 1]
        if BEGIN in previous.source and cell.cell_type == "code" and "check" in cell.source:
            found.append(index)
    return found


@pytest.mark.parametrize("path", WITH_BLANKS, ids=lambda p: p.name)
def test_student_edition_runs_and_every_check_says_not_done_yet(path, tmp_path):
    """Smoke mode: the student edition runs top to bottom, every exercise check says so."""
    from nbclient import NotebookClient

    if (
        path.name not in EXECUTED_BY_DEFAULT
        and os.environ.get("VILAB_TEST_STUDENT_EDITIONS") == "some"
    ):
        pytest.skip("VILAB_TEST_STUDENT_EDITIONS=some: only the Day-1 notebooks and 01-02")

    student_path = next(iter(build([path], tmp_path)))
    student = nbformat.read(student_path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        student, timeout=600, kernel_name="python3", resources={"metadata": {"path": ROOT}}
    ).execute()  # raises CellExecutionError if any cell fails
    elapsed = time.perf_counter() - start
    check_cells = _exercise_check_cells(nbformat.read(path, as_version=4), student)
    assert check_cells, f"{path.name} has blanks but no check call after them"
    for index in check_cells:
        text = "".join(
            output.get("text", "") + output.get("data", {}).get("text/plain", "")
            for output in student.cells[index].outputs
        )
        assert "not done yet" in text.lower(), (index, text)
    assert elapsed < 300
