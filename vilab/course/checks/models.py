"""Checking a student's model against the exercise's: site by site, in plain words.

Both models run on the same data; the student's is *replayed* on the reference's values
of the latent variables, so every site's parameters can be compared number for number:
a wrong name, a variance or a precision where Normal wants the standard deviation, a
Gamma scale where Pyro wants the rate, a prior other than the one asked for, a missing
``obs=``, a missing plate or ``.to_event``. Nothing here trains.
"""

from __future__ import annotations

import re

import pyro.distributions as dist
import pyro.poutine as poutine
import torch
from pyro.infer.autoguide.initialization import InitMessenger, init_to_sample, init_to_value
from pyro.poutine.util import site_is_subsample

from ...checks.messages import closest_name
from ...scope import PrivateScope
from .feedback import Feedback, is_blank, not_done, verdict

RTOL, ATOL = 1e-4, 1e-5


def check_model(
    task: str, student, reference, args: tuple = (), kwargs=None, values: dict | None = None
) -> Feedback:
    """Compare ``student`` with ``reference`` (both Pyro models taking ``*args``).

    ``values`` fixes some latents where the comparison is informative (e.g. a positive
    Poisson rate); the other latents are drawn from the reference's prior, seed 0."""
    if is_blank(student):
        return not_done(task, "model")
    if not callable(student):
        return verdict(task, [f"Expected a function, got {type(student).__name__}."])
    kwargs = dict(kwargs or {})
    start = init_to_value(values=dict(values or {}), fallback=init_to_sample)
    with PrivateScope(seed=0):
        ref = poutine.trace(InitMessenger(start)(reference)).get_trace(*args, **kwargs)
        try:
            mine = _replayed(student, _latents_of(ref), args, kwargs)
            renamed = _renames(sample_sites(mine), sample_sites(ref))
            if renamed:  # replay a misnamed site on the value of the site it stands for
                mine = _replayed(student, _latents_of(ref, renamed), args, kwargs)
        except NotImplementedError:
            return not_done(task, "model")
        except Exception as error:  # the student's code failed: say where, do not crash
            return verdict(task, [_explain_failure(error)])
    problems = site_problems(sample_sites(mine), sample_sites(ref))
    if not problems:
        difference = float((mine.log_prob_sum() - ref.log_prob_sum()).detach())
        if abs(difference) > 1e-3 * max(1.0, abs(float(ref.log_prob_sum().detach()))):
            problems.append(
                f"Every site matches, but the log-density differs by {difference:.4g}: "
                "look for a site scored twice or a scale/mask applied."
            )
    note = _what_is_right(sample_sites(mine), sample_sites(ref))
    if not problems:
        note = note[:-1] + ": distributions, parameters, shapes and data match too."
    return verdict(task, problems, note=note)


def _explain_failure(error: Exception) -> str:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = f"Running your model raised {type(error).__name__}: {first_line}"
    if "Shape mismatch inside plate" in first_line:
        message += (
            ". A site holding a vector per data point needs .to_event(1) inside the plate "
            "(otherwise Pyro reads the vector's entries as more data points)."
        )
    return message


def _replayed(student, trace, args, kwargs):
    return poutine.trace(poutine.replay(student, trace=trace)).get_trace(*args, **kwargs)


def _renames(mine: dict, ref: dict) -> dict[str, str]:
    """{student's name: exercise's name} for sites that look like typos."""
    extra = [name for name in mine if name not in ref]
    renames = {}
    for name in ref:
        if name not in mine and not _indexed(name, mine):
            typo = closest_name(name, [e for e in extra if e not in renames])
            if typo is not None:
                renames[typo] = name
    return renames


def _latents_of(trace, renamed: dict[str, str] | None = None):
    """The trace's latent values, also under the student's misnamed site names (replay
    then gives a misnamed site the value of the site it stands for)."""
    latents = trace.copy()
    for name, site in trace.nodes.items():
        if site["type"] == "sample" and site["is_observed"]:
            latents.remove_node(name)  # a student's latent 'sensor' must not be replayed
    for typo, name in (renamed or {}).items():
        latents.add_node(typo, **{**trace.nodes[name], "name": typo})
    return latents


def sample_sites(trace) -> dict:
    return {
        name: site
        for name, site in trace.nodes.items()
        if site["type"] == "sample" and not site_is_subsample(site)
    }


def _what_is_right(mine: dict, ref: dict) -> str:
    same = [name for name in ref if name in mine]
    if len(same) == len(ref) == len(mine):
        return f"All {len(ref)} site names are those of the exercise."
    return f"Sites {', '.join(map(repr, same))} are there." if same else ""


def site_problems(mine: dict, ref: dict) -> list[str]:
    problems = []
    renamed = {name: typo for typo, name in _renames(mine, ref).items()}
    looped = {name: _indexed(name, mine) for name in ref if name not in mine}
    used = set(renamed.values()).union(*looped.values())
    extra = [name for name in mine if name not in ref and name not in used]
    for name, site in ref.items():
        if name not in mine and looped[name]:
            problems.append(
                f"{name!r} is written as {len(looped[name])} sites {looped[name][0]!r} ... "
                f"{looped[name][-1]!r}: inside pyro.plate one site {name!r} holds them all."
            )
            continue
        if name not in mine:
            typo = renamed.get(name)
            if typo is not None:
                problems.append(
                    f"Your site {typo!r} should be named {name!r}: site names must match the "
                    "exercise exactly (the guide and the data find variables by name)."
                )
            else:
                role = "observed" if site["is_observed"] else "latent"
                problems.append(f"The {role} site {name!r} is missing: pyro.sample({name!r}, ...).")
            continue
        problems.extend(compare_site(name, mine[name], site))
    for typo, name in ((t, n) for n, t in renamed.items()):
        problems.extend(compare_site(name, mine[typo], ref[name]))
    problems += [f"Your model has a site {name!r} the exercise does not ask for." for name in extra]
    return problems


