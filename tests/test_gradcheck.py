"""Finite-difference checks of backpropagation in float64: the analytic
gradient against a 4th-order central difference of the loss."""
import zlib

import numpy as np
import pytest

import pynn
from conftest import HIDDEN_ACTS


def numerical_gradient(net, X, T, h=1e-4):
    """dL/dp_i ~ (-L(p+2h) + 8L(p+h) - 8L(p-h) + L(p-2h)) / 12h, one parameter at a time."""
    p = net.params
    g = np.empty_like(p)
    for i in range(p.size):
        orig = p[i]
        losses = []
        for step in (2 * h, h, -h, -2 * h):
            p[i] = orig + step
            losses.append(net.loss(X, T))
        p[i] = orig
        g[i] = (-losses[0] + 8 * losses[1] - 8 * losses[2] + losses[3]) / (12 * h)
    return g


CASES = [(act, "mse", out) for act in HIDDEN_ACTS for out in ("identity", "sigmoid", "tanh")]
CASES += [("tanh", "mse", "softmax"), ("relu", "cross_entropy", "softmax"),
          ("sigmoid", "cross_entropy", "softmax"), ("leaky_relu", "mse", "leaky_relu")]


@pytest.mark.parametrize("act,loss,output", CASES)
def test_gradients_match_finite_differences(act, loss, output):
    rng = np.random.default_rng(zlib.crc32(f"{act}-{loss}-{output}".encode()))
    net = pynn.MLP([4, 6, 5, 3], activation=act, output=output, loss=loss, dtype=np.float64,
                   seed=7, leaky_slope=0.1)
    for b in net.biases:
        b[...] = rng.uniform(-0.3, 0.3, b.shape)
    X = rng.normal(size=(7, 4))
    T = rng.integers(0, 3, 7) if loss == "cross_entropy" else rng.normal(size=(7, 3))
    _, g = net.gradients(X, T)
    g_num = numerical_gradient(net, X, T)
    # kinks of relu/leaky_relu are measure-zero: random data does not hit them at h = 1e-4
    np.testing.assert_allclose(g.params, g_num, rtol=1e-6, atol=1e-9)
