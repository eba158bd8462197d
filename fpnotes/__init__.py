"""fpnotes: learning fixed points of recurrent rate networks.

Companion package of the fpnotes book, after Zhu & Rosenbaum, *Learning fixed
points of recurrent neural networks by reparameterizing the network model*,
Neural Computation 36(8), 2024. Conventions: one column per pattern (X and the
fixed points R are (N, m)); float64 throughout; losses are means over patterns.
"""

# fpnotes.sweep is the sweeps package: fpnotes.sweep.sweep(configs, store=...) runs a sweep,
# fpnotes.sweep.grid(...) builds one. Dask is imported only when a Dask client is passed.
from . import sweep
from .activations import ACTIVATIONS, Activation, Linear, ReLU, Tanh, as_activation
from .gradients import adjoint, bptt_gradient, euclidean_gradient
from .landscape import linear_loss, loss_along_line, loss_along_line_in_A, loss_on_plane
from .losses import LOSSES, softmax_cross_entropy, squared_error
from .rules import (
    RULES,
    Rule,
    StepError,
    angle,
    metric,
    metric_inverse,
    reparameterized_map,
    step,
    update,
)
from .solvers import (
    METHOD_OPTIONS,
    METHODS,
    ConvergenceWarning,
    DivergenceWarning,
    FixedPointError,
    FixedPointResult,
    fixed_point,
    residual,
    simulate,
)
from .stability import (
    jacobian_eigenvalues,
    max_real_eig,
    spectral_radius,
    stability,
    stability_criterion,
    unstable_patterns,
)
from .tasks import digits_task, linear_task, mnist_task, random_weights
from .training import FixedPointUpdate, TrainResult, Update, UpdateDiverged, train, train_task

__version__ = "0.1.0"

# The book's helpers load on first use (fpnotes.plotting imports matplotlib's pyplot).
_LAZY = ("assignments", "checks", "datasets", "plotting", "replication")


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'fpnotes' has no attribute {name!r}")

__all__ = [
    "ACTIVATIONS", "Activation", "Linear", "ReLU", "Tanh", "as_activation",
    "adjoint", "bptt_gradient", "euclidean_gradient",
    "linear_loss", "loss_along_line", "loss_along_line_in_A", "loss_on_plane",
    "LOSSES", "softmax_cross_entropy", "squared_error",
    "RULES", "Rule", "StepError", "angle", "metric", "metric_inverse", "reparameterized_map",
    "step", "update",
    "METHODS", "METHOD_OPTIONS", "ConvergenceWarning", "DivergenceWarning", "FixedPointError",
    "FixedPointResult",
    "fixed_point", "residual", "simulate",
    "jacobian_eigenvalues", "max_real_eig", "spectral_radius", "stability", "stability_criterion",
    "unstable_patterns", "digits_task", "linear_task", "mnist_task", "random_weights",
    "TrainResult", "train", "train_task", "Update", "FixedPointUpdate", "UpdateDiverged",
    "sweep",
]
