"""The panel in a real ipykernel, driven over the Jupyter protocol as frontends drive it.

Cells sent with ``allow_stdin=False`` are what nbval/nbconvert send: ``train()`` must block
until the end. Cells sent with ``allow_stdin=True`` are what JupyterLab and the classic
notebook send: ``train()`` returns at once, and widget messages (a Pause click, a slider
move) must reach the panel while it trains.
"""

from __future__ import annotations

import os
import time

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class Kernel:
    """A kernel client that runs a cell and collects its outputs."""

    def __init__(self):
        env = {**os.environ, "VILAB_SMOKE": "0", "MPLBACKEND": "Agg"}
        env.pop("VILAB_HEADLESS", None)
        self.manager, self.client = jupyter_client.manager.start_new_kernel(
            kernel_name="python3", env=env
        )

    def run(self, code: str, frontend: bool = False, timeout: float = 120) -> tuple[str, list]:
        msg_id = self.client.execute(code, allow_stdin=frontend)
        text, data = [], []
        while True:
            msg = self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                text.append(content["text"])
            elif kind in ("display_data", "execute_result"):
                data.append(content["data"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(text), data

    def widget_message(self, model_id: str, data: dict) -> None:
        """What a frontend sends when a button is clicked or a slider moved."""
        message = self.client.session.msg("comm_msg", {"comm_id": model_id, "data": data})
        self.client.shell_channel.send(message)

    def wait_for(self, code: str, expected: str, timeout: float = 10) -> float:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.run(code)[0].strip() == expected:
                return time.perf_counter() - start
            time.sleep(0.05)
        raise AssertionError(f"{code!r} did not print {expected!r} within {timeout} s")

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    k.run(
        "import torch\ntorch.set_num_threads(1)\nfrom vilab.exercises import temperature\n"
        "from vilab.ui import TrainingPanel\n"
        "def fast():\n"
        "    return temperature.make_trainer(num_particles=1, vectorize_particles=False)"
    )
    yield k
    k.close()


def test_nbval_style_cells_train_to_the_end_and_show_one_static_figure(kernel):
    text, data = kernel.run(
        "p = TrainingPanel(fast(), num_steps=20)\np.train()\n"
        "print(p.state, p.trainer.num_steps_done)"
    )
    assert text.strip().splitlines()[-1] == "idle 20"
    assert [list(d) for d in data] == [["image/png", "text/plain"]]  # no widgets


def test_frontend_cells_train_in_the_background_and_hear_clicks(kernel):
    text, data = kernel.run(
        "q = TrainingPanel(fast(), num_steps=10**6)\nq.train()\nprint(q.state)", frontend=True
    )
    assert text.strip() == "running" and any(WIDGET_VIEW in d for d in data)
    kernel.wait_for("print(q.trainer.num_steps_done >= 3)", "True", timeout=60)
    ids = kernel.run("print(q.lr_slider.model_id, q.pause_button.model_id)")[0].split()
    kernel.widget_message(
        ids[0], {"method": "update", "state": {"value": 0.02}, "buffer_paths": []}
    )
    kernel.wait_for("print(q.trainer.lr)", "0.02")
    kernel.widget_message(ids[1], {"method": "custom", "content": {"event": "click"}})
    kernel.wait_for("print(q.state)", "paused")
    steps = kernel.run("print(q.trainer.num_steps_done)")[0]
    time.sleep(0.3)
    assert kernel.run("print(q.trainer.num_steps_done)")[0] == steps  # really paused
    text, _ = kernel.run(
        "q.steps_input.value = q.trainer.num_steps_done + 5\nq.train()\n"
        "await q.wait()\nprint(q.state, q.trainer.num_steps_done)",
        frontend=True,
    )
    assert text.strip() == f"idle {int(steps) + 5}"
