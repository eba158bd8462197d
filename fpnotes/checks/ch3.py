"""Checks of Chapter 3's exercises (singularities of the loss).

``ch3_pole_finder`` judges a *function*: it builds a line ``W* + t W1`` in weight space
from a seed (0 is the line of the chapter's Figure 3.2), calls the student's
``pole_times`` on it and compares what it returns with the real ``t`` at which
``I - W* - t W1`` is singular. The autograder repeats it with other seeds (other sizes,
other ranges of ``t``), so a function that only reproduces seed 0's poles fails there.
"""

from __future__ import annotations

import numpy as np

from ..tasks import linear_task, random_weights
from ._core import (
    as_answer_array,
    as_answer_number,
    call_student,
    changed_in_place,
    check_given,
    compare_array,
    compare_scalar,
    function_exercise,
    report,
)

__all__ = ["ch3_one_neuron_minimum", "ch3_one_neuron_gradient", "ch3_pole_times",
           "ch3_pole_finder", "ch3_max_learning_rate", "ch3_line_data", "ch3_pole_problem"]


def _line_rng():
    """The random stream of the chapter's direction ``W1``: a child of the task's seed 0.

    ``np.random.default_rng(np.random.SeedSequence(0).spawn(1)[0])`` is statistically
    independent of ``np.random.default_rng(0)``, from which ``linear_task()`` draws ``X`` and
    ``W_true``, so the line is a random direction that shares no draws with the task.
    """
    return np.random.default_rng(np.random.SeedSequence(0).spawn(1)[0])


def ch3_line_data():
    """The line of the chapter's Figure 3.2: ``{"W_star": task.W_true, "W1": W1}``.

    ``task = linear_task()`` (N = 200, seed 0) and ``W1 = random_weights(200, 2.5,
    np.random.default_rng(np.random.SeedSequence(0).spawn(1)[0]))`` (``_line_rng()``, a
    stream independent of the task's), as the chapter builds them.
    """
    W_star = linear_task().W_true
    return {"W_star": W_star, "W1": random_weights(W_star.shape[0], 2.5, _line_rng())}


def ch3_one_neuron_minimum(answer, target, g=1.0, x=1.0):
    """The weight w* at which r = g x / (1 - g w) equals the target (w* = 1/g - x/target)."""
    if target == 0:
        raise ValueError("target must be non-zero (r = 0 is never reached at finite w)")
    ok, msg = compare_scalar(answer, 1 / g - x / target, "w*", rtol=1e-8)
    return report(ok, msg)


def ch3_one_neuron_gradient(answer, w, target, g=1.0, x=1.0):
    """dL/dw of L(w) = (g x / (1 - g w) - target)^2."""
    if g * w == 1:
        raise ValueError("w is at the pole w = 1/g")
    r = g * x / (1 - g * w)
    ok, msg = compare_scalar(answer, 2 * (r - target) * r * g / (1 - g * w), "dL/dw",
                             rtol=1e-6)
    return report(ok, msg)


def _line_eigenvalues(W_star, W1):
    """Real eigenvalues of W1^{-1} (I - W_star), sorted: every real t of a pole on the line."""
    mu = np.linalg.eigvals(np.linalg.solve(W1, np.eye(W_star.shape[0]) - W_star))
    real = np.abs(mu.imag) <= 1e-8 * np.maximum(1, np.abs(mu))
    return np.sort(mu.real[real])


def _inside(t, t_range):
    t = np.sort(t)
    return t[(t >= t_range[0]) & (t <= t_range[1])]


