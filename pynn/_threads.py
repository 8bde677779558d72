"""Thread-count policy: one process-wide setting that every pynn call reads.

When set_num_threads() was never called, a call uses omp_get_max_threads() of
the calling thread, so OMP_NUM_THREADS and threadpoolctl's
threadpool_limits(user_api="openmp") are honoured. In a child made by
os.fork(), pynn runs single-threaded: OpenMP's thread pool does not survive a
fork, and a team started there would hang.
"""
import contextlib
import os
import operator

from . import _core

_setting = None          # threads chosen by set_num_threads, or None
_forked_child = False


def _after_fork_in_child():
    global _forked_child
    _forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _max_threads():
    return max(1, _core.omp_max_threads())   # 1 in a build without OpenMP


def set_num_threads(n):
    """Use n threads in every pynn call, from every Python thread.

    n >= 1, or a negative number counting back from the maximum (-1: all
    threads OpenMP offers), or None to return to the default (OMP_NUM_THREADS /
    threadpoolctl / all cores).
    """
    global _setting
    if n is None:
        _setting = None
        return
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an int or None, got {type(n).__name__}") from None
    if n == 0:
        raise ValueError("n must be >= 1, or negative to count back from the maximum; got 0")
    if n < 0:
        n = max(1, _max_threads() + 1 + n)
    _setting = n


def get_num_threads():
    """The number of threads the next pynn call will use."""
    if _forked_child:
        return 1
    return _setting if _setting is not None else _max_threads()


@contextlib.contextmanager
def num_threads(n):
    """Context manager: use n threads inside the block, restore the setting after."""
    global _setting
    saved = _setting
    set_num_threads(n)
    try:
        yield
    finally:
        _setting = saved
