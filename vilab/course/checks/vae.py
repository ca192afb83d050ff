"""Answer checks for notebook 08 (the VAE): a better encoder and a better decoder, each an
``nn.Module`` with the interfaces of :mod:`vilab.exercises.vae_networks` and at least two
hidden layers. The checks run the networks on a batch (shapes, a positive scale, logits
rather than probabilities, one gradient step through the ELBO); the notebook then trains
them and compares held-out ELBOs.

    from vilab.course.checks import vae as check
    check.encoder(BetterEncoder)
    check.decoder(BetterDecoder)
"""

from __future__ import annotations

import torch
from torch import nn

from .feedback import is_blank, not_done, verdict

Z_DIM, NUM_PIXELS, BATCH = 2, 784, 16
MIN_HIDDEN_LAYERS = 2


def _build(answer, what: str):
    """An instance of the student's class (or the instance itself), or a problem sentence."""
    if isinstance(answer, nn.Module):
        return answer, None
    if not (isinstance(answer, type) and issubclass(answer, nn.Module)):
        return None, f"Expected an nn.Module class (or instance), got {type(answer).__name__}."
    try:
        return answer(Z_DIM), None
    except NotImplementedError:
        raise
    except TypeError as error:
        return None, f"{what}(z_dim=2) failed: {error}. Fix: take z_dim as the first argument."


def _hidden_layers(net: nn.Module, num_heads: int) -> int:
    return sum(isinstance(m, nn.Linear) for m in net.modules()) - num_heads


def _blank(answer) -> bool:
    return is_blank(answer) or (
        isinstance(answer, type) and any(is_blank(f) for f in vars(answer).values() if callable(f))
    )


def encoder(answer) -> object:
    """x (B x 784) -> (loc, scale), each B x 2, scale > 0; two or more hidden layers."""
    task = "a better encoder"
    if _blank(answer):
        return not_done(task, "encoder")
    try:
        net, problem = _build(answer, "Encoder")
        if problem:
            return verdict(task, [problem])
        out = net(torch.rand(BATCH, NUM_PIXELS).round())
    except NotImplementedError:
        return not_done(task, "encoder")
    except Exception as error:
        return verdict(task, [f"Running your encoder raised {type(error).__name__}: {error}"])
    if not (isinstance(out, tuple) and len(out) == 2):
        return verdict(task, ["Expected the encoder to return (loc, scale), two tensors."])
    loc, scale = out
    problems = [
        f"{name} has shape {tuple(t.shape)}; expected ({BATCH}, {Z_DIM}): one row per image."
        for name, t in (("loc", loc), ("scale", scale))
        if tuple(t.shape) != (BATCH, Z_DIM)
    ]
    if not problems and not bool((scale > 0).all()):
        problems.append(
            "Some scales are <= 0: a standard deviation must be positive. Fix: pass the "
            "scale head through softplus (and add a small 1e-4)."
        )
    if _hidden_layers(net, 2) < MIN_HIDDEN_LAYERS:
        problems.append(
            f"Your encoder has {_hidden_layers(net, 2)} hidden layer(s); the task asks for at "
            f"least {MIN_HIDDEN_LAYERS} (e.g. 784 -> 256 -> 64, then the loc and scale heads)."
        )
    count = sum(p.numel() for p in net.parameters())
    return verdict(task, problems, note=f"Shapes and signs are right; {count:,} weights.")


def decoder(answer) -> object:
    """z (B x 2) -> logits (B x 784); two or more hidden layers."""
    task = "a better decoder"
    if _blank(answer):
        return not_done(task, "decoder")
    try:
        net, problem = _build(answer, "Decoder")
        if problem:
            return verdict(task, [problem])
        z = torch.randn(BATCH, Z_DIM, requires_grad=True)
        logits = net(z)
    except NotImplementedError:
        return not_done(task, "decoder")
    except Exception as error:
        return verdict(task, [f"Running your decoder raised {type(error).__name__}: {error}"])
    problems = []
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (BATCH, NUM_PIXELS):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        return verdict(task, [f"Expected logits of shape ({BATCH}, {NUM_PIXELS}), got {shape}."])
    if bool(((logits >= 0) & (logits <= 1)).all()):
        problems.append(
            "All outputs lie in [0, 1]: these look like probabilities (a final sigmoid). The "
            "model uses Bernoulli(logits=decoder(z)): return the logits, without the sigmoid."
        )
    logits.sum().backward()
    if z.grad is None or not bool(torch.isfinite(z.grad).all()):
        problems.append("No finite gradient flows from the logits back to z.")
    if _hidden_layers(net, 1) < MIN_HIDDEN_LAYERS:
        problems.append(
            f"Your decoder has {_hidden_layers(net, 1)} hidden layer(s); the task asks for at "
            f"least {MIN_HIDDEN_LAYERS} (e.g. 2 -> 64 -> 256 -> 784)."
        )
    count = sum(p.numel() for p in net.parameters())
    return verdict(task, problems, note=f"Shapes and gradients are right; {count:,} weights.")