def ch3_pole_problem(seed=0):
    """The line of :func:`ch3_pole_finder`'s problem ``seed``: ``(W_star, W1, t_range)``.

    Parameters
    ----------
    seed : int, optional
        0 is the line of the chapter's Figure 3.2 (:func:`ch3_line_data`, N = 200) with
        ``t_range = (-0.8, 0.8)``; any other seed draws another line, of another size
        (a teacher-like ``W_star`` of scale 0.5 and a direction ``W1`` of scale 2.5, as in
        the chapter), and another range of ``t``.

    Returns
    -------
    W_star, W1 : ndarray, shape (N, N)
    t_range : tuple of float
    """
    seed = int(seed)
    if seed == 0:
        data = ch3_line_data()
        return data["W_star"], data["W1"], (-0.8, 0.8)
    # other sizes and an asymmetric range too, so that a function with N = 200 or the
    # range (-0.8, 0.8) written into it fails here
    rng = np.random.default_rng([3, seed])
    N = int(rng.integers(60, 160))
    W_star = random_weights(N, 0.5, rng)
    W1 = random_weights(N, 2.5, rng)
    t_range = (-float(rng.uniform(0.5, 0.9)), float(rng.uniform(0.5, 0.9)))
    return W_star, W1, t_range


@function_exercise(hidden_seeds=(1, 2))
def ch3_pole_finder(func, *, seed=0):
    """Does ``func(W_star, W1, t_range)`` return the poles of the loss on the line?

    The poles of ``J(W_star + t W1)`` (gain 1) are the real ``t`` at which
    ``I - W_star - t W1`` is singular: the real eigenvalues of ``W1^{-1} (I - W_star)``.

    Parameters
    ----------
    func : callable
        The student's ``pole_times(W_star, W1, t_range)``, returning the poles with
        ``t_range[0] <= t <= t_range[1]`` as a real 1-D array in increasing order.
    seed : int, optional
        The line to judge it on (see :func:`ch3_pole_problem`): 0 is the line of
        Figure 3.2 with ``t_range = (-0.8, 0.8)``; other seeds draw other lines, of other
        sizes, and other ranges.

    Returns
    -------
    Verdict
        True when the poles are right; prints "Correct!" or "Not yet: ..." saying what is
        wrong (a complex result, how many poles, the order, the sign, the reciprocals
        ``1/t``, the range ignored, arguments changed in place), never the expected values.
    """
    W_star, W1, t_range = ch3_pole_problem(seed)
    where = ("" if seed == 0 else
             f" (on the line of seed {seed}: N = {W_star.shape[0]}, "
             f"t_range = ({t_range[0]:.3g}, {t_range[1]:.3g}))")
    args = (W_star.copy(), W1.copy(), t_range)   # copies: an in-place change is detected
    value, msg = call_student(func, args, "pole_times")
    if msg:
        return report(False, msg + where)
    name = changed_in_place(args[:2], (W_star, W1), ("W_star", "W1"))
    if name:
        return report(False, f"pole_times changed its argument {name} in place{where}; "
                             "compute I - W_star as a new array")
    mu = _line_eigenvalues(W_star, W1)
    expected = _inside(mu, t_range)
    name = "the array pole_times returns"
    try:
        complex_value = np.iscomplexobj(np.asarray(value))
    except (TypeError, ValueError):
        complex_value = False
    if complex_value:
        return report(False, "it returns complex numbers: only real eigenvalues are poles on "
                             "the line of real t; keep those (their imaginary part is 0) and "
                             f"return their real parts{where}")
    a, msg = as_answer_array(value, name)
    if a is None:
        return report(False, msg + where)
    if a.ndim == 1 and np.all(np.isfinite(a)):
        msg = _pole_diagnosis(a, mu, expected, t_range)
        if msg:
            return report(False, msg + where)
    ok, msg = compare_array(a, expected, name, rtol=1e-6, atol=1e-9)
    return report(ok, msg + where)


