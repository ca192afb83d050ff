"""Every notebook, Run All, in JupyterLab in Chromium: what a student does on day one.

Under nbval the panel trains synchronously, so later cells always see a finished run; in a
browser it trains in the background (the cell comes from a person's frontend). These tests
take the student's path: open the notebook, Run > Run All Cells, wait, save, and read the
saved file. Mode: smoke mode (``VILAB_SMOKE=1``, the sizes CI can afford), which trains in
the background exactly as full mode does (see vilab/ui/runner.py).

Each notebook must (1) run to its last cell, (2) show no error output, (3) print in its
checked cells (``# NBVAL_CHECK_OUTPUT``) what the stored notebook says, which needs the
trained result: a cell that ran before training ended would print the wrong step count or
posterior, and (4) render its widgets as widgets.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from jupyterlab_page import notebook, open_notebook, run_all, save, wait_until_run_all_done

from vilab import smoke_mode

REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(p.name for p in REPO_NOTEBOOKS.glob("*.ipynb"))
CHECK = "# NBVAL_CHECK_OUTPUT"


def stream_text(cell: dict) -> str:
    """What a checked cell printed (stdout and plain-text results), as nbval compares it."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append("".join(output["text"]))
        elif output.get("output_type") == "execute_result":
            parts.append("".join(output["data"].get("text/plain", "")))
    return "".join(parts)


def errors_in(cell: dict) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            found.append(f"{output['ename']}: {output['evalue']}")
        elif output.get("name") == "stderr" and "Traceback" in "".join(output["text"]):
            found.append("".join(output["text"])[-500:])
    return found


@pytest.mark.browser
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_run_all_in_jupyterlab(name, lab, page, browser_report):
    stored = json.loads((REPO_NOTEBOOKS / name).read_text())
    stored_code = [c for c in stored["cells"] if c["cell_type"] == "code"]
    open_notebook(page, lab, name)
    start = time.monotonic()
    run_all(page)
    seconds = wait_until_run_all_done(page, timeout=600 if smoke_mode() else 3600)
    save(page)
    browser_report.setdefault("run_all_seconds", {})[name] = round(seconds, 1)
    ran = json.loads((Path(lab.root) / name).read_text())
    code = [c for c in ran["cells"] if c["cell_type"] == "code"]
    problems = [f"cell {i}: {e}" for i, c in enumerate(code) for e in errors_in(c)]
    assert not problems, "\n".join(problems)
    not_run = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not not_run, f"Run All stopped before code cells {not_run}"
    printed = browser_report.setdefault("checked_cells", {}).setdefault(name, [])
    for i, (before, after) in enumerate(zip(stored_code, code)):
        if "".join(after["source"]).lstrip().startswith(CHECK):
            printed.append(stream_text(after))
            # as nbval: compared with the stored output where there is one (checked cells
            # print mode-independent values, so full mode compares too)
            if before.get("outputs"):
                assert stream_text(after) == stream_text(before), f"checked code cell {i} differs"
    shown = notebook(page)
    if any("TrainingPanel(" in "".join(c["source"]) for c in code):
        assert shown.locator(".widget-vbox").count() > 0, "the training panel did not render"
    assert shown.get_by_text("Loading widget").count() == 0
    assert shown.get_by_text("Error displaying widget").count() == 0
    assert not page.console_errors, page.console_errors
    lab.shutdown_kernels()
    browser_report.setdefault("wall_seconds", {})[name] = round(time.monotonic() - start, 1)