def _indexed(name: str, names) -> list[str]:
    """Sites ``name_0, name_1, ...`` (a Python loop where the exercise has one plate site)."""
    pattern = re.compile(rf"{re.escape(name)}_?\d+$")
    return sorted(
        (n for n in names if pattern.match(n)), key=lambda n: int(re.findall(r"\d+$", n)[0])
    )


def base_distribution(fn):
    """The distribution under ``.to_event``/``.mask``/``.expand`` wrappers."""
    while isinstance(fn, (dist.Independent, dist.MaskedDistribution, dist.ExpandedDistribution)):
        fn = fn.base_dist
    return fn


def compare_site(name: str, mine: dict, ref: dict) -> list[str]:
    if ref["is_observed"] and not mine["is_observed"]:
        return [f"{name!r} is data: observe it with obs=... in pyro.sample({name!r}, ...)."]
    if mine["is_observed"] and not ref["is_observed"]:
        return [f"{name!r} is a latent variable in the exercise: remove its obs=."]
    if ref["is_observed"] and not _close(mine["value"], ref["value"]):
        return [f"{name!r} is observed with other data than the exercise gives."]
    mine_fn, ref_fn = base_distribution(mine["fn"]), base_distribution(ref["fn"])
    if type(mine_fn) is not type(ref_fn):
        return [
            f"{name!r} is a {type(mine_fn).__name__}; the exercise asks for a "
            f"{type(ref_fn).__name__}."
        ]
    problems = [
        _parameter_problem(name, type(ref_fn).__name__, param, mine_value, ref_value)
        for param, mine_value, ref_value in _parameters(mine_fn, ref_fn)
        if not _close(mine_value, ref_value)
    ]
    if problems:
        return problems
    return _shape_problems(name, mine["fn"], ref["fn"])


def _parameters(mine_fn, ref_fn):
    for param in ref_fn.arg_constraints:
        if param == "logits":
            continue  # compared as probs: sigmoid(logits) and probs are the same answer
        ref_value = getattr(ref_fn, param, None)
        if isinstance(ref_value, torch.Tensor):
            yield param, torch.as_tensor(getattr(mine_fn, param)).detach(), ref_value.detach()


def _close(a, b) -> bool:
    try:
        a, b = torch.broadcast_tensors(torch.as_tensor(a).double(), torch.as_tensor(b).double())
    except RuntimeError:
        return False
    return bool(torch.allclose(a, b, rtol=RTOL, atol=ATOL))


def _number(value: torch.Tensor) -> str:
    flat = value.flatten()
    if flat.numel() == 1 or bool((flat == flat[0]).all()):
        return f"{float(flat[0]):.4g}"
    return (
        "["
        + ", ".join(f"{float(v):.4g}" for v in flat[:3])
        + (", ...]" if flat.numel() > 3 else "]")
    )


def _parameter_problem(name, family, param, mine, ref) -> str:
    """One sentence on a parameter that differs, naming the likely confusion."""
    if param == "scale" and _close(mine, ref**2):
        return (
            f"{name!r}: you gave the variance {_number(mine)} as the scale; {family} takes the "
            f"standard deviation, {_number(ref)}."
        )
    if param == "scale" and _close(mine, 1 / ref**2):
        return (
            f"{name!r}: you gave the precision 1/sd^2 = {_number(mine)} as the scale; {family} "
            f"takes the standard deviation, {_number(ref)} (= 1/sqrt(precision))."
        )
    if param == "scale" and _close(mine, ref.sqrt()):
        return (
            f"{name!r}: you gave the scale {_number(mine)} = sqrt({_number(ref)}); the "
            f"exercise's {_number(ref)} is already the standard deviation."
        )
    if param == "rate" and _close(mine, 1 / ref) and not _close(ref, 1.0):
        return (
            f"{name!r}: you gave the scale 1/rate = {_number(mine)}; Pyro's {family} takes "
            f"the rate, {_number(ref)}."
        )
    if ref.numel() == 1 and mine.numel() == 1:
        return (
            f"{name!r} ~ {family}: its {param} is {_number(mine)}; the exercise asks for "
            f"{_number(ref)}."
        )
    return (
        f"{name!r}: {param} is {_number(mine)} in your model, {_number(ref)} in the exercise"
        " (with the same values of the other variables)."
    )


def _shape_problems(name, mine_fn, ref_fn) -> list[str]:
    mine_shape = (tuple(mine_fn.batch_shape), tuple(mine_fn.event_shape))
    ref_shape = (tuple(ref_fn.batch_shape), tuple(ref_fn.event_shape))
    if mine_shape == ref_shape:
        return []
    if mine_shape[0] + mine_shape[1] == ref_shape[0] + ref_shape[1]:
        return [
            f"{name!r} has batch shape {mine_shape[0]} and event shape {mine_shape[1]}; the "
            f"exercise has batch {ref_shape[0]}, event {ref_shape[1]}. Fix: "
            f".to_event({len(ref_shape[1])}) makes the last {len(ref_shape[1])} dims one event."
        ]
    return [
        f"{name!r} has shape {mine_shape[0] + mine_shape[1]}; the exercise's has "
        f"{ref_shape[0] + ref_shape[1]}. Fix: draw it inside the plate over the data."
    ]
