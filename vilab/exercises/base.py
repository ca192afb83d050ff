"""What an exercise hands back after training, for the CLI and the notebooks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExerciseReport:
    """The outcome of ``<exercise>.train(...)``.

    ``trainers`` maps a label (e.g. "VI", "MAP", "Africa") to the Trainer behind it; their
    histories make the ELBO plot. ``summary`` is JSON-ready (posterior summaries, reference
    comparisons). ``figures`` maps a file stem to a matplotlib Figure.
    """

    name: str
    trainers: dict
    summary: dict
    figures: dict = field(default_factory=dict)


def choose_guide(choice, model, manual_guide):
    """The guide an exercise trains: ``"manual"`` (its hand-written guide), ``"auto"``
    (Pyro's AutoNormal on ``model``) or a guide function of your own."""
    if choice == "manual":
        return manual_guide
    if choice == "auto":
        from pyro.infer.autoguide import AutoNormal

        return AutoNormal(model)
    if callable(choice):
        return choice
    raise ValueError(f"guide_choice must be 'manual', 'auto' or a guide function, got {choice!r}.")
