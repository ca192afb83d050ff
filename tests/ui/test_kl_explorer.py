"""The KL explorer driven headless: slider moves redraw, the switch refits, errors show."""

from __future__ import annotations

import asyncio

import pytest

from vilab import kl
from vilab.ui.kl_explorer import KLExplorer

STEPS = 300  # each reverse fit; enough to reach a mode from the default start


@pytest.fixture(scope="module")
def explorer():
    return KLExplorer(separation=8.0, weight=0.3, num_steps=STEPS, live=False)


def test_reverse_fit_sits_on_the_heavier_mode_and_shows_both_kls(explorer):
    loc, scale = explorer.q
    assert abs(loc - 4.0) < 0.1 * 8.0 and scale == pytest.approx(1.0, rel=0.1)  # 4.03, 1.056
    assert explorer.trainer.num_steps_done == STEPS
    assert bytes(explorer.picture.value).startswith(b"\x89PNG")
    split = explorer.split
    assert split.reverse_kl == pytest.approx(0.357, abs=0.02)  # -ln 0.7 on one mode
    assert split.forward_kl > 5  # q misses the left mode: p puts mass where q has none
    assert f"KL(q||p) = {split.reverse_kl:.4f}" in explorer.status.value
    assert f"step {STEPS}/{STEPS}" in explorer.status.value


def test_slider_change_redraws_with_the_new_target(explorer):
    before, picture = explorer.redraws, explorer.picture.value
    explorer.separation_slider.value = 2.0
    assert explorer.redraws == before + 1 and explorer.picture.value != picture
    assert explorer.target.params["separation"] == 2.0
    assert explorer.trainer.num_steps_done == STEPS  # refitted from the start
    explorer.separation_slider.value = 8.0


def test_switch_refits_forward_then_reverse(explorer):
    explorer.direction_buttons.value = "forward"
    assert explorer.trainer is None
    assert explorer.q == pytest.approx((1.6, 3.8))  # the mixture's mean and sd
    assert explorer.split.forward_kl < explorer.split.reverse_kl
    explorer.direction_buttons.value = "reverse"
    assert explorer.trainer.num_steps_done == STEPS
    assert abs(explorer.q[0] - 4.0) < 0.8


def test_target_choice_shows_its_own_slider(explorer):
    explorer.kind_dropdown.value = "heavy tails"
    assert explorer.df_slider.layout.display is None
    assert explorer.separation_slider.layout.display == "none"
    assert explorer.target.kind == "heavy tails"
    explorer.kind_dropdown.value = "two modes"
    assert explorer.separation_slider.layout.display is None


def test_a_failing_callback_is_shown_not_lost(explorer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("quadrature failed")

    monkeypatch.setattr("vilab.ui.kl_explorer.kl_split", broken)
    explorer.direction_buttons.value = "forward"  # redraw raises inside the callback
    assert explorer.errors.message == "Error in the KL explorer: quadrature failed"
    assert explorer.errors.layout.display is None
    monkeypatch.undo()
    explorer.direction_buttons.value = "reverse"  # the next good change clears it
    assert explorer.errors.message == "" and explorer.errors.layout.display == "none"


def test_live_fit_redraws_while_fitting():
    async def main():
        explorer = KLExplorer(separation=8.0, weight=0.3, num_steps=200, live=True)
        assert explorer.task is not None and explorer.trainer.num_steps_done < 200
        await explorer.wait()
        assert explorer.trainer.num_steps_done == 200
        assert explorer.redraws >= 2  # the start and the end, more while fitting
        explorer.weight_slider.value = 0.5  # a change mid-run stops the old fit
        first = explorer.task
        explorer.weight_slider.value = 0.8
        await asyncio.sleep(0)
        assert first.cancelled()
        await explorer.wait()
        return explorer

    explorer = asyncio.run(main())
    assert explorer.q[0] == pytest.approx(-4.0, abs=0.8)  # now the left mode is heavier


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match=r"Expected kind among"):
        KLExplorer(kind="bimodal")
    with pytest.raises(ValueError, match=r"Expected direction 'reverse'"):
        KLExplorer(direction="both")
    assert kl.KINDS == ("two modes", "skewed", "heavy tails")
