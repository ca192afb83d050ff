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
