"""vilab.kl: reverse KL picks a mode, forward KL matches moments, the quadrature agrees
with closed forms, and the answer checks say what is wrong."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import optimize, stats

from vilab import kl
from vilab.kl.fitting import NUM_STEPS, make_guide, make_model

SEPARATION, WEIGHT = 8.0, 0.3  # modes at -4 (weight 0.3) and +4 (weight 0.7), sd 1


@pytest.fixture(scope="module")
def separated_fit():
    target = kl.two_modes(separation=SEPARATION, weight=WEIGHT)
    trainer = kl.make_reverse_kl_trainer(target, seed=0)
    trainer.run(NUM_STEPS, progress=False)
    return target, trainer


def test_reverse_kl_puts_q_on_one_mode(separated_fit):
    target, trainer = separated_fit
    loc, scale = kl.q_params(trainer)
    modes = [m for _, m, _ in target.components]
    nearest = min(modes, key=lambda m: abs(loc - m))
    assert abs(loc - nearest) < 0.1 * SEPARATION  # measured 0.004 (loc 4.0038)
    assert abs(loc - nearest) < 0.02
    assert scale == pytest.approx(1.0, rel=0.02)  # the component's sd; measured 1.0025
    # the SVI answer is the deterministic quadrature optimum from the same start
    opt_loc, opt_scale = kl.reverse_kl_optimum(target)
    assert loc == pytest.approx(opt_loc, abs=0.02) and scale == pytest.approx(opt_scale, rel=0.01)
    # and its ELBO is -KL(q||p): a fresh estimate agrees with the quadrature value
    split = kl.kl_split(target, loc, scale)
    assert split.reverse_kl == pytest.approx(-math.log(0.7), abs=0.01)
    assert -np.mean(trainer.history.elbo[-100:]) == pytest.approx(split.reverse_kl, abs=0.01)


def test_equal_modes_still_pick_one_mode():
    loc, scale = kl.fit(kl.two_modes(separation=8.0, weight=0.5), "reverse", num_steps=400)
    assert abs(abs(loc) - 4.0) < 0.1 * 8.0 and scale == pytest.approx(1.0, rel=0.05)


def test_forward_kl_matches_the_mixture_mean_and_sd():
    target = kl.two_modes(separation=SEPARATION, weight=WEIGHT)
    mean = WEIGHT * -4.0 + (1 - WEIGHT) * 4.0  # 1.6
    sd = math.sqrt(1.0 + 16.0 - mean**2)  # 3.8
    loc, scale = kl.fit(target, "forward")
    assert loc == pytest.approx(mean, rel=0.01) and scale == pytest.approx(sd, rel=0.01)
    # independently: minimise KL(p||q) computed by plain quadrature of p log(p/q)
    z = np.linspace(-30, 30, 60001)
    p = target.pdf(z)

    def forward_kl(theta):
        log_q = stats.norm.logpdf(z, theta[0], math.exp(theta[1]))
        return np.trapezoid(p * (np.log(np.maximum(p, 1e-300)) - log_q), z)

    result = optimize.minimize(forward_kl, [0.0, 0.0], method="Nelder-Mead", tol=1e-10)
    assert result.x[0] == pytest.approx(mean, rel=0.01)
    assert math.exp(result.x[1]) == pytest.approx(sd, rel=0.01)
    split = kl.kl_split(target, loc, scale)
    assert split.forward_kl == pytest.approx(result.fun, abs=1e-4)


def test_with_one_mode_both_directions_agree():
    target = kl.two_modes(separation=0.0, weight=0.5)  # N(0, 1)
    reverse = kl.fit(target, "reverse")  # measured (0.0042, 1.0022)
    forward = kl.fit(target, "forward")
    assert forward == pytest.approx((0.0, 1.0), abs=1e-9)
    assert reverse == pytest.approx(forward, abs=0.02)


def test_kl_split_agrees_with_closed_forms():
    target = kl.two_modes(separation=0.0)  # N(0, 1): KLs of two Gaussians in closed form
    split = kl.kl_split(target, loc=1.0, scale=0.5)
    assert split.reverse_kl == pytest.approx(kl.gaussian_kl(1.0, 0.5, 0.0, 1.0), abs=1e-6)
    assert split.forward_kl == pytest.approx(kl.gaussian_kl(0.0, 1.0, 1.0, 0.5), abs=1e-6)
    assert split.entropy_p == pytest.approx(0.5 * math.log(2 * math.pi * math.e), abs=1e-6)
    assert split.reverse_kl == pytest.approx(split.cross_entropy_qp - split.entropy_q)
    assert split.forward_kl == pytest.approx(split.cross_entropy_pq - split.entropy_p)


@pytest.mark.parametrize(
    "target, scipy_dist",
    [
        (kl.heavy_tailed(df=4.0), stats.t(4.0)),
        (kl.skewed(skew=5.0), None),
        (kl.two_modes(3.0, 0.2), None),
    ],
)
def test_targets_are_normalised_with_the_stated_moments(target, scipy_dist):
    z = np.linspace(-200, 200, 400001)
    p = target.pdf(z)
    assert np.trapezoid(p, z) == pytest.approx(1.0, abs=1e-6)
    assert np.trapezoid(z * p, z) == pytest.approx(target.mean, abs=1e-5)
    assert np.sqrt(np.trapezoid((z - target.mean) ** 2 * p, z)) == pytest.approx(
        target.sd, rel=2e-3
    )
    if scipy_dist is not None:
        np.testing.assert_allclose(p[::1000], scipy_dist.pdf(z[::1000]), atol=1e-12)
        assert kl.target_entropy(target) == pytest.approx(scipy_dist.entropy(), abs=1e-5)


def test_skew_normal_matches_scipy_and_samples_its_moments():
    target = kl.skewed(skew=5.0)
    p = target.params
    z = np.linspace(-4, 4, 9)
    want = stats.skewnorm.pdf(z, 5.0, loc=p["loc"], scale=p["scale"])
    np.testing.assert_allclose(target.pdf(z), want, rtol=1e-10)
    torch.manual_seed(0)
    draws = target.distribution().rsample((200_000,))
    assert float(draws.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(draws.std()) == pytest.approx(1.0, abs=0.01)


def test_the_model_is_the_target_and_the_guide_a_gaussian():
    import pyro.poutine as poutine

    target = kl.two_modes(6.0, 0.3)
    guide_trace = poutine.trace(make_guide(1.0, 2.0)).get_trace()
    model_trace = poutine.trace(poutine.replay(make_model(target), guide_trace)).get_trace()
    z = guide_trace.nodes["z"]["value"].detach()
    log_p = model_trace.nodes["z"]["fn"].log_prob(z).detach()
    assert log_p.item() == pytest.approx(target.log_prob(z.detach().double()).item(), abs=1e-5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: kl.two_modes(separation=-1.0), r"separation must be in \[0, inf\], got -1.0"),
        (lambda: kl.two_modes(weight=1.5), r"weight must be in \[0, 1\], got 1.5"),
        (lambda: kl.heavy_tailed(df=2.0), r"df must be in \(2, .*variance is infinite"),
        (
            lambda: kl.make_target("bimodal"),
            r"kind must be one of 'two modes', 'skewed', 'heavy tails'",
        ),
        (lambda: kl.fit(kl.skewed(), "backward"), r"Expected direction 'reverse'"),
        (lambda: kl.kl_split(kl.skewed(), 0.0, -1.0), r"Expected a finite loc and a scale > 0"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_non_target_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"Expected a vilab.kl Target, got str. Fix: build"):
        kl.make_reverse_kl_trainer("two modes")


# -- answer checks of the notebook's fill-in tasks ----------------------------------------


def _blank(*args):
    raise NotImplementedError()


@pytest.mark.parametrize(
    "answer, ok, message",
    [
        (kl.coin_entropy, True, "Correct: H(0.5) = ln 2"),
        (_blank, False, "Not done yet"),
        (lambda p: -p * math.log2(p) - (1 - p) * math.log2(1 - p), False, "in bits"),
        (lambda p: p * math.log(p) + (1 - p) * math.log(1 - p), False, "sign is wrong"),
        (lambda p: -p * math.log(p), False, "add the tails term"),
        (lambda p: -p * math.log(p) - (1 - p) * math.log(1 - p), False, "H(0) and H(1)"),
        (lambda p: 0.5, False, "for p = 0.1 you gave 0.5000, expected 0.3251"),
    ],
)
def test_check_coin_entropy(answer, ok, message, capsys):
    assert kl.check_coin_entropy(answer) is ok
    assert message in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, ok, message",
    [
        (kl.gaussian_kl, True, "Correct: KL(N(1, 0.5) || N(0, 2)) = 1.0425"),
        (_blank, False, "Not done yet"),
        (lambda mq, sq, mp, sp: kl.gaussian_kl(mp, sp, mq, sq), False, "roles are swapped"),
        (
            lambda mq, sq, mp, sp: kl.gaussian_kl(mq, sq**0.5, mp, sp**0.5),
            False,
            "scales as variances",
        ),
        (lambda *a: kl.gaussian_kl(*a) + 0.5, False, "-1/2 is missing"),
        (lambda *a: "x", False, "raised ValueError"),
    ],
)
def test_check_gaussian_kl(answer, ok, message, capsys):
    assert kl.check_gaussian_kl(answer) is ok
    assert message in capsys.readouterr().out


def test_support_check_reads_a_mixture_as_its_components():
    """vilab.checks once flagged a Normal guide on a mixture of Normals (support wrapped in
    MixtureSameFamilyConstraint); a mixture of Gammas must still be flagged."""
    import pyro
    import pyro.distributions as dist

    from vilab import checks

    def mixture_model(components):
        def model():
            pyro.sample("z", dist.MixtureSameFamily(dist.Categorical(torch.ones(2)), components))

        return model

    normals = dist.Normal(torch.tensor([-2.0, 2.0]), torch.ones(2))
    gammas = dist.Gamma(torch.tensor([2.0, 3.0]), torch.ones(2))
    guide = make_guide(0.5, 1.0)
    codes = lambda model: {d.code for d in checks.diagnose(model, guide)}  # noqa: E731
    assert "support-mismatch" not in codes(mixture_model(normals))
    assert "support-mismatch" in codes(mixture_model(gammas))
