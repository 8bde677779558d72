"""Bad input: a clear exception naming the argument, never a crash, and the
network exactly as it was."""
import numpy as np
import pytest

import pynn


@pytest.fixture
def net():
    return pynn.MLP([3, 4, 2], seed=0)


def unchanged(net, fn, exc, match):
    before = net.params.copy()
    with pytest.raises(exc, match=match):
        fn()
    np.testing.assert_array_equal(net.params, before)


@pytest.mark.parametrize("sizes,exc,match", [
    ([3], ValueError, "at least 2"),
    ([], ValueError, "at least 2"),
    ([3, 0, 2], ValueError, r"sizes\[1\] must be >= 1"),
    ([3, -4, 2], ValueError, r"sizes\[1\]"),
    ([3, 2.5, 2], TypeError, r"sizes\[1\] must be an int"),
    ([3, True, 2], TypeError, r"sizes\[1\]"),
    ("32", TypeError, "sequence of ints"),
    (7, TypeError, "sequence of ints"),
    ([2**40, 2**40, 1], MemoryError, "GiB"),
])
def test_bad_sizes(sizes, exc, match):
    with pytest.raises(exc, match=match):
        pynn.MLP(sizes)


def test_binding_checks_arrays_itself(net):
    """The second line of defence below the Python checks: pynn._core takes a
    view of each array and rejects a wrong dtype, layout or rank by name."""
    from pynn import _core
    X = np.ones((5, 3))                                  # float64 for a float32 network
    T = np.ones((5, 2), np.float32)
    opt = pynn.SGD(lr=0.1)
    st = opt.state(net)
    unchanged(net, lambda: net._net.train_step(X, T, None, opt._args(), st, st.buffer, 1),
              ValueError, "X must be a C-contiguous 2-D float32 array")
    Xf = np.ones((5, 3), np.float32)
    unchanged(net, lambda: net._net.train_step(Xf, T.ravel(), None, opt._args(), st, st.buffer, 1),
              ValueError, "T must be a C-contiguous 2-D float32 array")
    unchanged(net, lambda: net._net.loss(Xf, None, np.zeros(5, np.int32), 1),
              ValueError, "labels must be a C-contiguous 1-D int64 array")
    with pytest.raises(ValueError, match="X must be a C-contiguous 2-D float32 array"):
        net._net.forward(np.ones((3, 5), np.float32).T, np.empty((5, 2), np.float32), 1)
    ro = np.empty((5, 2), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="Y must be a C-contiguous writable 2-D float32 array"):
        net._net.forward(Xf, ro, 1)
    # shapes: C sees only pointers and sizes, so a buffer too small is caught here
    with pytest.raises(ValueError, match=r"Y must have shape \(5, 2\), got \(1, 20\)"):
        net._net.forward(Xf, np.zeros((1, 20), np.float32), 1)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        net._net.forward(np.ones((5, 4), np.float32), np.empty((5, 2), np.float32), 1)
    unchanged(net, lambda: net._net.loss(Xf, None, np.zeros(4, np.int64), 1),
              ValueError, r"labels must have shape \(5,\)")
    adam = pynn.Adam(lr=0.1)
    unchanged(net, lambda: net._net.train_step(Xf, T, None, adam._args(), adam.state(net),
                                               np.zeros(3, np.float32), 1),
              ValueError, "state must have shape")
    with pytest.raises(ValueError, match=r"T must have shape \(4, 3\), got \(1, 1\)"):
        _core.mse(np.ones((4, 3)), np.ones((1, 1)), None, 1)
    with pytest.raises(ValueError, match=r"dY must have shape \(4, 3\)"):
        _core.mse(np.ones((4, 3)), np.ones((4, 3)), np.zeros((1, 1)), 1)
    with pytest.raises(ValueError, match=r"db must have shape \(2,\)"):
        _core.dense_backward(Xf, np.ones((3, 2), np.float32), T, T, 0, 0.0,
                             np.empty((5, 3), np.float32), np.empty((3, 2), np.float32),
                             np.empty(3, np.float32), 1)
    with pytest.raises(ValueError, match="C must be a float32 or float64 array"):
        _core.gemm(False, False, Xf, Xf, np.empty((5, 5), np.int32), 1.0, 0.0, 1)
    with pytest.raises(ValueError, match="shapes of A, B and C do not match"):
        _core.gemm(False, False, Xf, Xf, np.empty((5, 5), np.float32), 1.0, 0.0, 1)
    with pytest.raises(ValueError, match="B must be a C-contiguous 2-D float64 array"):
        _core.gemm(False, False, np.ones((2, 2)), np.ones((2, 2), np.float32),
                   np.empty((2, 2)), 1.0, 0.0, 1)


