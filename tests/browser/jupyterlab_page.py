"""What a student does in JupyterLab, as Playwright steps: open a notebook, Run All, wait
for the end, save, run one cell, read a cell's output. Used by the browser tests."""

from __future__ import annotations

import re
import time

IDLE = re.compile(r"\|\s*Idle")


def open_notebook(page, lab, name: str) -> None:
    """Open ``name`` alone (``reset``: a fresh workspace, no tabs left from earlier tests)."""
    page.goto(lab.url(f"lab/tree/{name}") + "&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    wait_for_kernel_idle(page)


def wait_for_kernel_idle(page, timeout: float = 120) -> None:
    page.locator(".jp-StatusBar-Widget", has_text=IDLE).first.wait_for(timeout=timeout * 1000)


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def notebook(page):
    """The notebook panel on screen (other tabs may hold old, disconnected outputs)."""
    return page.locator(".jp-NotebookPanel:visible")


def run_all(page) -> None:
    menu(page, "Run", "Run All Cells")


def prompts(page) -> list[str]:
    return page.locator(".jp-CodeCell .jp-InputPrompt").evaluate_all(
        "nodes => nodes.map(n => n.textContent.trim())"
    )


def wait_until_run_all_done(page, timeout: float = 600) -> float:
    """Seconds until no cell is running or queued ([*]) and the kernel is idle for 1.5 s."""
    start, quiet_since = time.monotonic(), None
    while time.monotonic() - start < timeout:
        busy = any("*" in p for p in prompts(page))
        idle = page.locator(".jp-StatusBar-Widget", has_text=IDLE).count() > 0
        if not busy and idle:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 1.5:
                return quiet_since - start
        else:
            quiet_since = None
        time.sleep(0.25)
    raise TimeoutError(f"Run All still running after {timeout} s: prompts {prompts(page)}")


def save(page) -> None:
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-mod-current.jp-mod-dirty')", timeout=30_000
    )


def run_cell(page, index: int) -> None:
    """Select code cell ``index`` (0-based among all cells) and run it with Shift+Enter."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def cell_output_text(page, index: int) -> str:
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    return cell.locator(".jp-OutputArea").inner_text()


COUNT_MUTATIONS = """([selector, attribute, seconds]) => new Promise(resolve => {
    const node = document.querySelector(selector);
    let count = 0;
    const observer = new MutationObserver(() => { count += 1; });
    observer.observe(node, attribute ? {attributes: true, attributeFilter: [attribute]}
                                     : {childList: true, subtree: true, characterData: true});
    setTimeout(() => { observer.disconnect(); resolve(count); }, seconds * 1000);
})"""


def count_changes(page, selector: str, seconds: float, attribute: str | None = None) -> int:
    """How many times the element at ``selector`` changed (its ``attribute``, or its content)
    during ``seconds``: what a student sees as redraws."""
    return page.evaluate(COUNT_MUTATIONS, [selector, attribute, seconds])


def new_notebook(lab, name: str, cells: list[str]) -> str:
    """Write a notebook of code ``cells`` into the lab's folder; returns its name."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, lab.root / name)
    return name
