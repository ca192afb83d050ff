"""The panel's buttons and settings, and how a changed setting reaches the trainer.

Two kinds of settings:

* live: the learning rate (``trainer.lr = x`` takes effect on the next step), the plot's
  smoothing and log scale. They work while training runs.
* rebuild: optimiser, ELBO variant and particles per ELBO estimate. They define the
  objective and the optimiser's state, so a change rebuilds both with ``trainer.reset()``:
  fresh parameters from the same seed, a new history (the panel says so in its status).
  They, and the number of steps, are disabled while training runs.

Optimiser options given to the trainer (``optim_args``) follow the optimiser they belong
to: switching from ClippedAdam(lrd=0.997) to Adam drops ``lrd`` (Adam has no such option),
switching back restores it.
"""

from __future__ import annotations

import math

import ipywidgets as widgets

from ..options import OPTIM_CHOICES, optim_option_names
from ..validation import whole_number

DEFAULT_SMOOTHING = 20  # the chart opens on a readable trend: a moving average over the noise
OPTIM_OPTIONS = [
    ("Adam, adaptive rate", "auto"),
    ("Adam", "adam"),
    ("ClippedAdam", "clipped_adam"),
    ("SGD", "sgd"),
]
ELBO_OPTIONS = [
    ("Trace_ELBO, path derivative", "stl"),
    ("Trace_ELBO", "trace"),
    ("TraceMeanField_ELBO", "meanfield"),
]
# which widgets each state enables (the learning rate and the plot options are always live)
_ENABLED = {
    "idle": {"start", "step", "reset", "settings"},
    "running": {"pause", "reset"},
    "paused": {"start", "step", "reset", "settings"},
    "error": {"start", "step", "reset", "settings"},
}


def applicable_optim_args(optim, optim_args: dict) -> tuple[dict, list[str]]:
    """The options in ``optim_args`` that optimiser ``optim`` accepts, and the dropped names."""
    if not isinstance(optim, str) or optim not in OPTIM_CHOICES:
        return dict(optim_args), []
    accepted = optim_option_names(optim)
    kept = {k: v for k, v in optim_args.items() if k in accepted}
    return kept, sorted(set(optim_args) - set(kept))


def rebuild_trainer(trainer, optim, elbo, num_particles: int, optim_args: dict) -> list[str]:
    """Give ``trainer`` a new optimiser/ELBO/particle count and reset it (fresh parameters,
    same seed). Everything is checked before the trainer is touched. Returns the names of
    optimiser options that do not apply to ``optim`` and were left out."""
    kept, dropped = applicable_optim_args(optim, optim_args)
    trainer.configure(optim=optim, elbo=elbo, num_particles=num_particles, optim_args=kept)
    return dropped


def _options_with(options: list, current) -> list:
    """Dropdown options, plus the trainer's own object when it is not one of the names."""
    if any(value == current for _, value in options):
        return list(options)
    return list(options) + [(f"custom: {type(current).__name__}", current)]


def lr_exponents(lr: float) -> tuple[int, int]:
    """Slider range (powers of ten): from 1e-4 (or three decades below ``lr``) up to 10 (or
    a decade above ``lr``), so the usual rates and the fix for a too-large one fit."""
    exponent = math.log10(lr)
    return min(-4, math.floor(exponent) - 3), max(1, math.ceil(exponent) + 1)


