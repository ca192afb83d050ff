"""The two neural networks of the VAE exercise: the encoder (inference network) behind
q(z|x) and the decoder (generative network) behind p(x|z).

Plain ``torch.nn`` modules, so the same networks serve the exercise, the benchmark's
hand-written Pyro loop and anyone who wants to try another architecture.

    >>> encoder, decoder = Encoder(z_dim=2), Decoder(z_dim=2)
    >>> z_loc, z_scale = encoder(torch.zeros(5, 784))
    >>> decoder(z_loc).shape            # logits of the 784 pixel probabilities
    torch.Size([5, 784])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

NUM_PIXELS = 28 * 28


class Encoder(nn.Module):
    """x (B x 784) -> (loc, scale) of the Gaussian q(z|x) = N(loc, diag(scale^2)).

    One hidden layer of ``hidden_dim`` ReLU units; the scale comes out of a softplus, so it
    is positive without the overflow an ``exp`` risks at high learning rates.
    """

    def __init__(self, z_dim: int = 2, hidden_dim: int = 400, num_pixels: int = NUM_PIXELS):
        super().__init__()
        self.hidden = nn.Linear(num_pixels, hidden_dim)
        self.loc = nn.Linear(hidden_dim, z_dim)
        self.scale = nn.Linear(hidden_dim, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = functional.relu(self.hidden(x))
        return self.loc(hidden), functional.softplus(self.scale(hidden)) + 1e-4


class Decoder(nn.Module):
    """z (B x z_dim) -> logits of the 784 Bernoulli pixel probabilities of p(x|z).

    Logits rather than probabilities: ``Bernoulli(logits=...)`` computes log p(x|z)
    without ever taking log(0). ``torch.sigmoid(decoder(z))`` gives the mean image.
    """

    def __init__(self, z_dim: int = 2, hidden_dim: int = 400, num_pixels: int = NUM_PIXELS):
        super().__init__()
        self.hidden = nn.Linear(z_dim, hidden_dim)
        self.logits = nn.Linear(hidden_dim, num_pixels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.logits(functional.relu(self.hidden(z)))


def make_networks(
    z_dim: int = 2, hidden_dim: int = 400, seed: int = 0, device: str | torch.device = "cpu"
) -> tuple[Encoder, Decoder]:
    """A freshly initialised (encoder, decoder) pair: the same ``seed`` gives the same
    initial weights, whatever else has drawn random numbers before."""
    for name, value in (("z_dim", z_dim), ("hidden_dim", hidden_dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected {name} to be a whole number >= 1, got {value!r}.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder, decoder = Encoder(z_dim, hidden_dim), Decoder(z_dim, hidden_dim)
    return encoder.to(device), decoder.to(device)
