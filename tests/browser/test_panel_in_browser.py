"""The training panel and the latent explorer in JupyterLab in Chromium, clicked as a
student clicks them, with the figures the issue asks for measured on the way (written to
browser-screenshots/browser-report.json): chart redraws per second, Pause latency, how
sharp the pictures are, how long the explorer takes to answer a slider."""

from __future__ import annotations

import re
import time

import pytest
from jupyterlab_page import cell_output_text, count_changes, new_notebook, open_notebook, run_cell

CELLS = [
    # 0: a long run of the temperature model, live plot on the right; plain Adam (no decay),
    # so q keeps moving and each redraw of the posterior figure is a new picture
    "from vilab.exercises import temperature\n"
    "from vilab.ui import TrainingPanel\n"
    "trainer = temperature.make_trainer(seed=0, num_particles=1, vectorize_particles=False,\n"
    "                                   optim='adam', optim_args={}, lr=0.02)\n"
    "panel = TrainingPanel(trainer, num_steps=200_000, live_plot=temperature.plots.live_plot,\n"
    "                      live_every=25)\n"
    "panel.train()",
    # 1: what the kernel sees
    "print('lr', trainer.lr, 'steps', trainer.num_steps_done, 'state', panel.state)",
    # 2: the latent explorer on a small random decoder, thousands of points on its map
    "import torch\n"
    "from vilab.ui import LatentExplorer\n"
    "weights = torch.randn(2, 784)\n"
    "explorer = LatentExplorer(lambda z: torch.sigmoid(z @ weights),\n"
    "                          scatter=(torch.randn(2000, 2), torch.randint(0, 3, (2000,))))\n"
    "explorer",
    # 3: the explorer's state
    "print('z', explorer.z.tolist())",
]


@pytest.fixture
def panel_notebook(lab):
    yield new_notebook(lab, "panel_check.ipynb", CELLS)
    lab.shutdown_kernels()


def status(page) -> str:
    return page.locator(".vilab-status").inner_text()


def step_of(text: str) -> int:
    return int(re.search(r"step (\d+)", text).group(1))


def wait_status(page, pattern: str, timeout: float = 30) -> float:
    """Seconds until the status line matches ``pattern``."""
    start = time.monotonic()
    page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('.vilab-status').textContent)",
        arg=pattern,
        timeout=timeout * 1000,
        polling=10,
    )
    return time.monotonic() - start


def click(page, label: str) -> None:
    page.locator(".vilab-panel button", has_text=re.compile(f"^\\s*{label}\\s*$")).click()


@pytest.mark.browser
def test_panel_in_jupyterlab(lab, page, panel_notebook, browser_report):
    figures = browser_report.setdefault("panel", {})
    open_notebook(page, lab, panel_notebook)
    run_cell(page, 0)
    page.locator(".vilab-chart svg").wait_for(timeout=60_000)
    wait_status(page, "^running")
    page.wait_for_timeout(500)

    # the chart is live: it changes between two looks, several times a second
    first = page.locator(".vilab-chart").inner_html()
    page.wait_for_timeout(500)
    assert page.locator(".vilab-chart").inner_html() != first
    chart_changes = count_changes(page, ".vilab-chart", 3.0)
    posterior_changes = count_changes(page, ".vilab-posterior", 4.0, attribute="src")
    figures["chart_redraws_per_second"] = round(chart_changes / 3.0, 1)
    figures["posterior_redraws_per_second"] = round(posterior_changes / 4.0, 1)
    assert chart_changes / 3.0 >= 3, figures
    if posterior_changes == 0:  # a busy machine: its pace is ~4% of the time, so wait longer
        before = page.locator(".vilab-posterior").get_attribute("src")
        page.wait_for_function(
            "b => document.querySelector('.vilab-posterior').src !== b", arg=before, timeout=20_000
        )

    # sharp and within a 1,000 px column; every control shows its value
    sharpness = page.evaluate(
        "() => { const img = document.querySelector('.vilab-posterior');"
        " return img.naturalWidth / (img.clientWidth * window.devicePixelRatio); }"
    )
    figures["posterior_image_pixels_per_screen_pixel"] = round(sharpness, 2)
    assert sharpness >= 1.0  # never stretched by the browser
    assert page.locator(".vilab-chart svg").count() == 1  # the chart is vector
    assert page.locator(".vilab-panel").bounding_box()["width"] <= 1000
    box = page.locator(".vilab-step-size input")
    assert box.bounding_box()["width"] >= 40 and box.input_value() == "10"

    # Pause: latency from the click to "paused" on screen, and the steps stop
    start = time.monotonic()
    click(page, "Pause")
    wait_status(page, "^paused", timeout=10)
    figures["pause_latency_seconds"] = round(time.monotonic() - start, 3)
    paused_at = step_of(status(page))
    page.wait_for_timeout(500)
    assert step_of(status(page)) == paused_at

    # Step N adds exactly N
    box.fill("7")
    box.press("Enter")
    page.locator(".vilab-panel button", has_text="Step 7").wait_for()
    click(page, "Step 7")
    wait_status(page, f"^paused · step {paused_at + 7}/|^idle · step {paused_at + 7}\\b")
    page.wait_for_timeout(300)
    assert step_of(status(page)) == paused_at + 7

    # the lr slider takes effect mid-run
    click(page, "Resume")
    wait_status(page, "^running")
    readout = page.locator(".vilab-lr .widget-readout")
    readout.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("5.00e-2")
    page.keyboard.press("Enter")
    run_cell(page, 1)
    page.wait_for_function(
        "() => /lr 0\\.05 /.test(document.querySelectorAll('.jp-Cell')[1]"
        ".querySelector('.jp-OutputArea').textContent)",
        timeout=20_000,
    )
    assert "state running" in cell_output_text(page, 1)

    # Reset returns to step 0 (it stops the run first)
    click(page, "Reset")
    wait_status(page, "^idle · step 0\\b", timeout=10)

    # the latent explorer answers its sliders
    run_cell(page, 2)
    picture = page.locator(".vilab-explorer-picture")
    picture.wait_for(timeout=30_000)
    before = picture.get_attribute("src")
    handle = page.locator(".vilab-explorer-z1 .noUi-handle")
    handle.click()
    start = time.monotonic()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "before => document.querySelector('.vilab-explorer-picture').src !== before",
        arg=before,
        timeout=10_000,
        polling=10,
    )
    figures["explorer_redraw_seconds"] = round(time.monotonic() - start, 3)
    assert figures["explorer_redraw_seconds"] < 1.0, figures
    explorer_sharpness = page.evaluate(
        "() => { const img = document.querySelector('.vilab-explorer-picture');"
        " return img.naturalWidth / (img.clientWidth * window.devicePixelRatio); }"
    )
    figures["explorer_image_pixels_per_screen_pixel"] = round(explorer_sharpness, 2)
    assert explorer_sharpness >= 1.0
    run_cell(page, 3)
    page.wait_for_function(
        "() => /z \\[0\\.0[0-9]*[1-9]/.test(document.querySelectorAll('.jp-Cell')[3]"
        ".querySelector('.jp-OutputArea').textContent)",
        timeout=20_000,
    )
    assert not page.console_errors, page.console_errors
