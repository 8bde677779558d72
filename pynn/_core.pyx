# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""pynn._core: the only place Python meets C.

Design:
  (a) The Python layer (pynn/*.py) validates every argument and converts arrays
      to C-contiguous arrays of the network's dtype; this module assumes that
      was done, and C checks sizes again as a second line of defence.
  (b) Arrays come in as typed memoryviews (`real` is float or double); `# IN`
      arguments are const, so read-only arrays are accepted.
  (c) Every C call runs inside `with nogil:`; one C call does the whole job (a
      forward pass, a gradient, a training step).
  (d) n_threads is resolved once by the Python layer (pynn._threads) and passed
      down to every call; C never changes OpenMP's global settings.
  (e) C returns a pynn_status; _check turns it into the Python exception.
  (f) A Net serializes its calls with a lock: one network used from two Python
      threads at once is serialized, never corrupted.
"""
from cpython.buffer cimport PyBUF_WRITABLE
from libc.stdint cimport int32_t, int64_t, uint64_t
cimport pynn._cpynn as c

import threading

ctypedef fused real:
    float
    double

DTYPE_F32 = c.PYNN_F32
DTYPE_F64 = c.PYNN_F64

_EXC = {
    c.PYNN_ERR_ARG: ValueError,
    c.PYNN_ERR_SHAPE: ValueError,
    c.PYNN_ERR_OVERFLOW: ValueError,
    c.PYNN_ERR_NOMEM: MemoryError,
    c.PYNN_ERR_NONFINITE: FloatingPointError,
    c.PYNN_ERR_NOTSUPP: NotImplementedError,
}


cdef int _check(int status, str context) except -1:
    """Raises the exception for a non-OK status, naming the call."""
    if status == c.PYNN_OK:
        return 0
    msg = c.pynn_strerror(status).decode()
    raise _EXC.get(status, RuntimeError)(f"{context}: {msg}")


cdef inline const void *_data2(const real[:, ::1] a) noexcept:
    """The first element of an optional matrix (NULL for None)."""
    return NULL if a is None else <const void *>&a[0, 0]


cdef inline const int64_t *_labels(const int64_t[::1] labels) noexcept:
    return NULL if labels is None else &labels[0]


cdef inline void *_state(real[::1] state) noexcept:
    """Optimizer state, NULL when there is none (plain SGD)."""
    return NULL if state is None or state.shape[0] == 0 else <void *>&state[0]


cdef inline int _dt(real zero) noexcept nogil:
    """The pynn_dtype of a fused specialization: _dt(<real>0)."""
    return c.PYNN_F32 if real is float else c.PYNN_F64


# -------------------------------------------------------------------- info

def build_info():
    return c.pynn_build_info().decode()


def openmp_enabled():
    return bool(c.pynn_openmp_enabled())


def omp_max_threads():
    """omp_get_max_threads() in the calling thread (honours OMP_NUM_THREADS and threadpoolctl)."""
    return c.pynn_omp_max_threads()


def openmp_runtime():
    return c.pynn_openmp_runtime().decode()


def kernel_name():
    return c.pynn_kernel_name().decode()


def kernel_list():
    return c.pynn_kernel_list().decode().split(",")


def _tuner_for_tests(const double[::1] seconds_per_call, int64_t n_calls):
    """The thread counts the adaptive tuner picks over n_calls calls when a call on
    nt threads takes seconds_per_call[nt] (nt_max = len - 1)."""
    import numpy as np
    picks = np.empty(n_calls, dtype=np.int32)
    cdef int32_t[::1] p = picks
    c.pynn_tuner_simulate(seconds_per_call.shape[0] - 1, &seconds_per_call[0], n_calls, &p[0])
    return picks


# -------------------------------------------------------------------- ops

def gemm(bint trans_a, bint trans_b, const real[:, ::1] A, const real[:, ::1] B,  # IN
         real[:, ::1] C, double alpha, double beta, int n_threads):                # OUT
    """C = alpha op(A) op(B) + beta C on C-contiguous buffers; op(X) = X.T when trans."""
    cdef int64_t m = C.shape[0], n = C.shape[1]
    cdef int64_t k = A.shape[0] if trans_a else A.shape[1]
    cdef int st
    with nogil:
        st = c.pynn_gemm(_dt(<real>0), trans_a, trans_b, m, n, k, alpha, &A[0, 0], A.shape[1],
                         &B[0, 0], B.shape[1], beta, &C[0, 0], n, NULL, n_threads)
    _check(st, "matmul")


def dense_forward(const real[:, ::1] X, const real[:, ::1] W, const real[::1] b,  # IN
                  real[:, ::1] A, int act, double slope, int n_threads):            # OUT
    cdef int st
    with nogil:
        st = c.pynn_dense_forward(_dt(<real>0), X.shape[0], W.shape[0],
                                  W.shape[1], &X[0, 0], &W[0, 0], &b[0], act, slope, &A[0, 0],
                                  n_threads)
    _check(st, "dense_forward")


def dense_backward(const real[:, ::1] X, const real[:, ::1] W, const real[:, ::1] A,  # IN
                   const real[:, ::1] dA, int act, double slope,                     # IN
                   real[:, ::1] dX, real[:, ::1] dW, real[::1] db, int n_threads):   # OUT
    cdef int st
    with nogil:
        st = c.pynn_dense_backward(_dt(<real>0), X.shape[0], W.shape[0],
                                   W.shape[1], &X[0, 0], &W[0, 0], &A[0, 0], &dA[0, 0], act, slope,
                                   &dX[0, 0], &dW[0, 0], &db[0], n_threads)
    _check(st, "dense_backward")


def mse(const real[:, ::1] Y, const real[:, ::1] T, real[:, ::1] dY, int n_threads):
    """Returns mean((Y - T)^2); fills dY = 2 (Y - T) / Y.size unless dY is None."""
    cdef double loss = 0
    cdef int st
    cdef void *dptr = <void *>_data2(dY)
    with nogil:
        st = c.pynn_mse(_dt(<real>0), Y.shape[0], Y.shape[1],
                        &Y[0, 0], &T[0, 0], &loss, dptr, n_threads)
    _check(st, "mse")
    return loss


def softmax_cross_entropy(const real[:, ::1] Z, const real[:, ::1] T,  # IN (T or labels)
                          const int64_t[::1] labels, real[:, ::1] dZ, int n_threads):
    cdef double loss = 0
    cdef int st
    cdef const void *tptr = _data2(T)
    cdef const int64_t *lptr = _labels(labels)
    cdef void *dptr = <void *>_data2(dZ)
    with nogil:
        st = c.pynn_softmax_cross_entropy(_dt(<real>0), Z.shape[0],
                                          Z.shape[1], &Z[0, 0], tptr, lptr, &loss, dptr, n_threads)
    _check(st, "softmax_cross_entropy")
    return loss


# -------------------------------------------------------------------- network

cdef class Net:
    """A C network handle. Exposes its flat parameter buffer through the buffer
    protocol, so np.asarray(net) is a writable view that keeps the handle alive."""
    cdef c.pynn_net *ptr
    cdef readonly int dtype
    cdef readonly int64_t n_params
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]
    cdef object lock

    def __cinit__(self, int dtype, sizes, acts, double slope, int loss):
        cdef int64_t[::1] sz = __import__("numpy").asarray(sizes, dtype="int64")
        cdef int32_t[::1] ac = __import__("numpy").asarray(acts, dtype="int32")
        cdef int st
        self.ptr = NULL
        if ac.shape[0] < 1 or sz.shape[0] != ac.shape[0] + 1:
            raise ValueError("sizes must have one more entry than acts")
        st = c.pynn_net_create(&self.ptr, dtype, ac.shape[0], &sz[0], &ac[0], slope, loss)
        _check(st, "creating the network")
        self.dtype = dtype
        self.n_params = c.pynn_net_n_params(self.ptr)
        self.shape[0] = self.n_params
        self.strides[0] = 4 if dtype == DTYPE_F32 else 8
        self.lock = threading.Lock()

    def __dealloc__(self):
        if self.ptr != NULL:
            c.pynn_net_destroy(self.ptr)
            self.ptr = NULL

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        buffer.buf = c.pynn_net_params(self.ptr)
        buffer.format = b"f" if self.dtype == DTYPE_F32 else b"d"
        buffer.internal = NULL
        buffer.itemsize = self.strides[0]
        buffer.len = self.n_params * self.strides[0]
        buffer.ndim = 1
        buffer.obj = self
        buffer.readonly = 0
        buffer.shape = self.shape
        buffer.strides = self.strides
        buffer.suboffsets = NULL

    def __releasebuffer__(self, Py_buffer *buffer):
        pass

    def weight_offset(self, int64_t layer):
        return c.pynn_net_weight_offset(self.ptr, layer)

    def bias_offset(self, int64_t layer):
        return c.pynn_net_bias_offset(self.ptr, layer)

    @property
    def workspace_batch(self):
        return c.pynn_net_workspace_batch(self.ptr)

    @property
    def workspace_allocations(self):
        return c.pynn_net_workspace_allocations(self.ptr)

    @property
    def last_threads(self):
        return c.pynn_net_last_threads(self.ptr)

    def set_adaptive_threads(self, bint on):
        with self.lock:
            c.pynn_net_set_adaptive_threads(self.ptr, on)

    def init(self, uint64_t seed):
        with self.lock:
            c.pynn_net_init(self.ptr, seed)

    def reserve(self, int64_t batch, int n_threads):
        cdef int st
        with self.lock:
            with nogil:
                st = c.pynn_net_reserve(self.ptr, batch, n_threads)
        _check(st, "reserving the workspace")

    def forward(self, const real[:, ::1] X, real[:, ::1] Y, int n_threads):
        cdef int st
        with self.lock:
            with nogil:
                st = c.pynn_net_forward(self.ptr, X.shape[0], &X[0, 0], &Y[0, 0], n_threads)
        _check(st, "forward")

    def loss(self, const real[:, ::1] X, const real[:, ::1] T, const int64_t[::1] labels,
             int n_threads):
        cdef double loss = 0
        cdef int st
        cdef const void *tptr = _data2(T)
        cdef const int64_t *lptr = _labels(labels)
        with self.lock:
            with nogil:
                st = c.pynn_net_loss(self.ptr, X.shape[0], &X[0, 0], tptr, lptr, &loss, n_threads)
        _check(st, "loss")
        return loss

    def gradients(self, const real[:, ::1] X, const real[:, ::1] T, const int64_t[::1] labels,
                  real[::1] grad, int n_threads):
        cdef double loss = 0
        cdef int st
        cdef const void *tptr = _data2(T)
        cdef const int64_t *lptr = _labels(labels)
        with self.lock:
            with nogil:
                st = c.pynn_net_gradients(self.ptr, X.shape[0], &X[0, 0], tptr, lptr, &loss,
                                          &grad[0], n_threads)
        _check(st, "gradients")
        return loss

    def train_step(self, const real[:, ::1] X, const real[:, ::1] T, const int64_t[::1] labels,
                   opt_args, counter, real[::1] state, int n_threads):
        """One forward + loss + backprop + update; returns the loss. opt_args is
        (kind, lr, momentum, nesterov, weight_decay, beta1, beta2, eps, decoupled);
        counter.step (updates applied so far) is advanced here, with no Python
        bytecode between the C call and the count, so a KeyboardInterrupt can never
        separate the weights from the optimizer's step count. Raises
        FloatingPointError (nothing applied) when the loss or gradient is not finite."""
        cdef c.pynn_optim opt = _optim(opt_args, counter.step + 1)
        cdef double loss = 0
        cdef int st
        cdef const void *tptr = _data2(T)
        cdef const int64_t *lptr = _labels(labels)
        cdef void *sptr = _state(state)
        with self.lock:
            with nogil:
                st = c.pynn_net_train_step(self.ptr, X.shape[0], &X[0, 0], tptr, lptr, &opt, sptr,
                                           &loss, n_threads)
            if st == c.PYNN_OK:
                counter.step += 1
        if st == c.PYNN_ERR_NONFINITE:
            raise FloatingPointError(
                f"train_step: the loss ({loss!r}) or its gradient is not finite; the step was "
                "not applied (parameters and optimizer state unchanged)")
        _check(st, "train_step")
        return loss

    def train_batches(self, const real[:, ::1] X, const real[:, ::1] T, const int64_t[::1] labels,
                      const int64_t[::1] idx, int64_t batch_size, opt_args, counter,
                      real[::1] state, double[::1] losses, int n_threads):
        """Training steps on the mini-batches of rows idx[b*batch_size:(b+1)*batch_size],
        in one C call; returns the number of batches applied (all, unless a step was
        not finite: then losses[n] holds that step's loss and FloatingPointError is
        NOT raised here, so the caller can report how far it got). counter.step
        advances by the batches applied, as in train_step."""
        cdef c.pynn_optim opt = _optim(opt_args, counter.step + 1)
        cdef int64_t n_done = 0
        cdef int st
        cdef const void *tptr = _data2(T)
        cdef const int64_t *lptr = _labels(labels)
        cdef void *sptr = _state(state)
        with self.lock:
            with nogil:
                st = c.pynn_net_train_batches(self.ptr, X.shape[0], &X[0, 0], tptr, lptr, &idx[0],
                                              idx.shape[0], batch_size, &opt, sptr, &losses[0],
                                              &n_done, n_threads)
            counter.step += n_done
        if st != c.PYNN_ERR_NONFINITE:
            _check(st, "train_batches")
        return n_done


cdef c.pynn_optim _optim(opt_args, int64_t step) except *:
    """The C optimizer struct from (kind, lr, momentum, nesterov, weight_decay, beta1,
    beta2, eps, decoupled) and the 1-based step."""
    cdef c.pynn_optim opt
    opt.kind, opt.lr, opt.momentum, opt.nesterov, opt.weight_decay, opt.beta1, opt.beta2, \
        opt.eps, opt.decoupled = opt_args
    opt.reserved = 0
    opt.step = step
    return opt
