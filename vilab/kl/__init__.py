"""What VI minimises, in one dimension: targets p(z), a Gaussian q(z) fitted by reverse
KL(q || p) (vilab's Trainer, as VI does) or forward KL(p || q) (moment matching), and both
divergences split into cross-entropy minus entropy, by quadrature.

    >>> from vilab import kl
    >>> p = kl.two_modes(separation=8.0, weight=0.3)
    >>> [round(v, 3) for v in kl.fit(p, "forward")]      # p's mean and sd
    [1.6, 3.8]
    >>> [round(v, 1) for v in kl.reverse_kl_optimum(p)]  # q on the heavier mode, N(4, 1)
    [4.0, 1.0]

``kl.fit(p, "reverse")`` reaches the same q by training (:mod:`vilab.kl.fitting`).

The interactive explorer is :class:`vilab.ui.kl_explorer.KLExplorer`; the notebook
``00b_what_vi_minimises.ipynb`` teaches with it.
"""

from .answers import check_coin_entropy, check_gaussian_kl, coin_entropy, gaussian_kl
from .divergence import KLSplit, kl_split, moment_match, reverse_kl_optimum, target_entropy
from .fitting import DIRECTIONS, fit, make_reverse_kl_trainer, q_params
from .targets import KINDS, Target, heavy_tailed, make_target, skewed, two_modes

__all__ = [
    "DIRECTIONS",
    "KINDS",
    "KLSplit",
    "Target",
    "check_coin_entropy",
    "check_gaussian_kl",
    "coin_entropy",
    "fit",
    "gaussian_kl",
    "heavy_tailed",
    "kl_split",
    "make_reverse_kl_trainer",
    "make_target",
    "moment_match",
    "q_params",
    "reverse_kl_optimum",
    "skewed",
    "target_entropy",
    "two_modes",
]
