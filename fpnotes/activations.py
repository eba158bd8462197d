"""Activation functions f and their derivatives f'.

An activation is any object with two vectorized methods, ``f(z)`` and
``df(z)``, a ``name`` and a boolean ``linear`` (True when f is linear, so that
the gains G = f'(z) do not depend on z). The built-in ones are available by
name: ``"tanh"``, ``"linear"`` (gain 1) and ``"relu"``; ``Linear(gain=g)``
gives a linear network with a scalar gain or one gain per neuron.

Example
-------
>>> import numpy as np
>>> from fpnotes import as_activation
>>> act = as_activation("tanh")
>>> float(act.df(np.array(0.0)))
1.0
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Activation", "Tanh", "Linear", "ReLU", "as_activation", "ACTIVATIONS"]


@runtime_checkable
class Activation(Protocol):
    """The protocol every activation follows.

    Attributes
    ----------
    name : str
        Short name used in reprs and reports.
    linear : bool
        True when f(z) = g z, so that the gains G = f'(z) are constant.

    Methods
    -------
    f(z)
        The rate function, applied elementwise to an (N,) or (N, m) array.
    df(z)
        Its derivative f'(z), same shape as z.
    """

    name: str
    linear: bool

    def f(self, z: np.ndarray) -> np.ndarray: ...

    def df(self, z: np.ndarray) -> np.ndarray: ...


class Tanh:
    """f(z) = tanh(z), with f'(z) = 1 - tanh(z)**2."""

    name = "tanh"
    linear = False

    def f(self, z):
        return np.tanh(z)

    def df(self, z):
        return 1.0 - np.tanh(z) ** 2

    def __repr__(self):
        return "Tanh()"


class ReLU:
    """f(z) = max(z, 0), with f'(z) = 1 for z > 0 and 0 otherwise."""

    name = "relu"
    linear = False

    def f(self, z):
        return np.maximum(z, 0.0)

    def df(self, z):
        return (z > 0).astype(np.float64)

    def __repr__(self):
        return "ReLU()"


class Linear:
    """f(z) = g z with a scalar gain g > 0 or one gain per neuron.

    Parameters
    ----------
    gain : float or array_like of shape (N,)
        The gains; G = diag(gain). Must be positive, so that G is invertible
        and A = (G^{-1} - W)^{-1} is defined.
    """

    name = "linear"
    linear = True

    def __init__(self, gain=1.0):
        from ._validation import _as_float_array

        g = _as_float_array(gain, "gain")
        if g.ndim > 1:
            raise ValueError(
                f"gain must be a scalar or a vector of shape (N,), got shape {g.shape}")
        if not np.all(np.isfinite(g)) or np.any(g <= 0):
            raise ValueError("gain must be positive and finite")
        self.gain = g

    def _column(self, z):
        # A per-neuron gain multiplies rows: broadcast it down the pattern axis.
        z = np.asarray(z, dtype=np.float64)
        if self.gain.ndim == 1:
            if z.shape[:1] != self.gain.shape:
                raise ValueError(
                    f"Linear gain has {self.gain.size} entries but the network has "
                    f"{z.shape[0] if z.ndim else 1} neurons"
                )
            return self.gain.reshape((-1,) + (1,) * (z.ndim - 1))
        return self.gain

    def f(self, z):
        return self._column(z) * z

    def df(self, z):
        return np.broadcast_to(self._column(z), np.shape(z)).astype(np.float64)

    def gain_vector(self, N):
        """Return the gains as an (N,) vector (the diagonal of G)."""
        if self.gain.ndim == 1:
            if self.gain.size != N:
                raise ValueError(
                    f"Linear gain has {self.gain.size} entries, the network {N} neurons")
            return self.gain
        return np.full(N, float(self.gain))

    def __repr__(self):
        return f"Linear(gain={self.gain.tolist()!r})"


ACTIVATIONS = {"tanh": Tanh, "linear": Linear, "relu": ReLU}


def as_activation(f, N=None) -> Activation:
    """Return an activation object for a name or an object with ``f`` and ``df``.

    Parameters
    ----------
    f : str or Activation
        ``"tanh"``, ``"linear"`` (gain 1), ``"relu"``, or an object that has
        callable ``f`` and ``df`` attributes (``linear`` defaults to False and
        ``name`` to the class name when missing).
    N : int, optional
        Number of neurons. When given, an activation that is not built in is
        tried once on an (N, 1) probe: ``f`` and ``df`` must return real arrays
        of the probe's shape (a ``df`` that returns None or a scalar is refused
        here rather than failing deep inside a solver).

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For an object that is neither a name nor provides ``f`` and ``df``, or
        whose methods return something other than a real array of z's shape.
    """
    if isinstance(f, str):
        try:
            return ACTIVATIONS[f]()
        except KeyError:
            names = ", ".join(repr(k) for k in ACTIVATIONS)
            raise ValueError(f"unknown activation {f!r}; use one of {names} or an object "
                             "with f(z) and df(z) methods") from None
    if callable(getattr(f, "f", None)) and callable(getattr(f, "df", None)):
        if N is not None and not isinstance(f, (Tanh, ReLU, Linear)):
            _probe(f, N)
        return f
    raise TypeError(
        "f must be an activation name or an object with methods f(z) and df(z) "
        f"(see fpnotes.Activation), got {type(f).__name__}"
    )


def _probe(act, N):
    """Call a user's activation once on an (N, 1) array and check what comes back."""
    z = np.linspace(-1.0, 1.0, N)[:, None]
    for method in ("f", "df"):
        try:
            out = getattr(act, method)(z.copy())
        except Exception as exc:  # noqa: BLE001 -- reported with the activation's name
            raise TypeError(f"the activation's {method}(z) failed on an array of shape "
                            f"{z.shape}: {type(exc).__name__}: {exc}") from exc
        kind = getattr(getattr(out, "dtype", None), "kind", None)
        if not isinstance(out, np.ndarray) or out.shape != z.shape or kind not in "biuf":
            got = (f"an array of shape {out.shape} and dtype {out.dtype}"
                   if isinstance(out, np.ndarray) else type(out).__name__)
            raise TypeError(f"the activation's {method}(z) must return a real array of z's "
                            f"shape {z.shape}, got {got}")


def is_linear(act) -> bool:
    """True when the activation declares itself linear (constant gains)."""
    return bool(getattr(act, "linear", False))
