"""The KL explorer in JupyterLab in Chromium: the reverse fit redraws while it trains, a
slider refits, the switch gives the moment-matched Gaussian. Figures go to
browser-screenshots/browser-report.json ("kl_explorer")."""

from __future__ import annotations

import re
import time

import pytest
from jupyterlab_page import cell_output_text, count_changes, new_notebook, open_notebook, run_cell

from conftest import SCREENSHOTS

CELLS = [
    # 0: a long fit, so it is still running when we look
    "from vilab.ui.kl_explorer import KLExplorer\n"
    "explorer = KLExplorer(separation=8.0, weight=0.3, num_steps=30000)\n"
    "explorer",
    # 1: what the kernel sees
    "await explorer.wait()\n"
    "print('steps', explorer.trainer.num_steps_done if explorer.trainer else None,\n"
    "      'q', [round(v, 2) for v in explorer.q], 'redraws', explorer.redraws)",
]


@pytest.fixture
def kl_notebook(lab):
    yield new_notebook(lab, "kl_explorer_check.ipynb", CELLS)
    lab.shutdown_kernels()


def status(page) -> str:
    return page.locator(".vilab-kl-status").inner_text()


@pytest.mark.browser
def test_kl_explorer_in_jupyterlab(lab, page, kl_notebook, browser_report):
    figures = browser_report.setdefault("kl_explorer", {})
    open_notebook(page, lab, kl_notebook)
    run_cell(page, 0)
    picture = page.locator(".vilab-kl-picture")
    picture.wait_for(timeout=60_000)

    # the reverse fit trains in the background and the picture follows it
    changes = count_changes(page, ".vilab-kl-picture", 3.0, attribute="src")
    figures["redraws_per_second_while_fitting"] = round(changes / 3.0, 1)
    assert changes >= 3, figures
    step_now = int(re.search(r"step (\d+)/30000", status(page)).group(1))
    assert 0 < step_now < 30000, status(page)
    SCREENSHOTS.mkdir(exist_ok=True)  # for the record: what a student sees mid-fit
    page.locator(".jp-OutputArea-output").first.screenshot(
        path=str(SCREENSHOTS / "kl_explorer_fitting.png")
    )

    # a slider move stops that fit and starts a new one on the new target
    handle = page.locator(".vilab-kl-weight .noUi-handle")
    handle.click()
    start = time.monotonic()
    page.keyboard.press("ArrowRight")  # weight 0.30 -> 0.35
    page.wait_for_function(  # the target's mean moves from 1.6 to 1.2
        "() => /p has mean 1\\.200/.test(document.querySelector('.vilab-kl-status').textContent)",
        timeout=20_000,
        polling=50,
    )
    figures["slider_to_new_picture_seconds"] = round(time.monotonic() - start, 3)

    # the switch: forward KL is the mixture's moments at once
    page.locator(".vilab-kl-direction button", has_text="forward").click()
    page.wait_for_function(
        "() => /q = N\\(1\\.200, 3\\.945\\)/.test("
        "document.querySelector('.vilab-kl-status').textContent)",
        timeout=20_000,
    )
    run_cell(page, 1)
    page.wait_for_function(
        "() => /steps None q \\[1\\.2, 3\\.94\\]/.test(document.querySelectorAll('.jp-Cell')[1]"
        ".querySelector('.jp-OutputArea').textContent)",
        timeout=30_000,
    )
    figures["kernel_view"] = cell_output_text(page, 1).strip()
    assert not page.console_errors, page.console_errors
