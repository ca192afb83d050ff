"""What ``Trainer(model, guide, args=...)`` does when nothing else is asked, and why.

A student's own model gets these; the exercises pass their own tuned options, and any option
given explicitly wins (``optim="adam", lr=0.01, elbo="trace"`` is Pyro's textbook loop).

* ``elbo="stl"``: Trace_ELBO with the path-derivative ("sticking the landing") gradient
  (:class:`vilab.options.StickingTheLandingMixin`). Same loss, lower-variance gradient, and
  zero variance at the optimum when q can match the posterior. With the other defaults as
  they are (2 seeds, steps to the posterior, with it / with plain Trace_ELBO): temperature
  (guide starting at loc 0) 275-300 / 2,525-5,200; coin (Beta guide) 50 / 2,825 or never
  within 20 s; Poisson (Gamma guide) 625-650 / never; simple Gaussian 1,200-1,350 /
  9,475-11,075.
* ``optim="auto"``: Adam whose learning rate halves each time the parameters' path turns
  back on itself from one 50-step window to the next (rattle, not travel:
  :mod:`vilab.convergence`), down to 1/100 of the start; at each halving the parameters
  restart from the window's mean (the last iterate is off by the rattle, which a halved rate
  would take twice as long to shed). A constant rate leaves the last iterate jittering by
  about the rate (the rugged regression with AutoNormal: +-0.015 per site for ever); a
  decay fixed in advance needs the run's length; halving on evidence needs neither, and a
  guide still creeping along a ridge (a Gamma guide) keeps its rate. With the 0.98 decay
  below, the simple Gaussian's mean-field guide reached both means within 1% in
  1,125-1,475 steps (3,225-3,875 with Adam's usual 0.999); the rugged interaction
  regression came within 0.05 of its VI optimum in 225-825 steps with AutoNormal and
  250-500 with AutoMultivariateNormal (4 seeds, the autoguide starting at the MAP), was
  declared converged at steps 400-950, and stopped jittering.
* Adam's second-moment decay 0.98 (torch's default 0.999) with ``optim="auto"``: Adam divides
  each step by the root mean square of recent gradients, and with 0.999 "recent" means the
  last ~1,000 steps. A guide that starts far off (a Gamma guide at concentration 1) sees
  gradients hundreds of times larger in its first steps than later, so for a thousand steps
  its moves are tiny: the simple Gaussian's precision crept along its ridge for 3,000 steps.
  Measured (4 seeds, steps to the posterior): 0.999: Gaussian 3,225-3,875, Poisson
  1,400-1,425, temperature 400-425; 0.995: 1,825-2,175, 900-1,025, 375; 0.99: 1,325-1,950,
  725-825, 325-350; **0.98: 1,125-1,475, 625-900, 275-300**; 0.95: 1,250-1,350, 525-675,
  450-475 (the temperature's rattle grows). ``optim_args={"betas": ...}`` overrides it.
* ``lr=0.1``: Adam moves each unconstrained parameter by about ``lr`` per step, so the start
  decides how far a guide that starts at 0 travels early on (a temperature of 17.4: ~175
  steps at 0.1, 1,740 at Pyro's usual 0.01); the halving takes care of the end. Measured
  against 0.05 (same seeds): temperature 400-425 steps to the posterior against 825, Poisson
  1,400 against 2,300, coin 50 against 25.
* ``num_particles=1``: on these small models a step costs mostly Python overhead, so more
  particles cost time in proportion; the path-derivative gradient already has little noise.

* ``jit=False``. ``jit="auto"`` compiles the ELBO with PyTorch's JIT when the trainer is
  built (0.03-0.08 s) and updates with the fused Adam kernel: 2.5-3x faster steps on these
  models (temperature to the posterior 0.2 s instead of 0.6, the simple Gaussian 1.7-3.2 s
  instead of 4.4-5.2), and a model PyTorch cannot trace faithfully (a Python ``if`` on a
  tensor would be frozen) trains on the plain loop instead. It is not the default because a
  compiled ELBO skips Pyro's checks of distribution arguments at every step: a scale that
  turns negative would no longer be named by its parameter (12 of the fault and check tests
  lose their message), and teaching needs those messages more than the speed. And PyTorch
  2.13 deprecates ``torch.jit.trace``, on which Pyro's compiled ELBOs stand (a
  DeprecationWarning at every compile): a default should not lean on it.

* ``autoguide_start="map"``: an autoguide left at Pyro's start (AutoNormal, AutoMultivariate-,
  AutoDiagonal- or AutoLowRankMultivariateNormal with its class's default ``init_loc_fn``,
  never called before) starts at the mode of the log joint on the unconstrained scale, found
  by up to 50 L-BFGS iterations when the trainer is built (:mod:`vilab.autoguide_start`);
  its scales stay as Pyro set them. Pyro starts every latent at 0 (AutoNormal) or at a median
  of prior draws (the others) wherever the data put the posterior: the rugged interaction
  regression's intercept starts at 0 (or -4 to 3) and must travel to 9.2. Steps until every
  mean is within 0.05 of NUTS's (4 seeds, checked every 25; first / for good): AutoNormal
  50-225 / 225-825 instead of 400-450 / 550-850, AutoMultivariateNormal 50-200 / 250-475
  instead of 225-350 / 325-450; what remains is Adam's rattle at lr 0.1, which knocks the
  locations up to 0.16 off the mode in the first 50 steps, until the rate halves. The search
  costs 2-100 ms on the course's models (the rugged regression 0.05-0.1 s). It must end at a
  maximum (exact Hessian negative definite): a funnel (centred eight schools) has none, so
  Pyro's start and the same run (~0.15 s spent); on the non-centred schools the loss over
  the first 200 steps is lower and ends where Pyro's start takes it. AutoDelta is MAP itself:
  it is left to show its own climb.

* ``validate_every=25``: Pyro checks every distribution's arguments (a negative scale, a
  NaN mean) on the first 25 steps and every 25th step after, instead of at every step: on
  small models the checks are a fifth of a step (simple Gaussian 1.27-1.28 ms a step with
  them, 1.00-1.05 without; temperature 0.69-0.70 against 0.52-0.53). A step that fails in
  between is replayed from its random state with the checks on, so the message still names
  the bad argument; an argument that turns invalid without making the loss NaN is named at
  the next checked step. ``validate_every=1`` is Pyro's every-step checking.

Measurements behind these: ``benchmarks/bench_time_to_posterior.py`` and the closing note
of issue 13.
"""

from __future__ import annotations

DEFAULT_LR = 0.1
DEFAULT_OPTIM = "auto"
DEFAULT_AUTO_BETAS = (0.9, 0.98)  # Adam's (momentum, second-moment) decay with optim="auto"
DEFAULT_ELBO = "stl"
DEFAULT_NUM_PARTICLES = 1
DEFAULT_JIT = False
DEFAULT_VALIDATE_EVERY = 25
DEFAULT_AUTOGUIDE_START = "map"  # an autoguide left at its default start starts at the mode
