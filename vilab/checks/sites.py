"""Do the model and the guide talk about the same random variables, with the same shapes?

Pyro matches guide and model sample sites by *name* only, and forgives a lot in silence:
a latent the guide forgets is drawn from the prior at every step (pyro issue #2288), a
misspelt guide site is simply ignored by the model, and a guide site of the wrong shape
is broadcast. Each of these gives a wrong posterior without any error.
"""

from __future__ import annotations

import math

from .messages import Diagnostic, closest, closest_name, describe_site
from .traces import guide_sites, latent_sites, observed_sites, sample_sites


def _names(sites) -> str:
    return "[" + ", ".join(repr(name) for name in sites) + "]"


def missing_guide_sites(model_trace, guide_trace) -> list[Diagnostic]:
    """Latent sites of the model that the guide does not sample (diagnostic 1)."""
    guide = guide_sites(guide_trace)
    latent = latent_sites(model_trace)
    found = []
    for name in latent:
        if name in guide:
            continue
        found.append(
            Diagnostic(
                "missing-guide-site",
                name,
                f"The model samples {name!r} but the guide does not. Pyro then silently "
                f"draws {name!r} from its prior at every step, so its 'posterior' is just "
                f"the prior and the rest of the answer is wrong too (pyro issue #2288).",
                model=f"latent sites {_names(latent)}; " + describe_site(model_trace.nodes[name]),
                guide=f"sample sites {_names(guide)}" + _typo_hint(name, guide),
                fix=f"add pyro.sample({name!r}, ...) to the guide, spelt exactly as in the "
                f"model. If {name!r} is your data, pass it to the model: a site whose "
                f"obs=None is a latent variable.",
            )
        )
    return found


def _typo_hint(name: str, guide) -> str:
    match = closest_name(name, guide)
    return f" ({match!r} looks like a misspelling of {name!r})" if match else ""


def unknown_guide_sites(model_trace, guide_trace) -> list[Diagnostic]:
    """Guide sites with no model site of that name, usually a typo (diagnostic 2)."""
    model = sample_sites(model_trace)
    latent = latent_sites(model_trace)
    found = []
    for name, site in guide_sites(guide_trace).items():
        if name in model:
            continue
        found.append(
            Diagnostic(
                "unknown-guide-site",
                name,
                f"The guide samples {name!r}, but the model has no site of that name. Pyro "
                f"pairs sites by name, so this guide distribution approximates nothing."
                + closest(name, latent),
                model=f"latent sites {_names(latent)}",
                guide=describe_site(site),
                fix=_rename_fix(name, latent),
            )
        )
    return found


def _rename_fix(name: str, latent: list[str]) -> str:
    match = closest_name(name, latent)
    if match is not None:
        return f"rename the guide's site to {match!r}: pyro.sample({match!r}, ...)."
    return "give the guide's site the exact name of a model latent site, or remove it."


def guide_samples_observed(model_trace, guide_trace) -> list[Diagnostic]:
    """Guide sites that the model observes (diagnostic 3)."""
    data = observed_sites(model_trace)
    found = []
    for name, site in guide_sites(guide_trace).items():
        if name not in data:
            continue
        found.append(
            Diagnostic(
                "guide-samples-observed",
                name,
                f"The guide samples {name!r}, but in the model {name!r} is observed data "
                f"(obs=...). The guide approximates the posterior of the *latent* variables "
                f"only; sampling the data there adds a meaningless term to the ELBO.",
                model=describe_site(data[name]) + ", observed",
                guide=describe_site(site),
                fix=f"remove pyro.sample({name!r}, ...) from the guide.",
            )
        )
    return found


