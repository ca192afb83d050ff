"""The closed-form side of probabilistic PCA (Tipping & Bishop, 1999), what the trained
W's of :mod:`.ppca` are judged by: the maximum-likelihood W, the length of the exact joint
MAP, the marginal log-likelihood with z integrated out, and two rotation-free distances
between fits. Also the model's fixed settings, shared by the exercise and these formulas.
"""

from __future__ import annotations

import pyro.distributions as dist
import torch

from ..data_matrix import check_data_matrix, check_latent_dim

LATENT_DIM, NOISE_SCALE, W_SCALE = 1, 0.5, 2.0  # K, sigma (known), prior scale of W


def closed_form_ml(x, latent_dim: int = LATENT_DIM, noise_scale: float = NOISE_SCALE):
    """W_ML = U_K (L_K - sigma^2 I)^(1/2) (Tipping & Bishop, 1999, with sigma known), from the
    eigenpairs of S = X^T X / N (the model has no mean: centre the data first)."""
    x = check_data_matrix(x).double()
    check_latent_dim(latent_dim, x.shape[1])
    eigenvalues, eigenvectors = torch.linalg.eigh(x.T @ x / len(x))  # ascending order
    top, vectors = eigenvalues.flip(0)[:latent_dim], eigenvectors.flip(1)[:, :latent_dim]
    return (vectors * (top - noise_scale**2).clamp(min=0).sqrt()).float()


def joint_map_norms(x, latent_dim=LATENT_DIM, noise_scale=NOISE_SCALE, w_scale=W_SCALE):
    """Column lengths of the exact joint MAP of (W, z): a_k^2 = s sqrt(N lambda_k) - sigma^2,
    with s the prior scale of W. Grows like N^(1/4): no number of points makes it W_ML."""
    x = check_data_matrix(x).double()
    top = torch.linalg.eigvalsh(x.T @ x / len(x)).flip(0)[:latent_dim]
    return (w_scale * (len(x) * top).sqrt() - noise_scale**2).clamp(min=0).sqrt().float()


def marginal_log_likelihood(w, x, noise_scale: float = NOISE_SCALE) -> float:
    """log p(x | W) per point, z integrated out: x_n ~ N(0, W W^T + sigma^2 I)."""
    x, w = check_data_matrix(x), torch.as_tensor(w, dtype=torch.float32)
    diag = torch.full((x.shape[1],), noise_scale**2)
    marginal = dist.LowRankMultivariateNormal(torch.zeros(x.shape[1]), w, diag)
    return float(marginal.log_prob(x).mean())


def subspace_cosine(w, w_ref) -> float:
    """Cosine of the largest principal angle between the column spans of two W's: |cos| of
    the two directions when K = 1; 1 when the spans agree, whatever the rotation."""
    q, _ = torch.linalg.qr(torch.as_tensor(w, dtype=torch.float64))
    q_ref, _ = torch.linalg.qr(torch.as_tensor(w_ref, dtype=torch.float64))
    return float(torch.linalg.svdvals(q.T @ q_ref).min())


def relative_frobenius(w, w_ref) -> float:
    """||W W^T - W_ref W_ref^T||_F / ||W_ref W_ref^T||_F: rotation-free distance of two fits."""
    w, w_ref = torch.as_tensor(w, dtype=torch.float64), torch.as_tensor(w_ref, dtype=torch.float64)
    return float(torch.linalg.norm(w @ w.T - w_ref @ w_ref.T) / torch.linalg.norm(w_ref @ w_ref.T))
