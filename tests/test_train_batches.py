"""MLP.train_batches: many training steps in one C call, bit-identical to
calling train_step on each mini-batch in turn."""
import numpy as np
import pytest

import pynn


def data(loss, n=103, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 7))
    T = rng.integers(0, 3, n) if loss == "cross_entropy" else rng.normal(size=(n, 3))
    return X, T


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("make_opt", [lambda: pynn.SGD(lr=0.005, momentum=0.9),
                                      lambda: pynn.Adam(lr=0.01, weight_decay=0.01)])
@pytest.mark.parametrize("batch_size", [1, 16, 103, 500])
def test_same_bits_as_train_step(loss, make_opt, batch_size, dtype):
    X, T = data(loss)
    order = np.random.default_rng(1).permutation(X.shape[0])
    a = pynn.MLP([7, 12, 3], loss=loss, dtype=dtype, seed=3)
    b = pynn.MLP([7, 12, 3], loss=loss, dtype=dtype, seed=3)
    opt_a, opt_b = make_opt(), make_opt()
    for epoch in range(2):
        losses = a.train_batches(X, T, opt_a, batch_size=batch_size, order=order)
        want = [b.train_step(X[idx], T[idx], opt_b)
                for idx in np.array_split(order, range(batch_size, X.shape[0], batch_size))]
        np.testing.assert_array_equal(losses, want)
    np.testing.assert_array_equal(a.params, b.params)
    assert opt_a.state(a).step == opt_b.state(b).step == 2 * len(want)


def test_default_order_and_no_allocation():
    X, T = data("mse")
    net = pynn.MLP([7, 12, 3], seed=0)
    opt = pynn.SGD(lr=0.01)
    losses = net.train_batches(X, T, opt, batch_size=10)
    assert losses.shape == (11,)
    allocs = net.workspace_allocations
    for _ in range(5):
        net.train_batches(X, T, opt, batch_size=10)
    assert net.workspace_allocations == allocs


def test_repeated_indices_are_allowed():
    X, T = data("cross_entropy", n=5)
    net = pynn.MLP([7, 4, 3], loss="cross_entropy", seed=0)
    order = np.array([0, 0, 1, 4, 4, 4, 2, 3, 3, 1, 0, 2])
    assert net.train_batches(X, T, pynn.SGD(lr=0.1), batch_size=8, order=order).shape == (2,)


def test_bad_arguments_change_nothing():
    X, T = data("mse")
    net = pynn.MLP([7, 12, 3], seed=0)
    before = net.params.copy()
    opt = pynn.SGD(lr=0.01)
    with pytest.raises(ValueError, match=r"row indices must be in \[0, 103\)"):
        net.train_batches(X, T, opt, order=np.array([0, 103]))
    with pytest.raises(ValueError, match="1-D array of row indices"):
        net.train_batches(X, T, opt, order=np.array([0.5]))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        net.train_batches(X, T, opt, batch_size=0)
    with pytest.raises(TypeError, match="optimizer"):
        net.train_batches(X, T, None)
    np.testing.assert_array_equal(net.params, before)


def test_non_finite_batch_stops_there():
    X, T = data("mse", n=40)
    X[25] = np.nan                                  # in the third batch of 10
    net = pynn.MLP([7, 12, 3], seed=0)
    ref = pynn.MLP([7, 12, 3], seed=0)
    opt, opt_ref = pynn.Adam(), pynn.Adam()
    with pytest.raises(FloatingPointError, match="batch 2 .* the 2 batches before it were"):
        net.train_batches(X, T, opt, batch_size=10)
    for idx in (slice(0, 10), slice(10, 20)):
        ref.train_step(X[idx], T[idx], opt_ref)
    np.testing.assert_array_equal(net.params, ref.params)
    assert opt.state(net).step == 2
