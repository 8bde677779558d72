"""Networks that must actually learn: XOR, and a smooth 1-D regression."""
import numpy as np
import pytest

import pynn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_xor_is_learned(dtype):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    T = np.array([[0], [1], [1], [0]], dtype=dtype)
    net = pynn.MLP([2, 8, 1], activation="tanh", output="sigmoid", dtype=dtype, seed=1)
    opt = pynn.SGD(lr=0.5, momentum=0.9)
    first = net.loss(X, T)
    for _ in range(2000):
        net.train_step(X, T, opt)
    assert net.loss(X, T) < 0.01 < first
    np.testing.assert_array_equal(net.forward(X).round(), T)


def test_xor_classification_with_cross_entropy():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    net = pynn.MLP([2, 16, 2], activation="relu", loss="cross_entropy", seed=3)
    opt = pynn.Adam(lr=0.05)
    for _ in range(300):
        net.train_step(X, y, opt)
    assert (net.forward(X).argmax(axis=1) == y).all()
    assert net.loss(X, y) < 0.05


def test_smooth_regression_is_fitted():
    rng = np.random.default_rng(0)
    x = np.linspace(-3, 3, 256)[:, None]
    t = np.sin(x) + 0.1 * x ** 2
    net = pynn.MLP([1, 32, 32, 1], activation="tanh", dtype=np.float32, seed=0)
    opt = pynn.Adam(lr=1e-2)
    start = net.loss(x, t)
    for epoch in range(300):
        for idx in np.array_split(rng.permutation(256), 8):
            net.train_step(x[idx], t[idx], opt)
    assert net.loss(x, t) < 2e-3 < start / 100