def test_c_layer_checks_overflow_itself():
    from pynn import _core
    with pytest.raises(ValueError, match="overflow"):
        _core.Net(_core.DTYPE_F32, [2**40, 2**40, 1], [3, 0], 0.0, 0)
    with pytest.raises(ValueError, match="overflow"):
        _core.Net(_core.DTYPE_F32, [2**62, 4, 1], [3, 0], 0.0, 0)
    with pytest.raises(ValueError, match="invalid"):
        _core.Net(_core.DTYPE_F32, [3, 0, 1], [3, 0], 0.0, 0)


@pytest.mark.parametrize("sizes", [[2**31, 2**31, 1], [2**20, 2**20, 1], [100000, 100000, 1000]])
def test_more_memory_than_the_machine_has(sizes):
    with pytest.raises(MemoryError, match="GiB"):
        pynn.MLP(sizes)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(activation="swish"), ValueError, r"activation\[0\] must be one of"),
    (dict(activation=["relu"]), ValueError, "one name or 2 names"),
    (dict(activation="softmax"), ValueError, "softmax is allowed only as the output"),
    (dict(output="gelu"), ValueError, "output must be one of"),
    (dict(loss="hinge"), ValueError, "loss must be one of"),
    (dict(loss="cross_entropy", output="identity"), ValueError, "needs output='softmax'"),
    (dict(dtype=np.int32), TypeError, "dtype must be float32 or float64"),
    (dict(dtype="float16"), TypeError, "dtype must be float32 or float64"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(leaky_slope=-0.1), ValueError, "leaky_slope must be >= 0"),
    (dict(leaky_slope=float("nan")), ValueError, "leaky_slope must be finite"),
])
def test_bad_constructor_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        pynn.MLP([3, 4, 4, 2], **kwargs)


@pytest.mark.parametrize("X,exc,match", [
    (np.ones(3), ValueError, r"X must be a 2-D array of shape \(n_samples, 3\)"),
    (np.ones((2, 4)), ValueError, r"X must have 3 features"),
    (np.ones((2, 3, 1)), ValueError, "2-D"),
    (np.array([["a", "b", "c"]]), TypeError, "X must hold real numbers"),
    (np.ones((2, 3), complex), TypeError, "X must hold real numbers"),
])
def test_bad_X(net, X, exc, match):
    opt = pynn.SGD(lr=0.1)
    T = np.zeros((2, 2))
    for call in (lambda: net.forward(X), lambda: net.loss(X, T), lambda: net.gradients(X, T),
                 lambda: net.train_step(X, T, opt)):
        unchanged(net, call, exc, match)


@pytest.mark.parametrize("T,match", [
    (np.zeros((2, 3)), r"T must have 2 outputs"),
    (np.zeros((3, 2)), r"T must have 2 rows to match X"),
    (np.zeros(2), r"T must be a 2-D array"),
])
def test_bad_T(net, T, match):
    X = np.ones((2, 3))
    unchanged(net, lambda: net.train_step(X, T, pynn.SGD(lr=0.1)), ValueError, match)
    unchanged(net, lambda: net.loss(X, T), ValueError, match)


def test_bad_labels():
    net = pynn.MLP([3, 4], loss="cross_entropy", seed=0)
    X = np.ones((2, 3))
    unchanged(net, lambda: net.loss(X, np.array([0, 4])), ValueError, r"labels must be in \[0, 4\)")
    unchanged(net, lambda: net.loss(X, np.array([-1, 0])), ValueError, "labels")
    unchanged(net, lambda: net.loss(X, np.array([0, 1, 2])), ValueError, "2 labels")
    unchanged(net, lambda: net.loss(X, np.array([0.5, 1.0])), ValueError, "integer class labels")