def shape_mismatch(model_trace, guide_trace) -> list[Diagnostic]:
    """Latent sites whose guide distribution has another batch or event shape (diagnostic 5).

    Same total shape but a different split is the classic missing ``.to_event(1)``. A
    difference only in size-1 dimensions broadcasts harmlessly today, so it is a warning.
    """
    guide = guide_sites(guide_trace)
    found = []
    for name in latent_sites(model_trace):
        if name not in guide:
            continue
        m_fn, g_fn = model_trace.nodes[name]["fn"], guide[name]["fn"]
        m_batch, m_event = tuple(m_fn.batch_shape), tuple(m_fn.event_shape)
        g_batch, g_event = tuple(g_fn.batch_shape), tuple(g_fn.event_shape)
        if (m_batch, m_event) == (g_batch, g_event):
            continue
        model_text = describe_site(model_trace.nodes[name])
        guide_text = describe_site(guide[name])
        if m_batch + m_event == g_batch + g_event:
            n = len(m_event) - len(g_event)
            if n > 0:
                message = (
                    f"{name!r} has the right total shape {m_batch + m_event}, but the model "
                    f"treats its last {n} dimension(s) as one vector (event) while the guide "
                    f"treats them as independent copies (batch): the guide's log-density "
                    f"has the wrong shape."
                )
                fix = (
                    f"declare the event dimension(s) in the guide: "
                    f"pyro.sample({name!r}, dist.Normal(loc, scale).to_event({n}))."
                )
            else:
                message = (
                    f"{name!r} has the right total shape {m_batch + m_event}, but the guide "
                    f"groups {-n} more dimension(s) into one event than the model does."
                )
                fix = (
                    "use the same .to_event(...) as the model, or put the guide's site in "
                    "the same pyro.plate as the model's."
                )
        else:
            message = (
                f"The model's {name!r} has shape {m_batch + m_event} but the guide's has "
                f"{g_batch + g_event}: Pyro broadcasts one against the other, so the elements "
                f"do not each get their own posterior."
            )
            fix = (
                f"give the guide's parameters for {name!r} the model's shape "
                f"{m_batch + m_event}, and sample it inside the same pyro.plate(...) "
                f"with the same .to_event(...) as the model."
            )
        size_one_only = math.prod(m_batch + m_event) == math.prod(g_batch + g_event) and (
            [s for s in m_batch + m_event if s != 1] == [s for s in g_batch + g_event if s != 1]
        )
        if size_one_only and m_event == g_event:
            continue  # only broadcastable size-1 batch dims differ: harmless
        found.append(
            Diagnostic("shape-mismatch", name, message, model=model_text, guide=guide_text, fix=fix)
        )
    return found


def empty_bodies(model_trace, guide_trace) -> list[Diagnostic]:
    """A model that samples nothing, or a pair with nothing to learn (diagnostic 13): the
    bodies are still ``...``. Pyro "trains" them happily, with loss 0.0 at every step."""
    model, guide = sample_sites(model_trace), guide_sites(guide_trace)
    has_params = any(
        site["type"] == "param"
        for trace in (model_trace, guide_trace)
        for site in trace.nodes.values()
    )
    guide_note = (
        " The guide samples nothing and declares no parameter either."
        if not guide and not has_params
        else ""
    )
    if not model:
        return [
            Diagnostic(
                "empty-model",
                None,
                "The model samples nothing: no pyro.sample ran when vilab called it, so there "
                "is no prior, no likelihood and nothing to infer. Its body may still be `...` "
                "or `pass`, or it returns before its first pyro.sample." + guide_note,
                model="no sample site",
                guide=f"sample sites {_names(guide)}",
                fix="write the model: a prior for each latent, e.g. z = pyro.sample('z', "
                "dist.Normal(0., 1.)), and the likelihood of the data, e.g. "
                "pyro.sample('x', dist.Normal(z, 1.), obs=x).",
            )
        ]
    if not has_params and set(latent_sites(model_trace)) <= set(guide):
        # (a guide missing a latent is diagnostic 1, whose fix brings parameters)
        return [
            Diagnostic(
                "nothing-to-train",
                None,
                "Neither the guide nor the model declares a parameter (pyro.param or "
                "pyro.module): the optimiser has nothing to move, so training would change "
                "nothing." + guide_note,
                model=f"sample sites {_names(model)}",
                guide=f"sample sites {_names(guide)}, no pyro.param",
                fix="give the guide learnable parameters, e.g. loc = pyro.param('loc', "
                "torch.tensor(0.)); scale = pyro.param('scale', torch.tensor(1.), "
                "constraint=constraints.positive); pyro.sample('z', dist.Normal(loc, scale)).",
            )
        ]
    return []
