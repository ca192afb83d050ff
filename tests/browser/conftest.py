"""Real-browser fixtures: JupyterLab on 127.0.0.1 and Debian's Chromium driven by Playwright.

* ``lab``: a JupyterLab server started for the test session on a free port of 127.0.0.1,
  with a random token, serving a temporary copy of ``notebooks/`` (Run All and autosave must
  not write into the repository), stopped by its process id at the end. Its kernels inherit
  this process's environment: smoke mode (set by the top-level conftest.py) and
  ``VILAB_DATA_DIR``.
* ``browser``: Chromium from ``$VILAB_CHROMIUM`` or ``/usr/bin/chromium`` (Debian's package;
  ``.ci/run`` installs it), launched by Playwright through ``executable_path``. Nothing is
  downloaded: ``playwright install`` is never needed.
* ``page``: a fresh page at 1280 x 900 whose console errors are collected; when the test
  fails a screenshot goes to ``browser-screenshots/<test name>.png``.

Without Chromium or Playwright the tests are skipped with the reason, except on CI (``CI``
set), where a missing browser is an installation error and fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "browser-screenshots"
REPORT = REPO / "browser-screenshots" / "browser-report.json"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (on CI this is an installation error: see .ci/run)")
    pytest.skip(reason)


def chromium_path() -> str:
    path = os.environ.get("VILAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        _missing("Chromium not found: apt-get install chromium (or set VILAB_CHROMIUM)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """A student's fresh JupyterLab, minus the news pop-up (it would cover the panel)."""
    target = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


class Lab:
    """A running JupyterLab: ``url(path)`` gives a page address with the token."""

    def __init__(self, root: Path):
        self.root, self.port, self.token = root, _free_port(), secrets.token_hex(16)
        self.log = log = open(root.parent / "jupyterlab.log", "w")  # closed by stop()
        settings = root.parent / "lab-settings"
        _write_settings(settings)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True",
                "--LabApp.news_url=",
                "--LabApp.extension_manager=readonly",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={
                **os.environ,
                "JUPYTER_CONFIG_DIR": str(root.parent / "jupyter-config"),
                "JUPYTERLAB_SETTINGS_DIR": str(settings),
                "JUPYTERLAB_WORKSPACES_DIR": str(root.parent / "lab-workspaces"),
            },
        )
        self._wait_until_up()

    def url(self, path: str = "lab") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, path: str):
        with urllib.request.urlopen(self.url(f"api/{path}"), timeout=10) as response:
            return json.load(response)

    def shutdown_kernels(self) -> None:
        """Stop every kernel (one notebook's memory must not stay for the next)."""
        for kernel in self.api("kernels"):
            request = urllib.request.Request(
                self.url(f"api/kernels/{kernel['id']}"), method="DELETE"
            )
            urllib.request.urlopen(request, timeout=30).close()

    def _wait_until_up(self, timeout: float = 90) -> None:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: see {self.root.parent}/jupyterlab.log")
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("JupyterLab did not answer within 90 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    pytest.importorskip("jupyterlab")
    root = tmp_path_factory.mktemp("lab") / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = Lab(root)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped on purpose: Playwright's sync API keeps an asyncio loop running in this
    thread while it is open, and the panel tests that follow (tests/ui) need none running."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Python playwright is not installed: pip install playwright")
    executable = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        target = SCREENSHOTS / f"{request.node.name}.png"
        try:
            page.screenshot(path=str(target), full_page=True)
            print(f"screenshot of the failure: {target}")
        except Exception as exc:  # a crashed page: the report still says why
            print(f"no screenshot: {exc}")
    context.close()


@pytest.fixture(scope="session")
def browser_report():
    """Figures measured in the browser (Run All times, redraws per second, Pause latency),
    written to browser-screenshots/browser-report.json at the end and printed."""
    figures: dict = {}
    yield figures
    if figures:
        SCREENSHOTS.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(figures, indent=1))
        print("\nbrowser figures:", json.dumps(figures, indent=1))
