"""Reference answers and answer checks for the fill-in tasks of "What VI minimises".

Each ``check_*`` runs the student's function on a few cases, prints what is right or
wrong in plain words (the classic slips have their own message) and returns True when
the answer is right. A blank (``raise NotImplementedError``, ``...``) reports "not done
yet" instead of crashing, so Run All works on the student edition.
"""

from __future__ import annotations

import math

NOT_DONE = "Not done yet: fill in the function between the markers, then run this cell again."


def coin_entropy(p: float) -> float:
    """H(p) = -p ln p - (1 - p) ln(1 - p) in nats, with 0 ln 0 = 0 (its limit)."""
    return -sum(x * math.log(x) for x in (p, 1 - p) if x > 0)


def gaussian_kl(loc_q: float, scale_q: float, loc_p: float, scale_p: float) -> float:
    """KL(N(loc_q, scale_q) || N(loc_p, scale_p)) in closed form (scales are sds)."""
    return (
        math.log(scale_p / scale_q) + (scale_q**2 + (loc_q - loc_p) ** 2) / (2 * scale_p**2) - 0.5
    )


def _call(fn, *args):
    """The student's answer as a float, or None when it is not written yet."""
    try:
        value = fn(*args)
    except NotImplementedError:
        return None
    if value is None or value is Ellipsis:
        return None
    return float(value)


def _close(a, b, tol=1e-6) -> bool:
    return a is not None and math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def check_coin_entropy(fn) -> bool:
    """Check ``fn(p)``, the entropy of a coin that lands heads with probability p."""
    cases = (0.5, 0.1, 0.9, 0.25)
    try:
        got = [_call(fn, p) for p in cases]
    except Exception as exc:  # their code raised: say which case, keep the notebook going
        print(f"Your function raised {type(exc).__name__}: {exc} (for p = 0.5, 0.1, ...).")
        return False
    if any(value is None for value in got):
        print(NOT_DONE)
        return False
    want = [coin_entropy(p) for p in cases]
    if all(_close(g, w) for g, w in zip(got, want)):
        try:
            edges = f"gave {_call(fn, 0.0)} and {_call(fn, 1.0)}"
        except (ValueError, ZeroDivisionError) as exc:
            edges = f"raised {type(exc).__name__}"
        if edges != "gave 0.0 and 0.0" and edges != "gave -0.0 and -0.0":
            print(
                f"Right for 0 < p < 1, but H(0) and H(1) should be 0 (a coin that always "
                f"lands the same way holds no surprise); for p = 0 and 1 your function "
                f"{edges}. Use the limit 0 ln 0 = 0: skip the terms whose probability is 0."
            )
            return False
        print("Correct: H(0.5) = ln 2 = 0.693 nats, the most uncertain coin; H(0.1) = 0.325.")
        return True
    if all(_close(g, w / math.log(2)) for g, w in zip(got, want)):
        print("Your values are in bits (log base 2). This course uses nats: use math.log.")
    elif all(_close(g, -w) for g, w in zip(got, want)):
        print("The sign is wrong: an entropy is never negative. H(p) = -sum p ln p.")
    elif all(_close(g, -p * math.log(p)) for g, p in zip(got, cases)):
        print("Only the heads term is there: add the tails term -(1 - p) ln(1 - p).")
    else:
        print(f"Not yet: for p = 0.1 you gave {got[1]:.4f}, expected {want[1]:.4f}.")
    return False


def check_gaussian_kl(fn) -> bool:
    """Check ``fn(loc_q, scale_q, loc_p, scale_p)`` = KL(N(loc_q, scale_q) || N(loc_p, scale_p))."""
    cases = ((0.0, 1.0, 0.0, 1.0), (1.0, 0.5, 0.0, 2.0), (-2.0, 3.0, 1.0, 1.5))
    try:
        got = [_call(fn, *case) for case in cases]
    except Exception as exc:
        print(f"Your function raised {type(exc).__name__}: {exc} (for the case {cases[1]}).")
        return False
    if any(value is None for value in got):
        print(NOT_DONE)
        return False
    want = [gaussian_kl(*case) for case in cases]
    if all(_close(g, w) for g, w in zip(got, want)):
        print(
            "Correct: KL(N(1, 0.5) || N(0, 2)) = 1.0425 nats, and 0 when the two are equal. "
            "Swap the arguments and the value changes: KL is not symmetric."
        )
        return True
    swapped = [gaussian_kl(lp, sp, lq, sq) for lq, sq, lp, sp in cases]
    as_variance = [
        0.5 * math.log(sp / sq) + (sq + (lq - lp) ** 2) / (2 * sp) - 0.5 for lq, sq, lp, sp in cases
    ]
    if all(_close(g, w) for g, w in zip(got, swapped)):
        print("That is KL(p || q): the roles are swapped. The expectation is under q.")
    elif all(_close(g, w) for g, w in zip(got, as_variance)):
        print("You treated the scales as variances: here scale is the standard deviation.")
    elif all(_close(g, w + 0.5) for g, w in zip(got, want)):
        print("Off by exactly 0.5 everywhere: the constant -1/2 is missing.")
    elif all(_close(g, -w) for g, w in zip(got, want)):
        print("The sign is wrong: a KL divergence is never negative.")
    else:
        print(f"Not yet: for q = N(1, 0.5), p = N(0, 2) you gave {got[1]:.4f}, expected "
              f"{want[1]:.4f}.")  # fmt: skip
    return False
