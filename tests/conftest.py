import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (or set FPNOTES_SLOW=1)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow test, run with --runslow or FPNOTES_SLOW=1")


def random_net(N, m, rho=0.5, seed=0, scale_x=1.0):
    rng = np.random.default_rng(seed)
    W = rho * rng.standard_normal((N, N)) / np.sqrt(N)
    X = scale_x * rng.standard_normal((N, m))
    return W, X, rng


def rotational_net(N, m, rho=2.0, seed=0):
    """Antisymmetric W: eigenvalues on the imaginary axis with modulus up to ~rho.

    The dynamics are stable (Re lambda(GW) = 0 < 1 for tanh gains... up to the
    small symmetric perturbation), but plain iteration diverges (|lambda| > 1).
    """
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((N, N))
    W = rho * (A - A.T) / np.sqrt(2 * N)
    X = rng.standard_normal((N, m))
    return W, X


@pytest.fixture
def net():
    return random_net(20, 6, seed=1)


def central_difference(fun, W, E, eps=1e-6):
    return (fun(W + eps * E) - fun(W - eps * E)) / (2 * eps)