class Controls:
    """The panel's widgets, built from a trainer's current settings."""

    NAMES = tuple(
        "start_button pause_button step_button step_size_input reset_button lr_slider "
        "steps_input particles_input optim_dropdown elbo_dropdown smoothing log_scale".split()
    )
    syncing = False  # True while show_settings_of moves the widgets

    def __init__(self, trainer, num_steps: int, step_size: int = 10):
        whole_number("num_steps", num_steps, fix="e.g. TrainingPanel(trainer, num_steps=2000).")
        self.start_button = _button(
            "Start", "play", "Train the number of steps set below", "success"
        )
        self.pause_button = _button("Pause", "pause", "Stop after the current few steps")
        self.step_button = _button(f"Step {step_size}", "step-forward", "Train exactly N steps")
        self.reset_button = _button("Reset", "refresh", "Fresh parameters, same seed", "warning")
        self.step_size_input = _int_input(step_size, "N", 10**6, "130px")
        low, high = lr_exponents(trainer.lr)
        self.lr_slider = widgets.FloatLogSlider(
            value=trainer.lr,
            base=10,
            min=low,
            max=high,
            step=0.1,
            description="lr",
            readout_format=".2e",
            continuous_update=False,
        )
        self.steps_input = _int_input(num_steps, "steps", 10**8, "180px")
        self.particles_input = _int_input(trainer.num_particles, "particles", 10**5, "180px")
        self.optim_dropdown = widgets.Dropdown(
            options=_options_with(OPTIM_OPTIONS, trainer.optim_choice),
            value=trainer.optim_choice,
            description="optimiser",
        )
        self.elbo_dropdown = widgets.Dropdown(
            options=_options_with(ELBO_OPTIONS, trainer.elbo_choice),
            value=trainer.elbo_choice,
            description="ELBO",
        )
        self.smoothing = widgets.IntSlider(
            value=DEFAULT_SMOOTHING,
            min=1,
            max=500,
            description="smoothing",
            continuous_update=False,
            tooltip="moving average over this many steps",
        )
        self.log_scale = widgets.Checkbox(value=False, description="log scale (loss)", indent=False)
        self._groups = {
            "start": [self.start_button],
            "pause": [self.pause_button],
            "step": [self.step_button, self.step_size_input],
            "reset": [self.reset_button],
            "settings": [
                self.steps_input,
                self.particles_input,
                self.optim_dropdown,
                self.elbo_dropdown,
            ],
        }

    def rows(self) -> list:
        return [
            widgets.HBox(
                [
                    self.start_button,
                    self.pause_button,
                    self.step_button,
                    self.step_size_input,
                    self.reset_button,
                ]
            ),
            widgets.HBox([self.lr_slider, self.steps_input, self.particles_input]),
            widgets.HBox([self.optim_dropdown, self.elbo_dropdown]),
            widgets.HBox([self.smoothing, self.log_scale]),
        ]

    def enable_for(self, state: str) -> None:
        """Enable what makes sense in ``state``: one run at a time, settings only when idle."""
        enabled = _ENABLED[state]
        for group, members in self._groups.items():
            for widget in members:
                widget.disabled = group not in enabled
        self.start_button.description = "Resume" if state == "paused" else "Start"
        self.pause_button.description = "Pause"

    def apply_settings(self, trainer, optim_args: dict, running: bool) -> str:
        """Rebuild ``trainer`` from the optimiser/ELBO/particles widgets (see the module
        docstring); returns the note for the status line. On a refusal or a bad value the
        widgets go back to what the trainer uses, and the error is raised."""
        try:
            if running:
                raise ValueError(
                    "The optimiser, ELBO and particles can only change while training is "
                    "paused or idle: press Pause first."
                )
            dropped = rebuild_trainer(
                trainer,
                self.optim_dropdown.value,
                self.elbo_dropdown.value,
                self.particles_input.value,
                optim_args,
            )
        except Exception:
            self.show_settings_of(trainer)
            raise
        note = "settings changed: parameters reset (same seed), training restarts"
        if dropped:
            note += f"; option(s) {', '.join(dropped)} do not apply to this optimiser"
        return note

    def show_settings_of(self, trainer) -> None:
        """Set the rebuild widgets to the trainer's values (their observers see ``syncing``)."""
        self.syncing = True
        try:
            self.optim_dropdown.value = trainer.optim_choice
            self.elbo_dropdown.value = trainer.elbo_choice
            self.particles_input.value = trainer.num_particles
        finally:
            self.syncing = False


def _button(description: str, icon: str, tooltip: str, style: str = "") -> widgets.Button:
    return widgets.Button(
        description=description,
        icon=icon,
        tooltip=tooltip,
        button_style=style,
        layout=widgets.Layout(width="auto"),
    )


def _int_input(value: int, description: str, high: int, width: str) -> widgets.BoundedIntText:
    """A number box whose label takes only the room it needs ("initial"): with ipywidgets'
    default label width a 110 px "N" box left 20 px for the number, which could not be read."""
    return widgets.BoundedIntText(
        value=value,
        min=1,
        max=high,
        description=description,
        style={"description_width": "initial"},
        layout=widgets.Layout(width=width),
    )
