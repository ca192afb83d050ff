"""The training panel driven like a student would: clicks and widget values, no browser.

The background path is driven inside ``asyncio.run``: a click handled while the training
task waits at its ``await`` is exactly what happens in a kernel between two chunks.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch

from vilab import Callback, TrainingDiverged
from vilab.exercises import temperature
from vilab.plots.elbo import downsample, moving_average
from vilab.ui import TrainingPanel
from vilab.ui.live_plot import RedrawThrottle, log_scale_values, static_figure
from vilab.ui.view import CHART_INTERVAL, CHART_SHARE


def sgd_trainer(lr=0.01, seed=0):
    return temperature.make_trainer(
        seed=seed, optim="sgd", optim_args={}, lr=lr, num_particles=1, vectorize_particles=False
    )


async def until(condition, limit=2000):
    """Let the event loop (and so the training task) run until ``condition()``."""
    for _ in range(limit):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


def test_importing_vilab_does_not_import_ipywidgets():
    code = (
        "import sys, vilab, vilab.exercises.temperature; "
        "print('ipywidgets' in sys.modules, 'IPython' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_headless_train_runs_to_the_end_and_leaves_a_static_figure(capsys):
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=25)
    panel.train()  # no kernel here: synchronous, like trainer.run
    assert panel.state == "idle" and trainer.num_steps_done == 25
    elbo = -trainer.history.loss[-1]
    assert capsys.readouterr().out.startswith(f"step 25 · ELBO {elbo:.4g}")
    assert panel.chart.value == "" and panel.image.value == b""  # nothing live when headless
    figure = static_figure(trainer, temperature_live_plot, smoothing=1)
    x, y = figure.axes[0].lines[0].get_data()
    np.testing.assert_allclose(y, trainer.history.elbo_per_point)
    assert "temperature" in figure.axes[1].get_title().lower()


def test_states_idle_running_paused_running_idle_and_pause_is_immediate():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=100_000)
    seen = [panel.state]

    async def scenario():
        panel.start_button.click()
        seen.append(panel.state)
        await until(lambda: trainer.num_steps_done >= 5)
        at_click = trainer.num_steps_done
        panel.pause_button.click()
        await panel.wait()
        seen.append(panel.state)
        assert trainer.num_steps_done == at_click  # no chunk runs after the click
        assert panel.start_button.description == "Resume"
        panel.steps_input.value = at_click + 6  # the run now ends 6 steps later
        panel.start_button.click()
        seen.append(panel.state)
        await panel.wait()
        seen.append(panel.state)

    asyncio.run(scenario())
    assert seen == ["idle", "running", "paused", "running", "idle"]
    assert trainer.num_steps_done == panel.steps_input.value


def test_one_run_at_a_time_and_settings_locked_while_running():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=12)

    async def scenario():
        panel.train(block=False)
        panel.start_button.click()  # ignored: already running
        panel.step_button.click()  # ignored too
        for widget in (
            panel.start_button,
            panel.step_button,
            panel.optim_dropdown,
            panel.elbo_dropdown,
            panel.particles_input,
            panel.steps_input,
        ):
            assert widget.disabled, widget.description
        assert not panel.pause_button.disabled and not panel.lr_slider.disabled
        panel.optim_dropdown.value = "sgd"  # from code: refused, shown, reverted
        assert "press Pause first" in panel.error_area.message
        assert panel.optim_dropdown.value == trainer.optim_choice == "clipped_adam"
        await panel.wait()

    asyncio.run(scenario())
    assert trainer.num_steps_done == 12 and panel.state == "idle"
    assert not panel.optim_dropdown.disabled and not panel.start_button.disabled


def test_step_adds_exactly_n_steps_and_keeps_a_paused_run_paused():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=1000)
    panel.step_size_input.value = 7
    assert panel.step_button.description == "Step 7"
    panel.step_button.click()  # no event loop: a blocking run
    assert trainer.num_steps_done == 7 and panel.state == "idle"

    async def scenario():
        panel.step_button.click()
        await panel.wait()
        assert trainer.num_steps_done == 14
        panel.start_button.click()
        await until(lambda: trainer.num_steps_done >= 16)
        panel.pause_button.click()
        await panel.wait()
        before = trainer.num_steps_done
        panel.step_button.click()
        await panel.wait()
        assert trainer.num_steps_done == before + 7 and panel.state == "paused"

    asyncio.run(scenario())


def test_reset_restores_the_initial_parameters_even_while_running():
    trainer = temperature.make_trainer()
    initial = trainer.params()
    panel = TrainingPanel(trainer, num_steps=100_000)

    async def scenario():
        panel.start_button.click()
        await until(lambda: trainer.num_steps_done >= 5)
        panel.reset_button.click()
        await panel.wait()

    asyncio.run(scenario())
    assert panel.state == "idle" and trainer.num_steps_done == 0 and len(trainer.history) == 0
    for name, value in trainer.params().items():
        torch.testing.assert_close(value, initial[name], rtol=0, atol=0)
    assert "reset" in panel.status.value
    panel.step_button.click()  # the same seed gives the same losses as a fresh trainer
    fresh = temperature.make_trainer()
    fresh.step(panel.step_size_input.value)
    assert trainer.history.loss == fresh.history.loss


def test_learning_rate_change_takes_effect_on_the_next_step():
    panels = [TrainingPanel(sgd_trainer(lr=0.01)) for _ in range(2)]
    for panel in panels:
        panel.step_size_input.value = 3
        panel.step_button.click()
    panels[1].lr_slider.value = 0.1
    assert all(g["lr"] == 0.1 for g in panels[1].trainer.optim.param_groups)
    deltas = []
    for panel in panels:
        before = panel.trainer.param("a")
        panel.trainer.step(1)  # same seed, same parameters: the same gradient
        deltas.append(float(panel.trainer.param("a") - before))
    assert deltas[0] != 0
    assert deltas[1] / deltas[0] == pytest.approx(10.0, rel=1e-5)


def test_changing_optimiser_elbo_and_particles_rebuilds_and_resets():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=5)
    panel.train()
    panel.optim_dropdown.value = "adam"  # ClippedAdam's lrd does not apply to Adam
    assert trainer.optim_choice == "adam" and "lrd" not in trainer.optim_args
    assert trainer.num_steps_done == 0 and panel.state == "idle"
    assert "reset" in panel.status.value and "lrd" in panel.status.value
    panel.elbo_dropdown.value = "trace"
    panel.particles_input.value = 3
    panel.train()
    assert type(trainer.loss).__name__ == "Trace_ELBO" and trainer.loss.num_particles == 3
    assert isinstance(trainer.optim.optimizer, torch.optim.Adam)
    panel.optim_dropdown.value = "clipped_adam"  # back: its option comes back
    assert trainer.optim_args == {"lrd": 0.997}


def test_chart_lines_are_the_engine_history_downsampled_smoothed_and_log_scaled():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=120)
    panel.view.live = True  # as once displayed
    panel.view.elbo_chart.max_points = 50
    assert panel.smoothing.value > 1  # the default view is a trend over the raw trace
    panel.smoothing.value = 1
    panel.train()
    drawn = panel.view.elbo_chart.last
    steps = np.asarray(trainer.history.step, dtype=float)
    elbo = trainer.history.elbo_per_point
    np.testing.assert_allclose(
        np.column_stack(drawn["raw"]), np.column_stack(downsample(steps, elbo, 50))
    )
    assert drawn["smooth"] is None and panel.chart.value.startswith("<svg")
    panel.smoothing.value = 20
    drawn = panel.view.elbo_chart.last
    np.testing.assert_allclose(
        drawn["smooth"][1], downsample(steps, moving_average(elbo, 20), 50)[1]
    )
    assert "moving average (20)" in panel.chart.value
    panel.log_scale.value = True
    drawn = panel.view.elbo_chart.last
    assert drawn["log_scale"] and "log" in drawn["ylabel"]
    values, shift = log_scale_values(-elbo)
    np.testing.assert_allclose(drawn["raw"][1], downsample(steps, values, 50)[1])
    assert (f"+ {shift:g}" in drawn["ylabel"]) == (shift > 0)


def test_the_chart_grows_during_a_run_and_redraws_often_but_cheaply():
    """A live run: the ELBO chart appears long before the end and is redrawn at its own
    pace (not once per chunk), the costly posterior figure less often."""
    trainer = temperature.make_trainer(num_particles=1, vectorize_particles=False)
    panel = TrainingPanel(trainer, num_steps=600, live_plot=temperature_live_plot)
    seen = []

    async def scenario():
        panel.train(block=False)
        while panel.state == "running":
            seen.append(
                (trainer.num_steps_done, len(panel.view.elbo_chart.last.get("raw", [[]])[0]))
            )
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    mid_run = [points for step, points in seen if 0 < step < 450]
    assert mid_run and max(mid_run) > 0  # a curve was on screen before three quarters
    chart, figure = panel.view.chart_throttle, panel.view.figure_throttle
    assert chart.count >= figure.count
    elapsed = trainer.history.elapsed
    assert chart.count <= 2 + elapsed / chart.min_interval


def test_redraw_pacing_allows_five_chart_frames_a_second():
    clock = [0.0]
    throttle = RedrawThrottle(CHART_INTERVAL, CHART_SHARE, clock=lambda: clock[0])
    frames = 0
    while clock[0] < 10.0:  # chunks of 50 ms, a 2 ms chart
        clock[0] += 0.05
        if throttle.due():
            clock[0] += 0.002
            throttle.record(0.002)
            frames += 1
    assert frames / 10.0 >= 5.0


def test_log_evidence_draws_the_line_the_gap_and_the_split():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=200, log_evidence=-2.6237)
    panel.view.live = True
    panel.train()
    assert "ln p(x) per point" in panel.chart.value and "KL(q || posterior)" in panel.chart.value
    assert panel.view.elbo_chart.last["evidence"] == pytest.approx(-2.6237)
    assert "ln p(x) = ELBO + KL: -2.624 = " in panel.status.value
    assert "KL" in panel.view.evidence_split() and "+ -" not in panel.view.evidence_split()
    gap = panel.view.elbo_chart.last["gap"][1]
    assert gap[-1] < gap[0]  # KL(q || posterior) shrinks as training goes
    from vilab.evidence import record_elbo_estimate, temperature_log_evidence

    precise = temperature.make_trainer()
    record_elbo_estimate(precise, every=50, num_particles=2000)
    panel = TrainingPanel(precise, num_steps=1500, log_evidence=temperature_log_evidence(18.0))
    panel.view.live = True
    panel.train()
    steps_at, gap = panel.view.elbo_chart.last["gap"]
    assert list(steps_at) == list(range(50, 1501, 50))  # the precise estimates, not the noise
    assert gap[-1] < 0.01 and "ln p(x) = ELBO + KL: -2.624 = " in panel.view.evidence_split()
    with pytest.raises(TypeError, match="log_evidence must be ln p"):
        TrainingPanel(trainer, log_evidence="high")


def test_log_scale_values_shift_only_when_needed():
    loss = np.array([5.0, 2.0, 0.5])
    assert log_scale_values(loss)[1] == 0.0
    shifted, shift = log_scale_values(loss - 3.0)
    assert shift == 10.0 and shifted.min() > 0
    np.testing.assert_allclose(shifted - shift, loss - 3.0)


def test_redraws_are_throttled_not_per_step_and_the_image_is_rendered():
    trainer = temperature.make_trainer()
    hook_steps = []

    def live_plot(trainer, ax):
        hook_steps.append(trainer.num_steps_done)
        temperature_live_plot(trainer, ax)

    panel = TrainingPanel(trainer, num_steps=150, live_plot=live_plot, live_every=40)

    async def scenario():
        panel.train(block=False)
        await panel.wait()

    asyncio.run(scenario())
    assert bytes(panel.image.value).startswith(b"\x89PNG")
    elapsed = trainer.history.elapsed
    # the first redraw one interval after the start, then at least 0.3 s apart, one at the end
    figure = panel.view.figure_throttle
    assert figure.count <= 1 + elapsed / figure.min_interval
    assert figure.count < trainer.num_steps_done / 5
    assert hook_steps[-1] == 150  # the posterior at the end of the run is shown
    assert all(b - a >= 40 for a, b in zip(hook_steps[:-2], hook_steps[1:-1]))
    assert "temperature" in panel.view.posterior.ax.get_title().lower()


def temperature_live_plot(trainer, ax):
    temperature.plots.plot_posterior(*temperature.vi_posterior(trainer), ax=ax)


def test_a_diverging_run_shows_the_error_and_enables_start_again():
    trainer = sgd_trainer(lr=1e6)
    panel = TrainingPanel(trainer, num_steps=50)

    async def scenario():
        panel.start_button.click()
        with pytest.raises(TrainingDiverged):  # a later cell's wait stops Run All here
            await panel.wait()

    asyncio.run(scenario())
    assert panel.state == "error" and isinstance(panel.error, TrainingDiverged)
    assert panel.error_area.message.startswith("Training diverged: Training stopped at step")
    assert "learning rate is too large" in panel.error_area.value
    assert panel.error_area.layout.display is None
    assert not panel.start_button.disabled and panel.pause_button.disabled
    panel.lr_slider.value = 1e-3  # the fix the message suggests
    panel.reset_button.click()
    assert panel.state == "idle" and panel.error_area.message == ""
    panel.train()
    assert panel.state == "idle" and trainer.num_steps_done == 50


def test_headless_train_raises_the_engine_error_like_trainer_run():
    panel = TrainingPanel(sgd_trainer(lr=1e6), num_steps=50)
    with pytest.raises(TrainingDiverged):
        panel.train()
    assert panel.state == "error"


def test_errors_in_callbacks_hooks_and_handlers_are_shown():
    def broken_readout(trainer):
        return [1.0]  # not a dict

    def broken_live_plot(trainer, ax):
        raise RuntimeError("live plot bug")

    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=10, readout=broken_readout, live_plot=broken_live_plot)
    panel.train()
    assert trainer.num_steps_done == 10 and panel.state == "idle"  # training went on
    assert panel.error_area.message.startswith("Error in the")
    assert "live plot bug" in panel.error_area.value or "dict" in panel.error_area.value

    def broken_reset():
        raise RuntimeError("reset bug")

    trainer.reset = broken_reset
    panel.reset_button.click()  # the exception does not escape the handler
    assert panel.error_area.message == "Error in the Reset button: reset bug"
    assert "Python traceback" in panel.error_area.value


def test_an_observer_error_ends_the_run_in_the_error_state():
    class Broken(Callback):
        every = 3

        def on_steps(self, trainer):
            raise ValueError("observer bug")

    trainer = temperature.make_trainer()
    trainer.add_callback(Broken())
    panel = TrainingPanel(trainer, num_steps=10)

    async def scenario():
        panel.train(block=False)
        with pytest.raises(ValueError, match="observer bug"):
            await panel.wait()

    asyncio.run(scenario())
    assert panel.state == "error" and trainer.num_steps_done == 3
    assert "observer bug" in panel.error_area.message


def test_observers_hear_the_same_steps_as_with_trainer_run():
    class Recorder(Callback):
        every = 7

        def __init__(self):
            self.events = []

        def on_run_start(self, trainer, num_steps):
            self.events.append(("start", num_steps))

        def on_steps(self, trainer):
            self.events.append(trainer.num_steps_done)

        def on_run_end(self, trainer, error):
            self.events.append(("end", error))

    recorders = [Recorder(), Recorder()]
    reference = temperature.make_trainer()
    reference.add_callback(recorders[0])
    reference.run(30, progress=False)
    trainer = temperature.make_trainer()
    trainer.add_callback(recorders[1])
    panel = TrainingPanel(trainer, num_steps=30)
    panel.runner.chunk_seconds = 1e-9  # one step per chunk: the hardest case

    async def scenario():
        panel.train(block=False)
        await panel.wait()

    asyncio.run(scenario())
    assert (
        recorders[1].events
        == recorders[0].events
        == [("start", 30), 7, 14, 21, 28, 30, ("end", None)]
    )
    assert trainer.history.loss == reference.history.loss


def test_status_line_and_default_readout_show_the_trainer_state():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=20)
    panel.train()
    elbo = -trainer.history.loss[-1]
    status = panel.status.value
    assert "idle · step 20" in status and f"ELBO {elbo:.4g}" in status
    assert "since the start" in status and "steps/s" in status
    a, b = temperature.vi_posterior(trainer)
    assert f"<b>a</b> = {a:.4g}" in panel.readout_area.value
    assert f"<b>b</b> = {b:.4g}" in panel.readout_area.value


def test_loss_decrease_compares_the_first_and_last_steps():
    from vilab.ui.status import loss_decrease

    assert loss_decrease([4.0] * 10 + [1.0] * 10) == pytest.approx(75.0)
    assert loss_decrease([-2.0] * 10 + [-3.0] * 10) == pytest.approx(50.0)
    assert loss_decrease([1.0]) is None
    assert loss_decrease([2.0] * 10 + [-8.0] * 10) is None  # crossed zero: no percentage


def test_a_loss_that_crosses_zero_is_reported_per_data_point():
    from vilab.history import History
    from vilab.ui.status import loss_change_text

    history = History(
        num_data=4, step=list(range(1, 21)), loss=[2.0] * 10 + [-8.0] * 10, time=[0.0] * 20
    )
    assert loss_change_text(history) == "loss down 2.5 per data point since the start"
    history = History(num_data=1, step=[1, 2], loss=[4.0, 1.0], time=[0.0, 0.0])
    assert loss_change_text(history) == "loss down 75.0% since the start"


def test_bad_arguments_are_explained():
    trainer = temperature.make_trainer()
    with pytest.raises(ValueError, match="num_steps must be a whole number"):
        TrainingPanel(trainer, num_steps=0)
    with pytest.raises(TypeError, match="without calling it"):
        TrainingPanel(trainer, live_plot=3)
    with pytest.raises(TypeError, match="needs a vilab.Trainer"):
        TrainingPanel("trainer")
    with pytest.raises(RuntimeError, match="needs a running asyncio event loop"):
        TrainingPanel(trainer).train(block=False)


def test_detection_rule(monkeypatch):
    from vilab.ui import runner

    class FakeKernel:
        allow_stdin = True

        def get_parent(self):
            return {"content": {"allow_stdin": self.allow_stdin}}

    kernel = FakeKernel()
    monkeypatch.setattr(runner, "_kernel", lambda: kernel)
    monkeypatch.setenv("VILAB_SMOKE", "0")
    monkeypatch.delenv("VILAB_HEADLESS", raising=False)
    assert runner.interactive()
    kernel.allow_stdin = False  # nbval, nbconvert, papermill
    assert not runner.interactive()
    kernel.allow_stdin = True
    monkeypatch.setenv("VILAB_HEADLESS", "1")
    assert not runner.interactive()
    monkeypatch.delenv("VILAB_HEADLESS")
    monkeypatch.setenv("VILAB_SMOKE", "1")  # smoke mode changes the sizes, not the rule
    assert runner.interactive()
    monkeypatch.setattr(runner, "_kernel", lambda: None)
    monkeypatch.setenv("VILAB_SMOKE", "0")
    assert not runner.interactive()


def test_long_histories_draw_downsampled():
    from vilab.history import History
    from vilab.ui.live_plot import ElboChart

    steps = np.arange(1, 50_001)
    history = History(
        num_data=4, step=list(steps), loss=list(4.0 + 400.0 / steps), time=list(steps * 1e-3)
    )
    chart = ElboChart(max_points=800)
    svg = chart.svg(history, smoothing=100, log_scale=True)
    x, y = chart.last["raw"]
    assert len(x) <= 800 and x[-1] == 50_000  # the last step is always drawn
    np.testing.assert_allclose(y, (4.0 + 400.0 / x) / 4)  # positive loss: no shift
    assert len(chart.last["smooth"][0]) <= 800
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    history.append(50_001, 4.0, 50.0)  # the arrays grow incrementally, and stay right
    chart.svg(history, smoothing=1)
    assert chart.last["raw"][0][-1] == 50_001 and chart.last["raw"][1][-1] == -1.0


def test_a_setting_changed_while_paused_resets_and_says_so():
    trainer = temperature.make_trainer()
    panel = TrainingPanel(trainer, num_steps=100_000)

    async def scenario():
        panel.start_button.click()
        await until(lambda: trainer.num_steps_done >= 3)
        panel.pause_button.click()
        await panel.wait()

    asyncio.run(scenario())
    assert panel.state == "paused" and not panel.elbo_dropdown.disabled
    panel.elbo_dropdown.value = "trace"
    assert panel.state == "idle" and trainer.num_steps_done == 0
    assert "parameters reset" in panel.status.value
    assert panel.start_button.description == "Start"


def test_a_diverging_learning_rate_diagnostic_shows_in_the_error_area():
    import pyro
    import pyro.distributions as dist

    x = torch.full((100,), 3.0)  # SGD at lr 0.0205 on this quadratic loss climbs x1.05/step

    def model(x):
        mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(mu, 1.0), obs=x)

    def point_guide(x):
        pyro.sample("mu", dist.Delta(pyro.param("loc", torch.tensor(0.0))))

    from vilab import Trainer

    trainer = Trainer(model, point_guide, args=(x,), optim="sgd", lr=0.0205)
    panel = TrainingPanel(trainer, num_steps=150)
    with _no_vilab_warning_escapes():  # shown in the panel, not lost on stderr
        panel.train(block=True)
    assert "lr-too-large" in panel.error_area.message
    assert "vilab noticed a problem" in panel.error_area.message


def _no_vilab_warning_escapes():
    import contextlib
    import warnings

    from vilab.checks import VilabWarning

    @contextlib.contextmanager
    def guard():
        with warnings.catch_warnings():
            warnings.simplefilter("error", VilabWarning)
            yield

    return guard()


def test_a_model_with_a_few_scalar_latents_gets_a_live_picture_by_default():
    from pyro.infer.autoguide import AutoNormal

    from vilab import Trainer
    from vilab.plots import default_live_plot

    x = torch.linspace(0.0, 1.0, 20)
    y = 2.0 * x + 1.0

    def model(x, y=None):
        w = pyro.sample("w", dist.Normal(0.0, 5.0))
        b = pyro.sample("b", dist.Normal(0.0, 5.0))
        with pyro.plate("data", len(x)):
            pyro.sample("obs", dist.Normal(w * x + b, 0.5), obs=y)

    panel = TrainingPanel(Trainer(model, AutoNormal(model), args=(x, y)), num_steps=60)
    assert panel.view.live_plot is default_live_plot

    async def scenario():
        panel.train(block=False)
        await panel.wait()

    asyncio.run(scenario())
    assert bytes(panel.image.value).startswith(b"\x89PNG")
    titles = [ax.get_title() for ax in panel.view.posterior.figure.axes]
    assert any(t.startswith("q(w)") for t in titles) and any(t.startswith("q(b)") for t in titles)


def test_one_slow_redraw_does_not_freeze_a_picture():
    clock = [0.0]
    throttle = RedrawThrottle(0.3, 0.04, clock=lambda: clock[0])
    throttle.record(1.0)  # a cold first draw: fonts, layout
    assert throttle.interval == throttle.max_interval  # not 1.0 / 0.04 = 25 s
    for _ in range(20):
        throttle.record(0.02)  # then the usual cost: the pace comes back to it
    assert throttle.interval < 0.6
