"""Diagnostics that explain the classic Pyro mistakes, in the words of the course.

The Trainer runs them once, before its first step (``Trainer(..., check=False)`` skips
them): errors raise :class:`~vilab.errors.ModelGuideMismatch` listing every problem,
soft problems warn with :class:`VilabWarning`, and a :class:`DivergenceWatch` looks at
the first steps. On plain Pyro code, :func:`check` returns the diagnostics without
training, and :func:`explain` shows a deliberate mistake in a notebook without crashing it.

The catalogue (``Diagnostic.code``, number in the course, severity):

====  =======================  =======  ===============================================
 1    missing-guide-site       error    a model latent the guide forgets (pyro #2288)
 2    unknown-guide-site       error    a guide site the model lacks (typo)
 3    guide-samples-observed   error    the guide samples the data
 4    signature-mismatch       error    the guide rejects the model's arguments
 5    shape-mismatch           error    batch/event shapes differ (missing .to_event)
 6    support-mismatch         error    e.g. a Normal guide on a Gamma latent
 6    support-risk             warning  the same, with next to no guide mass outside
 6    support-narrower         warning  e.g. a Beta guide on a Normal latent
 7    unconstrained-scale      warning  a scale param with no positivity constraint
 8    missing-plate            warning  data dimension outside any plate
 8    plate-size-mismatch      error    plate size != data size
 8    data-broadcast           error    data of shape (N, 1) broadcast to (N, N)
 9    minibatch-unscaled       warning  minibatch plate without N/batch scaling
 9    subsample-not-indexed    error    subsampling plate given the full data
10    stale-param-shape        error    global store holds an old param of another shape
10    stale-param-value        warning  global store continues an earlier run
11    lr-too-large             warning  the loss climbs, or a scale jumps e-fold per step
12    data-nan                 error    NaN/inf in the data
12    data-dtype               warning  float64 / numpy / integer data
12    data-empty               error    an empty data tensor (or list)
12    data-type                error    a Python list or numpy array observed
13    empty-model              error    the model's body is still ``...``
13    nothing-to-train         error    no pyro.param / pyro.module anywhere
====  =======================  =======  ===============================================
"""

from .data import check_data, data_diagnostics
from .demo import explain
from .divergence import DivergenceWatch, watch
from .messages import CATALOGUE, Diagnostic, Diagnostics, VilabWarning, report
from .pair import check, check_traces, diagnose, diagnose_traces, trace_pair
from .traces import count_observed, latent_sites, plate_nesting, trace_guide

__all__ = [
    "CATALOGUE",
    "Diagnostic",
    "Diagnostics",
    "DivergenceWatch",
    "VilabWarning",
    "check",
    "check_data",
    "check_traces",
    "count_observed",
    "data_diagnostics",
    "diagnose",
    "diagnose_traces",
    "explain",
    "latent_sites",
    "plate_nesting",
    "report",
    "trace_guide",
    "trace_pair",
    "watch",
]
