# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""pynn._core: the only place Python meets C.

Design:
  (a) The Python layer (pynn/*.py) validates every argument and converts arrays
      to C-contiguous arrays of the network's dtype, with messages for users;
      this module checks every array again (b), and C its sizes, as second
      and third lines of defence. On the hot calls (forward, loss, gradients,
      train_step) plain NumPy arrays go straight to (b), and the Python layer
      converts and explains only when it raises NotPlain.
  (b) Arrays come in as objects with the buffer protocol; _get() takes a view
      of each (C-contiguous, the expected dtype, number of dimensions and
      shape, else NotPlain, a ValueError, naming it) and hands C its first
      element: C sees only pointers and sizes, and a view costs less per call
      than a typed memoryview, which matters for a tiny network's step. `# IN`
      arguments are read-only views, so read-only arrays are accepted. Every
      view is released when the call ends, on every path.
  (c) Every C call runs inside `with nogil:`; one C call does the whole job (a
      forward pass, a gradient, a training step).
  (d) n_threads is resolved once by the Python layer (pynn._threads) and passed
      down to every call; C never changes OpenMP's global settings.
  (e) C returns a pynn_status; _check turns it into the Python exception.
  (f) A Net serializes its calls with a lock (_acquire; released inside the
      call's `nogil` block): one network used from two Python threads at once
      is serialized, never corrupted.
"""
from cpython.buffer cimport (PyBUF_C_CONTIGUOUS, PyBUF_FORMAT, PyBUF_STRIDES, PyBUF_WRITABLE,
                             PyBuffer_IsContiguous, PyBuffer_Release, PyObject_GetBuffer)
from cpython.exc cimport PyErr_CheckSignals
from cpython.pythread cimport (NOWAIT_LOCK, PY_LOCK_ACQUIRED, PyLockStatus, PyThread_acquire_lock,
                               PyThread_allocate_lock, PyThread_free_lock, PyThread_release_lock,
                               PyThread_type_lock)
from libc.stdint cimport int32_t, int64_t, uint64_t
cimport pynn._cpynn as c

cdef extern from "Python.h":        # pythread.h's; Cython's cpython/pythread.pxd lacks it
    PyLockStatus PyThread_acquire_lock_timed(PyThread_type_lock lock, long long microseconds,
                                             int intr_flag) nogil

import sys

import numpy as np

cdef bint _LITTLE_ENDIAN = sys.byteorder == "little"

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


# ------------------------------------------------------------- array views

class NotPlain(ValueError):
    """An array is not what C takes as it is: a C-contiguous array of the dtype,
    number of dimensions and shape expected (raised by _get, naming it). The
    Python layer passes plain NumPy arrays straight in and, on this, converts
    the arguments (or says what is wrong with them) and calls again."""

cdef enum:
    LABELS = -1          # _get's dtype for int64 class labels
    NOT_OURS = -2        # _items_of: items of no dtype pynn takes
    N_VIEWS = 9          # the most arrays one call takes (dense_backward)

ctypedef struct Views:
    Py_buffer v[N_VIEWS]
    int n


cdef inline void _views_init(Views *vs) noexcept:
    vs.n = 0


cdef inline void _views_release(Views *vs) noexcept:
    cdef int i
    for i in range(vs.n):
        PyBuffer_Release(&vs.v[i])
    vs.n = 0


cdef int _dtype_of(a, str name) except -1:
    """The pynn_dtype of a float32 or float64 array."""
    kind = getattr(a, "dtype", None)
    if kind == "float32":
        return c.PYNN_F32
    if kind == "float64":
        return c.PYNN_F64
    raise ValueError(f"{name} must be a float32 or float64 array")


cdef int _items_of(const Py_buffer *v) noexcept:
    """The pynn_dtype of a view's items (or LABELS for int64); NOT_OURS for any other."""
    cdef const char *f = v.format               # requested, so set: "f", "d", "l", ...
    if f != NULL and (f[0] == b"=" or f[0] == b"@" or (f[0] == b"<" and _LITTLE_ENDIAN)):
        f += 1                                  # native byte order, said explicitly
    if f == NULL or f[0] == 0 or f[1] != 0:
        return NOT_OURS
    if f[0] == b"f" and v.itemsize == 4:
        return c.PYNN_F32
    if f[0] == b"d" and v.itemsize == 8:
        return c.PYNN_F64
    if (f[0] == b"l" or f[0] == b"q") and v.itemsize == 8:
        return LABELS
    return NOT_OURS


cdef Py_buffer *_get(Views *vs, a, int dtype, int ndim, bint writable, str name,
                     int64_t rows=-1, int64_t cols=-1) except NULL:
    """A view of `a`, held in vs until released: a C-contiguous ndim-D array of
    dtype (a pynn_dtype, or LABELS for int64) with `rows` rows and `cols`
    columns where those are >= 0, else NotPlain (a ValueError) naming it. C
    sees only pointers and sizes, so this is where a buffer too small is caught."""
    cdef Py_buffer *v
    cdef const char *f
    if vs.n >= N_VIEWS:
        raise RuntimeError("pynn._core: more arrays than N_VIEWS in one call")
    v = &vs.v[vs.n]
    try:
        PyObject_GetBuffer(a, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT
                           | (PyBUF_WRITABLE if writable else 0))
    except (BufferError, TypeError, ValueError) as e:   # not contiguous, read-only, no buffer
        raise NotPlain(f"{_want(name, dtype, ndim, writable)} ({e})") from None
    vs.n += 1
    if (v.ndim != ndim or (writable and v.readonly) or not PyBuffer_IsContiguous(v, b"C")
            or _items_of(v) != dtype):
        raise NotPlain(_want(name, dtype, ndim, writable))
    if (rows >= 0 and v.shape[0] != rows) or (cols >= 0 and ndim > 1 and v.shape[1] != cols):
        want = ", ".join(str(d) if d >= 0 else "n" for d in (rows, cols)[:ndim])
        got = ", ".join(str(v.shape[i]) for i in range(v.ndim))
        raise NotPlain(f"{name} must have shape ({want}{',' if ndim == 1 else ''}), got ({got})")
    return v


cdef str _want(str name, int dtype, int ndim, bint writable):
    kind = "int64" if dtype == LABELS else "float32" if dtype == c.PYNN_F32 else "float64"
    return f"{name} must be a C-contiguous{' writable' if writable else ''} {ndim}-D {kind} array"


cdef inline void *_opt(Views *vs, a, int dtype, int ndim, bint writable, str name,
                       int64_t rows=-1, int64_t cols=-1) except? NULL:
    """The first element of an optional array (NULL for None), checked as _get does."""
    if a is None:
        return NULL
    return _get(vs, a, dtype, ndim, writable, name, rows, cols).buf


cdef void *_state(Views *vs, state, int dtype, const c.pynn_optim *opt,
                  int64_t n_params) except? NULL:
    """The optimizer's state: NULL when it keeps none (plain SGD, whatever is
    passed), else exactly pynn_optim_state_len elements."""
    cdef int64_t n = c.pynn_optim_state_len(opt, n_params)
    if n == 0:
        return NULL
    if state is None:
        raise ValueError(f"state must hold {n} values for this optimizer, got None")
    return _get(vs, state, dtype, 1, True, "state", n).buf


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


def _kernel_blocks_for_tests(bint f64):
    """(MR, NR, MC, KC, NC, sup_n, sup_nt, cols_n, narrow_below) of the chosen kernel,
    float32 or float64 (narrow_below: products of fewer columns go to another set; 0: none)."""
    cdef int64_t out[9]
    c.pynn_kernel_blocks(c.PYNN_F64 if f64 else c.PYNN_F32, out)
    return tuple(out[i] for i in range(9))


def _team_loop_for_tests(int64_t n, int64_t chunk, bint owned, int n_threads):
    """How often each index of [0, n) ran in two team loops, one after the other
    (chunks of `chunk`, owned shares or one shared counter), on a team of n_threads."""
    import numpy as np
    hits = np.zeros(max(n, 1), dtype=np.int32)
    cdef int32_t[::1] h = hits
    with nogil:
        c.pynn_team_loop_simulate(n, chunk, owned, n_threads, &h[0])
    return hits[:n]


def _tuner_for_tests(seconds):
    """The thread counts the adaptive tuner picks when call i on nt threads takes
    seconds[i, nt] (seconds: n_calls x (nt_max + 1))."""
    import numpy as np
    s = np.ascontiguousarray(seconds, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] < 2 or s.shape[0] < 1:
        raise ValueError("seconds must be 2-D: n_calls x (nt_max + 1)")
    picks = np.empty(s.shape[0], dtype=np.int32)
    cdef double[:, ::1] sv = s
    cdef int32_t[::1] p = picks
    c.pynn_tuner_simulate(<int>s.shape[1] - 1, &sv[0, 0], s.shape[0], &p[0])
    return picks


# -------------------------------------------------------------------- ops

cdef inline bint _overlap(const Py_buffer *x, const Py_buffer *y) noexcept:
    """Whether the bytes of two contiguous (C or Fortran order) views overlap."""
    cdef const char *xb = <const char *>x.buf
    cdef const char *yb = <const char *>y.buf
    return x.len > 0 and y.len > 0 and xb < yb + y.len and yb < xb + x.len


cdef Py_buffer *_matrix_view(Views *vs, a, bint writable, bint *trans):
    """A view of `a`, held in vs, when it is a 2-D float array, non-empty, either
    C-contiguous (trans False) or the transpose of a C-contiguous array (trans
    True; the view's buf is then that array's); else NULL, holding nothing."""
    cdef Py_buffer *v = &vs.v[vs.n]
    try:
        PyObject_GetBuffer(a, v, PyBUF_STRIDES | PyBUF_FORMAT | (PyBUF_WRITABLE if writable else 0))
    except (BufferError, TypeError, ValueError):
        return NULL
    vs.n += 1
    trans[0] = False
    if v.ndim == 2 and v.shape[0] > 0 and v.shape[1] > 0 and _items_of(v) >= 0:
        if PyBuffer_IsContiguous(v, b"C"):
            return v
        if PyBuffer_IsContiguous(v, b"F"):
            trans[0] = True
            return v
    vs.n -= 1
    PyBuffer_Release(v)
    return NULL


def matmul(a, b, out, int n_threads):
    """a @ b in one call, into out or a new array, when a and b are non-empty 2-D
    arrays of one float dtype, each C-contiguous or the transpose of such an
    array (read in place), and out is None or a C-contiguous writable array of
    the product's shape and dtype that shares no memory with a or b. Returns
    the product, or None when the arguments are not of that kind (nothing is
    done: pynn.ops.matmul then converts and checks them)."""
    cdef Views vs
    cdef Py_buffer *pa
    cdef Py_buffer *pb
    cdef Py_buffer *pc
    cdef bint ta, tb, tc
    cdef int dt, st
    cdef int64_t m, n, k
    _views_init(&vs)
    try:
        pa = _matrix_view(&vs, a, False, &ta)
        pb = _matrix_view(&vs, b, False, &tb) if pa != NULL else NULL
        if pb == NULL:
            return None
        dt = _items_of(pa)
        if _items_of(pb) != dt or pb.shape[0] != pa.shape[1]:
            return None
        m, n, k = pa.shape[0], pb.shape[1], pa.shape[1]
        if out is None:
            out = np.empty((m, n), np.float32 if dt == c.PYNN_F32 else np.float64)
        pc = _matrix_view(&vs, out, True, &tc)
        if (pc == NULL or tc or _items_of(pc) != dt or pc.shape[0] != m or pc.shape[1] != n
                or _overlap(pc, pa) or _overlap(pc, pb)):
            return None
        with nogil:                             # op(X)'s buffer holds X.T when X is transposed
            st = c.pynn_gemm(dt, ta, tb, m, n, k, 1.0, pa.buf, m if ta else k, pb.buf,
                             k if tb else n, 0.0, pc.buf, n, NULL, n_threads)
    finally:
        _views_release(&vs)
    _check(st, "matmul")
    return out


def gemm(bint trans_a, bint trans_b, A, B,      # IN
         C, double alpha, double beta, int n_threads):   # OUT
    """C = alpha op(A) op(B) + beta C on C-contiguous buffers; op(X) = X.T when
    trans. Returns False, having done nothing, when C's memory overlaps A's or
    B's (the product must not read what it writes); True when done."""
    cdef Views vs
    cdef Py_buffer *a
    cdef Py_buffer *b
    cdef Py_buffer *cc
    cdef int dt = _dtype_of(C, "C"), st
    cdef int64_t m, n, k
    _views_init(&vs)
    try:
        a = _get(&vs, A, dt, 2, False, "A")
        b = _get(&vs, B, dt, 2, False, "B")
        cc = _get(&vs, C, dt, 2, True, "C")
        m, n = cc.shape[0], cc.shape[1]
        k = a.shape[0] if trans_a else a.shape[1]
        if ((a.shape[1] if trans_a else a.shape[0]) != m
                or (b.shape[1] if trans_b else b.shape[0]) != k
                or (b.shape[0] if trans_b else b.shape[1]) != n):
            raise ValueError("matmul: the shapes of A, B and C do not match")
        if _overlap(cc, a) or _overlap(cc, b):
            return False
        with nogil:
            st = c.pynn_gemm(dt, trans_a, trans_b, m, n, k, alpha, a.buf, a.shape[1], b.buf,
                             b.shape[1], beta, cc.buf, n, NULL, n_threads)
    finally:
        _views_release(&vs)
    _check(st, "matmul")
    return True


def dense_forward(X, W, b, A, int act, double slope, int n_threads):   # IN X, W, b; OUT A
    cdef Views vs
    cdef Py_buffer *x
    cdef Py_buffer *w
    cdef const void *pb
    cdef void *pa
    cdef int dt = _dtype_of(W, "W"), st
    _views_init(&vs)
    try:
        w = _get(&vs, W, dt, 2, False, "W")
        x = _get(&vs, X, dt, 2, False, "X", -1, w.shape[0])
        pb = _get(&vs, b, dt, 1, False, "b", w.shape[1]).buf
        pa = _get(&vs, A, dt, 2, True, "A", x.shape[0], w.shape[1]).buf
        with nogil:
            st = c.pynn_dense_forward(dt, x.shape[0], w.shape[0], w.shape[1], x.buf, w.buf, pb,
                                      act, slope, pa, n_threads)
    finally:
        _views_release(&vs)
    _check(st, "dense_forward")


def dense_backward(X, W, A, dA, int act, double slope,   # IN
                   dX, dW, db, int n_threads):           # OUT
    cdef Views vs
    cdef Py_buffer *x
    cdef Py_buffer *w
    cdef const void *pa
    cdef const void *pda
    cdef void *pdx
    cdef void *pdw
    cdef void *pdb
    cdef int dt = _dtype_of(W, "W"), st
    _views_init(&vs)
    try:
        w = _get(&vs, W, dt, 2, False, "W")
        x = _get(&vs, X, dt, 2, False, "X", -1, w.shape[0])
        pa = _get(&vs, A, dt, 2, False, "A", x.shape[0], w.shape[1]).buf
        pda = _get(&vs, dA, dt, 2, False, "dA", x.shape[0], w.shape[1]).buf
        pdx = _get(&vs, dX, dt, 2, True, "dX", x.shape[0], w.shape[0]).buf
        pdw = _get(&vs, dW, dt, 2, True, "dW", w.shape[0], w.shape[1]).buf
        pdb = _get(&vs, db, dt, 1, True, "db", w.shape[1]).buf
        with nogil:
            st = c.pynn_dense_backward(dt, x.shape[0], w.shape[0], w.shape[1], x.buf, w.buf, pa,
                                       pda, act, slope, pdx, pdw, pdb, n_threads)
    finally:
        _views_release(&vs)
    _check(st, "dense_backward")


def mse(Y, T, dY, int n_threads):
    """Returns mean((Y - T)^2); fills dY = 2 (Y - T) / Y.size unless dY is None."""
    cdef Views vs
    cdef Py_buffer *y
    cdef const void *pt
    cdef void *pdy
    cdef double loss = 0
    cdef int dt = _dtype_of(Y, "Y"), st
    _views_init(&vs)
    try:
        y = _get(&vs, Y, dt, 2, False, "Y")
        pt = _get(&vs, T, dt, 2, False, "T", y.shape[0], y.shape[1]).buf
        pdy = _opt(&vs, dY, dt, 2, True, "dY", y.shape[0], y.shape[1])
        with nogil:
            st = c.pynn_mse(dt, y.shape[0], y.shape[1], y.buf, pt, &loss, pdy, n_threads)
    finally:
        _views_release(&vs)
    _check(st, "mse")
    return loss


def softmax_cross_entropy(Z, T, labels, dZ, int n_threads):   # IN Z, T or labels; OUT dZ
    cdef Views vs
    cdef Py_buffer *z
    cdef const void *pt
    cdef const int64_t *pl
    cdef void *pdz
    cdef double loss = 0
    cdef int dt = _dtype_of(Z, "Z"), st
    _views_init(&vs)
    try:
        z = _get(&vs, Z, dt, 2, False, "Z")
        pt = _opt(&vs, T, dt, 2, False, "T", z.shape[0], z.shape[1])
        pl = <const int64_t *>_opt(&vs, labels, LABELS, 1, False, "labels", z.shape[0])
        pdz = _opt(&vs, dZ, dt, 2, True, "dZ", z.shape[0], z.shape[1])
        with nogil:
            st = c.pynn_softmax_cross_entropy(dt, z.shape[0], z.shape[1], z.buf, pt, pl, &loss,
                                              pdz, n_threads)
    finally:
        _views_release(&vs)
    _check(st, "softmax_cross_entropy")
    return loss


# -------------------------------------------------------------------- network

cdef int _acquire(PyThread_type_lock lk) except -1:
    """Takes a network's lock (released by the caller inside its nogil block). A
    wait runs without the GIL and, like threading.Lock's, a signal interrupts it
    (Ctrl-C raises KeyboardInterrupt); uncontended it costs a few instructions,
    where a threading.Lock cost about 0.1 us a call."""
    cdef PyLockStatus r
    if PyThread_acquire_lock(lk, NOWAIT_LOCK):
        return 0
    while True:
        with nogil:
            r = PyThread_acquire_lock_timed(lk, -1, 1)
        if r == PY_LOCK_ACQUIRED:
            return 0
        PyErr_CheckSignals()                    # interrupted: run the handlers, maybe raise


cdef class Net:
    """A C network handle. Exposes its flat parameter buffer through the buffer
    protocol, so np.asarray(net) is a writable view that keeps the handle alive."""
    cdef c.pynn_net *ptr
    cdef readonly int dtype
    cdef readonly int64_t n_params
    cdef readonly int64_t n_in, n_out
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]
    cdef PyThread_type_lock lk     # see _acquire; released inside the nogil block of the call

    def __cinit__(self, int dtype, sizes, acts, double slope, int loss):
        cdef int64_t[::1] sz = __import__("numpy").asarray(sizes, dtype="int64")
        cdef int32_t[::1] ac = __import__("numpy").asarray(acts, dtype="int32")
        cdef int st
        self.ptr = NULL
        self.lk = PyThread_allocate_lock()
        if self.lk == NULL:
            raise MemoryError("creating the network's lock")
        if ac.shape[0] < 1 or sz.shape[0] != ac.shape[0] + 1:
            raise ValueError("sizes must have one more entry than acts")
        st = c.pynn_net_create(&self.ptr, dtype, ac.shape[0], &sz[0], &ac[0], slope, loss)
        _check(st, "creating the network")
        self.dtype = dtype
        self.n_params = c.pynn_net_n_params(self.ptr)
        self.n_in, self.n_out = sz[0], sz[sz.shape[0] - 1]
        self.shape[0] = self.n_params
        self.strides[0] = 4 if dtype == DTYPE_F32 else 8

    def __dealloc__(self):
        if self.ptr != NULL:
            c.pynn_net_destroy(self.ptr)
            self.ptr = NULL
        if self.lk != NULL:
            PyThread_free_lock(self.lk)
            self.lk = NULL

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
        _acquire(self.lk)
        with nogil:
            c.pynn_net_set_adaptive_threads(self.ptr, on)
            PyThread_release_lock(self.lk)

    def init(self, uint64_t seed):
        _acquire(self.lk)
        with nogil:
            c.pynn_net_init(self.ptr, seed)
            PyThread_release_lock(self.lk)

    cdef Py_buffer *_batch(self, Views *vs, X, T, labels, const void **pt,
                           const int64_t **pl) except NULL:
        """The view of a batch X (n_in columns), and its targets: *pt the first
        element of T (batch x n_out) and *pl of labels (batch), each NULL when None."""
        cdef Py_buffer *x = _get(vs, X, self.dtype, 2, False, "X", -1, self.n_in)
        if x.shape[0] == 0:
            raise NotPlain("X must hold at least one sample: the loss is a mean over the batch")
        pt[0] = _opt(vs, T, self.dtype, 2, False, "T", x.shape[0], self.n_out)
        pl[0] = <const int64_t *>_opt(vs, labels, LABELS, 1, False, "labels", x.shape[0])
        return x

    def reserve(self, int64_t batch, int n_threads):
        cdef int st
        _acquire(self.lk)
        with nogil:
            st = c.pynn_net_reserve(self.ptr, batch, n_threads)
            PyThread_release_lock(self.lk)
        _check(st, "reserving the workspace")

    def forward(self, X, Y, int n_threads):   # IN X; OUT Y
        cdef Views vs
        cdef Py_buffer *x
        cdef void *py
        cdef int st
        _views_init(&vs)
        try:
            x = _get(&vs, X, self.dtype, 2, False, "X", -1, self.n_in)
            py = _get(&vs, Y, self.dtype, 2, True, "Y", x.shape[0], self.n_out).buf
            _acquire(self.lk)
            with nogil:
                st = c.pynn_net_forward(self.ptr, x.shape[0], x.buf, py, n_threads)
                PyThread_release_lock(self.lk)
        finally:
            _views_release(&vs)
        _check(st, "forward")

    def loss(self, X, T, labels, int n_threads):   # IN X, T or labels
        cdef Views vs
        cdef Py_buffer *x
        cdef const void *pt
        cdef const int64_t *pl
        cdef double loss = 0
        cdef int st
        _views_init(&vs)
        try:
            x = self._batch(&vs, X, T, labels, &pt, &pl)
            _acquire(self.lk)
            with nogil:
                st = c.pynn_net_loss(self.ptr, x.shape[0], x.buf, pt, pl, &loss, n_threads)
                PyThread_release_lock(self.lk)
        finally:
            _views_release(&vs)
        _check(st, "loss")
        return loss

    def gradients(self, X, T, labels, grad, int n_threads):   # IN X, T or labels; OUT grad
        cdef Views vs
        cdef Py_buffer *x
        cdef const void *pt
        cdef const int64_t *pl
        cdef void *pg
        cdef double loss = 0
        cdef int st
        _views_init(&vs)
        try:
            x = self._batch(&vs, X, T, labels, &pt, &pl)
            pg = _get(&vs, grad, self.dtype, 1, True, "grad", self.n_params).buf
            _acquire(self.lk)
            with nogil:
                st = c.pynn_net_gradients(self.ptr, x.shape[0], x.buf, pt, pl, &loss, pg,
                                          n_threads)
                PyThread_release_lock(self.lk)
        finally:
            _views_release(&vs)
        _check(st, "gradients")
        return loss

    def train_step(self, X, T, labels, opt_args, counter, state, int n_threads):
        """One forward + loss + backprop + update; returns the loss. X and T (or
        labels) IN, state (the optimizer's, may be empty) IN/OUT. opt_args is
        (kind, lr, momentum, nesterov, weight_decay, beta1, beta2, eps, decoupled);
        counter.step (updates applied so far) is advanced here, with no Python
        bytecode between the C call and the count, so a KeyboardInterrupt can never
        separate the weights from the optimizer's step count. Raises
        FloatingPointError (nothing applied) when the loss or gradient is not finite."""
        cdef c.pynn_optim opt = _optim(opt_args, counter.step + 1)
        cdef Views vs
        cdef Py_buffer *x
        cdef const void *pt
        cdef const int64_t *pl
        cdef void *ps
        cdef double loss = 0
        cdef int st
        _views_init(&vs)
        try:
            x = self._batch(&vs, X, T, labels, &pt, &pl)
            ps = _state(&vs, state, self.dtype, &opt, self.n_params)
            _acquire(self.lk)
            with nogil:
                st = c.pynn_net_train_step(self.ptr, x.shape[0], x.buf, pt, pl, &opt, ps,
                                           &loss, n_threads)
                PyThread_release_lock(self.lk)
            if st == c.PYNN_OK:
                counter.step += 1
        finally:
            _views_release(&vs)
        if st == c.PYNN_ERR_NONFINITE:
            raise FloatingPointError(
                f"train_step: the loss ({loss!r}) or its gradient is not finite; the step was "
                "not applied (parameters and optimizer state unchanged)")
        _check(st, "train_step")
        return loss

    def train_batches(self, X, T, labels, idx, int64_t batch_size, opt_args, counter, state,
                      losses, int n_threads):
        """Training steps on the mini-batches of rows idx[b*batch_size:(b+1)*batch_size],
        in one C call; returns the number of batches applied (all, unless a step was
        not finite: then losses[n] holds that step's loss and FloatingPointError is
        NOT raised here, so the caller can report how far it got). counter.step
        advances by the batches applied, as in train_step. X, T (or labels), idx
        (int64 row indices) IN; state IN/OUT; losses (float64) OUT."""
        cdef c.pynn_optim opt = _optim(opt_args, counter.step + 1)
        cdef Views vs
        cdef Py_buffer *x
        cdef Py_buffer *ix
        cdef const void *pt
        cdef const int64_t *pl
        cdef void *ps
        cdef double *plosses
        cdef int64_t n_done = 0
        cdef int st
        _views_init(&vs)
        try:
            x = self._batch(&vs, X, T, labels, &pt, &pl)
            ix = _get(&vs, idx, LABELS, 1, False, "idx")
            ps = _state(&vs, state, self.dtype, &opt, self.n_params)
            plosses = <double *>_get(&vs, losses, c.PYNN_F64, 1, True, "losses",
                                     (ix.shape[0] + batch_size - 1) // batch_size
                                     if batch_size > 0 else -1).buf
            _acquire(self.lk)
            with nogil:
                st = c.pynn_net_train_batches(self.ptr, x.shape[0], x.buf, pt, pl,
                                              <const int64_t *>ix.buf, ix.shape[0], batch_size,
                                              &opt, ps, plosses, &n_done, n_threads)
                PyThread_release_lock(self.lk)
            counter.step += n_done
        finally:
            _views_release(&vs)
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
