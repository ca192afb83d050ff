"""The two neural networks of the VAE exercise: the encoder (inference network) behind
q(z|x) and the decoder (generative network) behind p(x|z), and :class:`VAE`, the pair
that the exercise's model and guide use (with ``encode``/``decode`` for the pictures);
:func:`elbo_split` measures what the pair makes of images (reconstruction and KL).

Plain ``torch.nn`` modules, so the same networks serve the exercise, the benchmark's
hand-written Pyro loop and anyone who wants to try another architecture.

    >>> encoder, decoder = Encoder(z_dim=2), Decoder(z_dim=2)
    >>> z_loc, z_scale = encoder(torch.zeros(5, 784))
    >>> decoder(z_loc).shape            # logits of the 784 pixel probabilities
    torch.Size([5, 784])
"""

from __future__ import annotations

import pyro.distributions as dist
import torch
from torch import nn
from torch.distributions import kl_divergence
from torch.nn import functional

from ..device import resolve_device
from ..validation import whole_number

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
    z_dim = whole_number("z_dim", z_dim, fix="2 draws the latent space as it is; try 10.")
    hidden_dim = whole_number("hidden_dim", hidden_dim, fix="the course uses 400.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder, decoder = Encoder(z_dim, hidden_dim), Decoder(z_dim, hidden_dim)
    return encoder.to(device), decoder.to(device)


class VAE:
    """An encoder and a decoder on one device: what :func:`vilab.exercises.vae.model` and
    ``guide`` use (``networks=``), and the way from images to codes and back."""

    def __init__(
        self, z_dim: int = 2, hidden_dim: int = 400, seed: int = 0, device=None, networks=None
    ):
        """``networks``: your own (encoder, decoder) pair, with the interfaces of
        :class:`Encoder` and :class:`Decoder`."""
        self.device = pick_device(device)
        self.z_dim, self.hidden_dim = z_dim, hidden_dim
        if networks is None:
            self.encoder, self.decoder = make_networks(z_dim, hidden_dim, seed, self.device)
        else:
            self.encoder, self.decoder = (net.to(self.device) for net in networks)

    @torch.no_grad()
    def encode(self, x) -> torch.Tensor:
        """The encoder means E_q[z|x] (N x z_dim), the usual point in latent space of x."""
        return self.encoder(torch.as_tensor(x, device=self.device))[0].cpu()

    @torch.no_grad()
    def decode(self, z) -> torch.Tensor:
        """The decoder's mean image (pixel probabilities, N x 784) at latent points z."""
        z = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        return torch.sigmoid(self.decoder(z)).cpu()

    def reconstruct(self, x) -> torch.Tensor:
        """decode(encode(x)): what the VAE makes of the images x."""
        return self.decode(self.encode(x))


def elbo_split(vae: VAE, x) -> tuple[float, float]:
    """(reconstruction, KL) per image on ``x``: E_q[log p(x|z)] with one z per image, and
    KL(q(z|x) || N(0, I)) in closed form. Their difference is the ELBO."""
    x = torch.as_tensor(x, device=vae.device)
    with torch.no_grad():
        z_loc, z_scale = vae.encoder(x)
        z = z_loc + z_scale * torch.randn_like(z_loc)
        recon = dist.Bernoulli(logits=vae.decoder(z)).log_prob(x).sum(-1)
        kl = kl_divergence(dist.Normal(z_loc, z_scale), dist.Normal(0.0, 1.0)).sum(-1)
    return float(recon.mean()), float(kl.mean())


def pick_device(device=None) -> torch.device:
    """``None`` picks the GPU when there is one, else the CPU; "cuda" without one explains
    (:func:`vilab.device.resolve_device`, with None meaning "auto")."""
    return resolve_device("auto" if device is None else device)
