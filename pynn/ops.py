"""pynn.ops: the single steps of the maths, one C call each, so the textbook
training loop can be written by hand and compared with MLP.train_step. They run
the same C code as the network.

    Z = X W + b; A = f(Z)               dense_forward(X, W, b, activation)
    dZ = dA f'(A); dW = X^T dZ;          dense_backward(X, W, A, dA, activation)
      db = 1^T dZ; dX = dZ W^T
    L = mean((Y - T)^2)                  mse(Y, T)
    dL/dY = 2 (Y - T) / Y.size           mse_grad(Y, T)
    L = -mean sum T log softmax(Z)       softmax_cross_entropy(Z, T)
    dL/dZ = (softmax(Z) - T) / n         softmax_cross_entropy_grad(Z, T)
    C = A B (our packed GEMM)            matmul(A, B, out=None)
"""
import numpy as np

from . import _core, _threads
from . import _validate as v
from .mlp import ACTIVATIONS, _activation_code


def _common_dtype(*arrays):
    dt = np.result_type(*arrays)
    return np.dtype(np.float32) if dt == np.float32 else np.dtype(np.float64)


def _operand(a, name, dtype):
    """(C-contiguous buffer, transposed?): a itself, or a.T's buffer when a is a
    transposed view of a C-contiguous array; a copy only when neither."""
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {a.shape}")
    if a.dtype == dtype:
        if a.flags.c_contiguous:
            return a, False
        if a.T.flags.c_contiguous:
            return a.T, True
    return np.ascontiguousarray(a, dtype=dtype), False


def matmul(a, b, out=None):
    """C = a @ b with pynn's GEMM. float32 or float64 (mixed inputs are promoted
    like NumPy); transposed views (x.T) are used in place, without copies."""
    nt = _threads.get_num_threads()
    res = _core.matmul(a, b, out, nt)     # the common case, in one call
    if res is not None:
        return res
    a, b = v.real_array(a, "a"), v.real_array(b, "b")
    if out is not None and isinstance(out, np.ndarray) and out.dtype in v.FLOAT_DTYPES:
        dtype = out.dtype
    elif a.dtype == b.dtype and a.dtype in v.FLOAT_DTYPES:
        dtype = a.dtype                   # nothing to promote (the common case, O(1))
    else:
        dtype = _common_dtype(a, b)
    A, ta = _operand(a, "a", dtype)
    B, tb = _operand(b, "b", dtype)
    m, k = a.shape
    if b.shape[0] != k:
        raise ValueError(f"matmul: a is {a.shape} and b is {b.shape}; b must have {k} rows")
    n = b.shape[1]
    if out is None:
        out = np.empty((m, n), dtype)
    else:
        v.out_array(out, "out", (m, n), dtype)
    if not _core.gemm(ta, tb, A, B, out, 1.0, 0.0, nt):   # out overlaps a or b: via a copy
        target = np.empty_like(out)
        _core.gemm(ta, tb, A, B, target, 1.0, 0.0, nt)
        out[...] = target
    return out


def _act(activation, slope):
    code = _activation_code(activation, "activation")
    return code, v.finite_float(slope, "slope", lo=0.0)


def dense_forward(X, W, b, activation="identity", slope=0.01):
    """A = f(X W + b) for X (n, n_in), W (n_in, n_out), b (n_out,)."""
    W = v.real_array(W, "W")
    dtype = _common_dtype(W)
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D (n_in, n_out), got shape {W.shape}")
    W = v.matrix(W, "W", dtype)
    n_in, n_out = W.shape
    X = v.matrix(X, "X", dtype, n_in, cols_name="columns (W.shape[0])")
    b = np.ascontiguousarray(v.real_array(b, "b"), dtype=dtype)
    if b.shape != (n_out,):
        raise ValueError(f"b must have shape ({n_out},), got {b.shape}")
    code, slope = _act(activation, slope)
    A = np.empty((X.shape[0], n_out), dtype)
    if X.shape[0]:
        _core.dense_forward(X, W, b, A, code, slope, _threads.get_num_threads())
    return A


def dense_backward(X, W, A, dA, activation="identity", slope=0.01):
    """(dX, dW, db) of a dense layer A = f(X W + b), given dA = dL/dA."""
    W = v.real_array(W, "W")
    dtype = _common_dtype(W)
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D (n_in, n_out), got shape {W.shape}")
    W = v.matrix(W, "W", dtype)
    n_in, n_out = W.shape
    X = v.matrix(X, "X", dtype, n_in, cols_name="columns (W.shape[0])")
    n = X.shape[0]
    A = v.matrix(A, "A", dtype, n_out, n, cols_name="columns (W.shape[1])")
    dA = v.matrix(dA, "dA", dtype, n_out, n, cols_name="columns (W.shape[1])")
    code, slope = _act(activation, slope)
    dX = np.empty((n, n_in), dtype)
    dW = np.empty((n_in, n_out), dtype)
    db = np.empty(n_out, dtype)
    _core.dense_backward(X, W, A, dA, code, slope, dX, dW, db, _threads.get_num_threads())
    return dX, dW, db


def _pair(Y, T, names):
    Y = v.real_array(Y, names[0])
    if Y.ndim != 2:
        raise ValueError(f"{names[0]} must be 2-D (n_samples, n_outputs), got shape {Y.shape}")
    dtype = _common_dtype(Y)
    Y = v.matrix(Y, names[0], dtype)
    if Y.shape[0] == 0:
        raise ValueError(f"{names[0]} must hold at least one sample: the loss is a mean")
    return Y, dtype


def mse(Y, T):
    """mean((Y - T)^2) over every element."""
    Y, dtype = _pair(Y, T, ("Y", "T"))
    T = v.matrix(T, "T", dtype, Y.shape[1], Y.shape[0])
    return _core.mse(Y, T, None, _threads.get_num_threads())


def mse_grad(Y, T):
    """dL/dY = 2 (Y - T) / Y.size."""
    Y, dtype = _pair(Y, T, ("Y", "T"))
    T = v.matrix(T, "T", dtype, Y.shape[1], Y.shape[0])
    dY = np.empty_like(Y)
    _core.mse(Y, T, dY, _threads.get_num_threads())
    return dY


def _ce_args(Z, T):
    Z, dtype = _pair(Z, T, ("Z", "T"))
    t = v.real_array(T, "T")
    if t.ndim == 1 and t.dtype.kind in "biu":
        if t.shape[0] != Z.shape[0] or (t.size and (t.min() < 0 or t.max() >= Z.shape[1])):
            raise ValueError(f"T: expected {Z.shape[0]} class labels in [0, {Z.shape[1]})")
        return Z, None, np.ascontiguousarray(t, dtype=np.int64)
    return Z, v.matrix(t, "T", dtype, Z.shape[1], Z.shape[0]), None


def softmax_cross_entropy(Z, T):
    """-mean over rows of sum_j T_j log softmax(Z)_j; T probabilities or integer labels."""
    Z, T, labels = _ce_args(Z, T)
    return _core.softmax_cross_entropy(Z, T, labels, None, _threads.get_num_threads())


def softmax_cross_entropy_grad(Z, T):
    """dL/dZ = (softmax(Z) sum_j T_j - T) / n_samples."""
    Z, T, labels = _ce_args(Z, T)
    dZ = np.empty_like(Z)
    _core.softmax_cross_entropy(Z, T, labels, dZ, _threads.get_num_threads())
    return dZ


__all__ = ["matmul", "dense_forward", "dense_backward", "mse", "mse_grad",
           "softmax_cross_entropy", "softmax_cross_entropy_grad", "ACTIVATIONS"]
