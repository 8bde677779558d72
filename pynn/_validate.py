"""Argument checks shared by the Python API. Each raises a TypeError or
ValueError that names the argument and the expected shape or dtype, before any
C computation, so a bad call changes nothing. (Plain arrays of the right dtype
go to pynn._core first, whose checks, also before any computation, send what
they reject back here: MLP._on_batch and MLP.train_step.)"""
import math
import operator

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def dtype_arg(dtype, name="dtype"):
    """np.float32 or np.float64 (anything np.dtype accepts for them)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def real_array(x, name):
    """x as an ndarray of a real numeric dtype (bool, int or float); no copy if it is one."""
    a = x if type(x) is np.ndarray else np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    return a


def matrix(x, name, dtype, n_cols=None, n_rows=None, cols_name="columns"):
    """x as a C-contiguous 2-D array of dtype (converted once if needed)."""
    a = real_array(x, name)
    if a.ndim != 2:
        want = f"(n_samples, {n_cols})" if n_cols is not None else "(n_samples, n_features)"
        raise ValueError(f"{name} must be a 2-D array of shape {want}, got shape {a.shape}")
    if n_cols is not None and a.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} {cols_name} (shape (n_samples, {n_cols})), "
                         f"got shape {a.shape}")
    if n_rows is not None and a.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows to match X, got shape {a.shape}")
    if a.dtype != dtype or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=dtype)
    return a


def out_array(out, name, shape, dtype):
    """Checks a caller-provided output array: exact shape, dtype, C-contiguous, writable."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype:
        raise ValueError(f"{name} must have shape {tuple(shape)} and dtype {np.dtype(dtype)}, "
                         f"got shape {out.shape} and dtype {out.dtype}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{name} must be C-contiguous and writable")
    return out


def positive_int(v, name):
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got bool")
    try:
        n = operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(v).__name__}") from None
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return n


def finite_float(v, name, lo=None, hi=None, lo_open=False, hi_open=False):
    """A finite float within [lo, hi] (ends open where asked)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got bool")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}") from None
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {f}")
    if lo is not None and (f < lo or (lo_open and f == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {f}")
    if hi is not None and (f > hi or (hi_open and f == hi)):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {f}")
    return f
