"""Checking a student's guide: vilab's diagnostics first (a wrong site name, a scale with no
positivity constraint, a Normal on a positive latent...), then a short training run and
the posterior it reaches against the exercise's reference (exact, CAVI or NUTS).

The run is short and fixed (the exercise's options, a few hundred steps): the verdict does
not depend on smoke mode, and a correct guide reaches the reference within the tolerance.
"""

from __future__ import annotations

import re
import warnings

import torch

from ...checks import diagnose
from ...checks.messages import closest_name
from ...engine import Trainer
from .feedback import Feedback, is_blank, not_done, verdict


def first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return match.group(1) if match else text.strip()


def diagnostic_problems(model, guide, args: tuple, kwargs=None) -> list[str]:
    """vilab's diagnostics of the pair, one short sentence and its fix each."""
    found = diagnose(model, guide, args, kwargs)
    unknown = [d.site for d in found if d.code == "unknown-guide-site"]
    latent = [d.site for d in found if d.code == "missing-guide-site"]
    typos = {closest_name(site, latent) for site in unknown} - {None}
    problems = []
    for diagnostic in found:
        if diagnostic.code in ("stale-param-value", "stale-param-shape"):
            continue  # about the global store, not about the answer
        if diagnostic.code == "missing-guide-site" and diagnostic.site in typos:
            continue  # said once, by the misspelt site
        fix = f" Fix: {first_sentence(diagnostic.fix)}" if diagnostic.fix else ""
        problems.append(f"{first_sentence(diagnostic.message)}{fix}")
    return problems


def posterior_moments(trainer: Trainer, sites, num_samples: int = 2000) -> dict:
    """Mean and sd of each site's draws from the trained guide."""
    draws = trainer.sample_posterior(num_samples, return_sites=list(sites))
    moments = {}
    for site in sites:
        values = draws[site].reshape(num_samples, -1).double()
        moments[site] = (values.mean(0).squeeze(), values.std(0).squeeze())
    return moments


def compare_moments(
    moments: dict, reference: dict, name: str, mean_tol: float = 0.25, sd_tol: float = 0.2
) -> list[str]:
    """Problems where q's mean is more than ``mean_tol`` reference sds away, or its sd more
    than ``sd_tol`` (relative) away, from the ``name`` posterior."""
    problems = []
    for site, (ref_mean, ref_sd) in reference.items():
        mean, sd = moments[site]
        ref_mean, ref_sd = torch.as_tensor(ref_mean).double(), torch.as_tensor(ref_sd).double()
        mean_gap = ((mean - ref_mean).abs() / ref_sd).max()
        if mean_gap > mean_tol:
            percent = float(((mean - ref_mean).abs() / ref_mean.abs().clamp(min=1e-8)).max())
            problems.append(
                f"q({site}) has mean {_show(mean)}; the {name} posterior's is {_show(ref_mean)} "
                f"({100 * percent:.1f}% away, {float(mean_gap):.1f} posterior sds)."
            )
        sd_gap = float(((sd - ref_sd).abs() / ref_sd).max())
        if sd_gap > sd_tol:
            problems.append(
                f"q({site}) has sd {_show(sd)}; the {name} posterior's is {_show(ref_sd)} "
                f"({100 * sd_gap:.0f}% away)."
            )
    return problems


def _show(value) -> str:
    flat = torch.as_tensor(value).flatten()
    if flat.numel() == 1:
        return f"{float(flat[0]):.3f}"
    return (
        "["
        + ", ".join(f"{float(v):.3f}" for v in flat[:3])
        + (", ...]" if flat.numel() > 3 else "]")
    )


def train_briefly(task: str, model, guide, args: tuple, build, num_steps: int, kwargs=None):
    """The start every guide check shares: "not done" for a blank, vilab's diagnostics in
    plain words, then ``build()`` (a Trainer on the student's guide) trained ``num_steps``
    steps. Returns ``(trainer, None)``, or ``(None, feedback)`` when it stops early: a check
    reports, it never crashes the notebook."""
    if is_blank(guide):
        return None, not_done(task, "guide")
    try:
        problems = diagnostic_problems(model, guide, args, kwargs)
    except NotImplementedError:
        return None, not_done(task, "guide")
    except Exception as error:
        return None, verdict(task, [f"Running your guide raised {type(error).__name__}: {error}"])
    if problems:
        return None, verdict(task, problems)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer = build()
            trainer.run(num_steps, progress=False)
    except Exception as error:  # divergence, shape errors...: report, do not crash
        return None, verdict(task, [f"Training your guide failed: {type(error).__name__}: {error}"])
    return trainer, None


def check_guide(
    task: str,
    guide,
    model,
    args: tuple,
    reference: dict,
    *,
    reference_name: str,
    num_steps: int,
    options: dict,
    mean_tol: float = 0.25,
    sd_tol: float = 0.2,
) -> Feedback:
    """Diagnose, train ``num_steps`` with ``options`` and compare with ``reference``
    ({site: (mean, sd)})."""

    def build():
        return Trainer(model, guide, args=args, seed=0, check=False, **options)

    trainer, failed = train_briefly(task, model, guide, args, build, num_steps)
    if failed is not None:
        return failed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moments = posterior_moments(trainer, reference)
    except Exception as error:
        return verdict(task, [f"Training your guide failed: {type(error).__name__}: {error}"])
    problems = compare_moments(moments, reference, reference_name, mean_tol, sd_tol)
    summary = "; ".join(
        f"q({site}) mean {_show(moments[site][0])}, sd {_show(moments[site][1])} "
        f"({reference_name}: {_show(reference[site][0])}, {_show(reference[site][1])})"
        for site in reference
    )
    note = f"After {num_steps} steps, {summary}."
    if problems:
        note = f"The site names, supports and constraints are right ({num_steps} steps trained)."
    return verdict(task, problems, note=note)
