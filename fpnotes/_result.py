"""A small result container with named fields (like ``scipy.optimize.OptimizeResult``)."""

from __future__ import annotations

import numpy as np


class Result(dict):
    """A dict whose keys are also attributes, with a compact repr.

    Results of fpnotes functions are ``Result`` objects: ``res.r`` and
    ``res["r"]`` are the same thing, and ``res.keys()`` lists the fields.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self):
        if not self:
            return f"{type(self).__name__}()"
        width = max(map(len, self.keys())) + 1
        return "\n".join(f"{k.rjust(width)}: {_short(v)}" for k, v in self.items())


def _short(v):
    if isinstance(v, np.ndarray) and v.size > 6:
        return f"array(shape={v.shape}, dtype={v.dtype})"
    text = repr(v)
    return text if len(text) < 200 else text[:197] + "..."
