"""Small real datasets shipped inside the package, loaded with NumPy only.

Licences and sources are in README.md beside this file.
"""
import gzip
import pathlib

import numpy as np

_DATA = pathlib.Path(__file__).with_name("data")


def load_digits():
    """The UCI 8x8 handwritten digits (1797 images, 10 classes; CC BY 4.0).

    Returns
    -------
    X : ndarray of shape (1797, 64), float64
        Pixel intensities in 0..16, row by row of each 8x8 image.
    y : ndarray of shape (1797,), int64
        The digit, 0..9.
    """
    with gzip.open(_DATA / "digits.csv.gz", "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    return data[:, :-1].copy(), data[:, -1].astype(np.int64)


def train_test_split(X, y, test_fraction=0.25, seed=0):
    """Shuffles (seeded) and splits into (X_train, X_test, y_train, y_test).

    Parameters
    ----------
    X, y : ndarray
        Samples along the first axis.
    test_fraction : float
        Fraction of the samples held out, in (0, 1).
    seed : int
        Seeds numpy's default Generator for the shuffle.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(np.ceil(test_fraction * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