def test_empty_batch(net):
    X, T = np.empty((0, 3)), np.empty((0, 2))
    assert net.forward(X).shape == (0, 2)
    for call in (lambda: net.loss(X, T), lambda: net.gradients(X, T),
                 lambda: net.train_step(X, T, pynn.SGD(lr=0.1))):
        unchanged(net, call, ValueError, "at least one sample")


def test_bad_out(net):
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"out must have shape \(2, 2\) and dtype float32"):
        net.forward(X, out=np.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match="out must have shape"):
        net.forward(X, out=np.empty((2, 2), np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        net.forward(X, out=np.empty((2, 2), np.float32, order="F")[:, :].T.copy().T)
    ro = np.empty((2, 2), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        net.forward(X, out=ro)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        net.forward(X, out=[[0, 0], [0, 0]])


@pytest.mark.parametrize("make,exc,match", [
    (lambda: pynn.SGD(lr=0), ValueError, "lr must be > 0"),
    (lambda: pynn.SGD(lr=-1), ValueError, "lr must be > 0"),
    (lambda: pynn.SGD(lr=float("inf")), ValueError, "lr must be finite"),
    (lambda: pynn.SGD(lr="fast"), TypeError, "lr must be a real number"),
    (lambda: pynn.SGD(momentum=1.0), ValueError, "momentum must be < 1"),
    (lambda: pynn.SGD(momentum=-0.1), ValueError, "momentum must be >= 0"),
    (lambda: pynn.SGD(nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
    (lambda: pynn.SGD(weight_decay=float("nan")), ValueError, "weight_decay must be finite"),
    (lambda: pynn.Adam(betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be < 1"),
    (lambda: pynn.Adam(betas=0.9), TypeError, "betas must be a pair"),
    (lambda: pynn.Adam(eps=0), ValueError, "eps must be > 0"),
])
def test_bad_hyperparameters(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_optimizer_object(net):
    unchanged(net, lambda: net.train_step(np.ones((2, 3)), np.ones((2, 2)), "sgd"), TypeError,
              "optimizer must be")


def test_bad_first_step_makes_no_optimizer_state():
    """Plain arrays go straight to C (MLP.train_step), but a batch that fails its
    checks leaves the optimizer as it was: no state made for a new network, and
    kept state not replaced when its length no longer matches (momentum 0)."""
    net, opt = pynn.MLP([3, 4, 2], seed=0), pynn.Adam(lr=0.1)
    X, T = np.ones((5, 3), np.float32), np.ones((5, 2), np.float32)
    unchanged(net, lambda: net.train_step(X, T[:4], opt), ValueError, "5 rows to match X")
    assert opt._existing(net) is None and net not in opt._states
    sgd = pynn.SGD(lr=0.1, momentum=0.9)
    net.train_step(X, T, sgd)
    velocity = sgd.state(net).buffer.copy()
    sgd.momentum = 0.0
    unchanged(net, lambda: net.train_step(X, T[:4], sgd), ValueError, "5 rows to match X")
    sgd.momentum = 0.9
    np.testing.assert_array_equal(sgd.state(net).buffer, velocity)


@pytest.mark.parametrize("opt", [pynn.SGD(lr=0.1), pynn.SGD(lr=0.1, weight_decay=0.01),
                                 pynn.SGD(lr=0.1, momentum=0.9), pynn.Adam(lr=0.1)])
def test_non_finite_step_is_not_applied(opt):
    net = pynn.MLP([3, 4, 2], seed=0)
    X, T = np.ones((2, 3)), np.ones((2, 2))
    net.train_step(X, T, opt)                         # some optimizer state exists
    params, state = net.params.copy(), opt.state(net).buffer.copy()
    step = opt.state(net).step
    for bad_X, bad_T in [(np.full((2, 3), np.nan), T), (X, np.full((2, 2), np.inf)),
                         (np.full((2, 3), 1e30), T)]:
        with pytest.raises(FloatingPointError, match="not applied"):
            net.train_step(bad_X, bad_T, opt)
        np.testing.assert_array_equal(net.params, params)
        np.testing.assert_array_equal(opt.state(net).buffer, state)
        assert opt.state(net).step == step
    net.train_step(X, T, opt)                         # and training goes on
    assert opt.state(net).step == step + 1


def huge_step_data(overflow):
    """float32 data whose loss (summed in float64) and dZ are finite while
    batch * max|X| * max|dZ| is past the largest float32 / 4, so the step's
    finiteness is not shown by the bound but by computing dW. Row 0's huge X
    meets only row 0's dZ (~0.5e19 W_0j: dW ~5e37 W_0j, finite for the
    initial |W| < 1.1; the tests assert it), row 1's huge dZ meets X = 0,
    unless `overflow` puts a huge X there too."""
    X = np.zeros((2, 3), np.float32)
    X[0, 0] = 1e19
    T = np.zeros((2, 2), np.float32)
    T[1] = 1e19                                        # dZ row 1 ~ -5e18
    if overflow:
        X[1, 1] = 1e19                                 # dW row 1 ~ 1e19 x -5e19: inf
        T[1] = 1e20
    return X, T


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("opt", [pynn.SGD(lr=1e-3), pynn.SGD(lr=1e-3, momentum=0.5)])
def test_huge_but_finite_gradient_is_applied(opt, threads):
    net = pynn.MLP([3, 2], seed=0, dtype=np.float32)
    X, T = huge_step_data(overflow=False)
    _, grads = net.gradients(X, T)
    dZ_max = 2 * 1e19 / (2 * 2)
    assert 2 * 1e19 * dZ_max > np.finfo(np.float32).max / 4   # past the bound
    assert np.isfinite(grads.params).all()
    expect = net.params.astype(np.float64) - 1e-3 * grads.params
    with pynn.num_threads(threads):
        net.train_step(X, T, opt)
    np.testing.assert_allclose(net.params, expect, rtol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("opt", [pynn.SGD(lr=1e-3), pynn.Adam(lr=1e-3)])
def test_overflowing_weight_gradient_alone_is_not_applied(opt, threads):
    net = pynn.MLP([3, 2], seed=0, dtype=np.float32)
    X, T = huge_step_data(overflow=True)
    loss, grads = net.gradients(X, T)
    assert np.isfinite(loss) and not np.isfinite(grads.params).all()
    params = net.params.copy()
    with pynn.num_threads(threads), pytest.raises(FloatingPointError, match="not applied"):
        net.train_step(X, T, opt)
    np.testing.assert_array_equal(net.params, params)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("opt", [pynn.SGD(lr=1e-3), pynn.Adam(lr=1e-3)])
def test_overflowing_bias_gradient_alone_is_not_applied(opt, threads):
    """dZ = (Y - T) / 2 ~ -1.5e38 in each of 4 rows is finite, X = 0 makes dW = 0,
    but db = 1^T dZ ~ -6e38 is past the float32 range."""
    net = pynn.MLP([3, 1], seed=0, dtype=np.float32)
    X, T = np.zeros((4, 3), np.float32), np.full((4, 1), 3e38, np.float32)
    loss, grads = net.gradients(X, T)
    assert np.isfinite(loss) and np.isfinite(grads.weights[0]).all()
    assert not np.isfinite(grads.biases[0]).all()
    params = net.params.copy()
    with pynn.num_threads(threads), pytest.raises(FloatingPointError, match="not applied"):
        net.train_step(X, T, opt)
    np.testing.assert_array_equal(net.params, params)


def test_thread_settings_are_validated():
    with pytest.raises(ValueError, match="got 0"):
        pynn.set_num_threads(0)
    with pytest.raises(TypeError, match="int or None"):
        pynn.set_num_threads(1.5)


def test_ops_bad_input():
    with pytest.raises(ValueError, match="b must have 3 rows"):
        pynn.ops.matmul(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        pynn.ops.matmul(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="b must have shape"):
        pynn.ops.dense_forward(np.ones((2, 3)), np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="activation must be one of"):
        pynn.ops.dense_forward(np.ones((2, 3)), np.ones((3, 4)), np.ones(4), "swish")
    with pytest.raises(ValueError, match="at least one sample"):
        pynn.ops.mse(np.ones((0, 2)), np.ones((0, 2)))
    with pytest.raises(ValueError, match="T must have 2 columns"):
        pynn.ops.mse(np.ones((3, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="class labels"):
        pynn.ops.softmax_cross_entropy(np.ones((3, 2)), np.array([0, 1, 2]))