def _pole_diagnosis(a, mu, expected, t_range):
    """What is wrong with the 1-D poles ``a`` (None when they have the right count and order)."""
    def same(b, c):
        return b.shape == c.shape and np.allclose(b, c, rtol=1e-6, atol=1e-9)

    if (same(np.sort(a), _inside(-mu, t_range)) or same(np.sort(-a), expected)) and \
            not same(np.sort(a), expected):
        return ("these are the poles of the line with the wrong sign: t solves "
                "det(I - W_star - t W1) = 0, i.e. W1^{-1} (I - W_star) v = t v")
    with np.errstate(divide="ignore"):
        recip = _inside(1 / mu[mu != 0], t_range)
    if same(np.sort(a), recip) and not same(np.sort(a), expected):
        return ("these are the reciprocals 1/t of poles: the eigenvalues of "
                "(I - W_star)^{-1} W1 are 1/t, those of W1^{-1} (I - W_star) are t")
    if a.size != expected.size:
        if same(np.sort(a), mu) and mu.size != expected.size:
            return (f"it returns all {a.size} real poles of the line; keep only those with "
                    "t_range[0] <= t <= t_range[1]")
        return (f"it returns {a.size} pole(s), not the right count (keep only the real "
                "eigenvalues, and only those inside t_range)")
    if same(np.sort(a), expected) and not same(a, expected):
        return "the right poles, but not in increasing order (np.sort)"
    return None


def ch3_pole_times(answer, W_star=None, W1=None, t_range=(-0.8, 0.8)):
    """Sorted real t in t_range where I - W_star - t W1 is singular (gain 1).

    Those t are the real eigenvalues of W1^{-1} (I - W_star). ``W_star`` and ``W1``
    (optional) are the chapter's ``task.W_true`` and ``W1`` (see :func:`ch3_line_data`).
    The chapter's exercise now asks for a function, judged by :func:`ch3_pole_finder`;
    this check of the poles themselves stays for assignments made before.
    """
    data = ch3_line_data()
    for given, name, key in ((W_star, "task.W_true", "W_star"), (W1, "W1", "W1")):
        msg = check_given(given, data[key], name, what="the chapter built")
        if msg:
            return report(False, msg)
    W_star, W1 = data["W_star"], data["W1"]
    t = _inside(_line_eigenvalues(W_star, W1), t_range)
    a, msg = as_answer_array(answer, "poles")
    if a is None:
        return report(False, msg)
    a = np.sort(np.ravel(a))
    if a.shape != t.shape:
        return report(False, f"you found {a.size} pole(s) in the range, not the right count "
                             "(keep only the real ones inside t_range)")
    ok, msg = compare_array(a, t, "the pole locations", rtol=1e-6, atol=1e-9)
    return report(ok, msg)


def ch3_max_learning_rate(answer, target, x=1.0, g=1.0):
    """Largest learning rate for which gradient descent converges at the one-neuron minimum.

    L(w) = (g x / (1 - g w) - target)^2 has curvature L''(w*) = 2 target^4 / x^2 at its
    minimum (the gain cancels), so descent converges locally iff
    eta < 2 / L''(w*) = x^2 / target^4.
    """
    if target == 0 or x == 0 or g == 0:
        raise ValueError("target, x and g must be non-zero")
    expected = x**2 / target**4
    a, msg = as_answer_number(answer, "eta_max")
    if a is None:
        return report(False, msg)
    if np.isclose(a, 2 * target**4 / x**2, rtol=1e-8):
        return report(False, "that is the curvature L''(w*); the bound is 2 / L''(w*)")
    if g != 1 and (np.isclose(a, expected / g**2, rtol=1e-8)
                   or np.isclose(a, expected * g**2, rtol=1e-8)):
        return report(False, "check the factors of the gain g: at the minimum they cancel")
    if np.isclose(a, 2 * expected, rtol=1e-8) or np.isclose(a, expected / 2, rtol=1e-8):
        return report(False, "off by a factor of 2: L'' = 2 (dr/dw)^2 and eta < 2 / L''")
    ok, msg = compare_scalar(a, expected, "eta_max", rtol=1e-8)
    return report(ok, msg)
