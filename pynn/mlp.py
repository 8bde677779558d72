"""pynn.MLP: a multilayer perceptron whose forward pass, loss, backpropagation
and optimizer update each run as ONE C call; this file only validates and
orchestrates."""
import os

import numpy as np

from . import _core, _threads
from . import _validate as v
from .optim import Optimizer

ACTIVATIONS = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "softmax": 5}
LOSSES = {"mse": 0, "cross_entropy": 1}


def _activation_code(name, arg):
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"{arg} must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _physical_memory():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(sizes, dtype):
    """MemoryError before anything is allocated when parameters + gradients
    cannot fit in the machine's physical memory."""
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    need, have = 2 * n_params * dtype.itemsize, _physical_memory()
    if have is not None and need > have:
        raise MemoryError(f"sizes {sizes}: {n_params} parameters need {need / 2**30:.1f} GiB for "
                          f"parameters and gradients; this machine has {have / 2**30:.1f} GiB")


class Gradients:
    """The gradient of the loss with respect to every parameter: `.params` is
    one flat array laid out like MLP.params; `.weights[i]` and `.biases[i]` are
    views into it shaped like the network's."""

    def __init__(self, params, weights, biases):
        self.params = params
        self.weights = weights
        self.biases = biases

    def __repr__(self):
        return f"Gradients(n_params={self.params.size}, dtype={self.params.dtype})"


class MLP:
    """A feedforward network: A_l = f_l(A_{l-1} W_l + b_l), l = 1..L, A_0 = X.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths [n_inputs, hidden..., n_outputs]; at least two entries.
    activation : str or sequence of str
        Hidden-layer activation: one name for every hidden layer, or one per
        hidden layer. Names: identity, sigmoid, tanh, relu, leaky_relu.
    output : str, optional
        Output-layer activation; default "softmax" with loss="cross_entropy",
        else "identity". softmax is allowed only here.
    loss : {"mse", "cross_entropy"}
        mse: mean over batch and outputs of (Y - T)^2. cross_entropy: softmax
        output, targets as probabilities (n, n_outputs) or integer labels (n,).
    dtype : np.float32 or np.float64
    seed : int, optional
        Seeds the initialization (He-uniform for relu/leaky_relu layers,
        Glorot-uniform otherwise; zero biases). The same seed gives the same
        bits on every machine. None draws a seed from the OS.
    leaky_slope : float
        Slope of leaky_relu for z < 0 (>= 0).
    """

    def __init__(self, sizes, activation="relu", output=None, loss="mse", dtype=np.float32,
                 seed=None, leaky_slope=0.01):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
        sizes = [v.positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least 2 entries [n_inputs, n_outputs], got {sizes}")
        n_layers = len(sizes) - 1
        if not isinstance(loss, str) or loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        if output is None:
            output = "softmax" if loss == "cross_entropy" else "identity"
        hidden = [activation] * (n_layers - 1) if isinstance(activation, str) else list(activation)
        if len(hidden) != n_layers - 1:
            raise ValueError(f"activation must be one name or {n_layers - 1} names (one per hidden "
                             f"layer), got {len(hidden)}")
        codes = [_activation_code(a, f"activation[{i}]") for i, a in enumerate(hidden)]
        if ACTIVATIONS["softmax"] in codes:
            raise ValueError("activation: softmax is allowed only as the output activation")
        codes.append(_activation_code(output, "output"))
        if loss == "cross_entropy" and output != "softmax":
            raise ValueError(f"loss='cross_entropy' needs output='softmax', got output={output!r}")
        self._dtype = v.dtype_arg(dtype)
        _check_memory(sizes, self._dtype)
        slope = v.finite_float(leaky_slope, "leaky_slope", lo=0.0)
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        seed = int(seed)
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        dt_code = _core.DTYPE_F32 if self._dtype == np.float32 else _core.DTYPE_F64
        self._net = _core.Net(dt_code, sizes, codes, slope, LOSSES[loss])
        self._net.init(seed)
        self.adaptive_threads = os.environ.get("PYNN_ADAPTIVE_THREADS", "1") != "0"
        self.sizes = tuple(sizes)
        self.activations = tuple(hidden) + (output,)
        self.loss_name = loss
        self.leaky_slope = slope
        self.seed = seed
        self.params = np.asarray(self._net)
        self.weights, self.biases = self._layer_views(self.params)

    # ---------------------------------------------------------------- views

    def _layer_views(self, flat):
        weights, biases = [], []
        for layer, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            w, b = self._net.weight_offset(layer), self._net.bias_offset(layer)
            weights.append(flat[w:w + n_in * n_out].reshape(n_in, n_out))
            biases.append(flat[b:b + n_out])
        return weights, biases

    @property
    def dtype(self):
        return self._dtype

    @property
    def n_layers(self):
        return len(self.sizes) - 1

    @property
    def n_params(self):
        return self.params.size

    @property
    def n_inputs(self):
        return self.sizes[0]

    @property
    def n_outputs(self):
        return self.sizes[-1]

    @property
    def output(self):
        return self.activations[-1]

    @property
    def workspace_batch(self):
        """Rows the C workspace holds now (it grows only when a larger batch arrives)."""
        return self._net.workspace_batch

    @property
    def workspace_allocations(self):
        """How many times the C workspace has been allocated."""
        return self._net.workspace_allocations

    @property
    def adaptive_threads(self):
        """Whether calls may use fewer threads than allowed when that ran faster
        recently (e.g. another process holds a core). Results are identical
        either way. Default True (env PYNN_ADAPTIVE_THREADS=0 turns it off for new
        networks); turn it off to measure a fixed thread count."""
        return self._adaptive

    @adaptive_threads.setter
    def adaptive_threads(self, on):
        self._adaptive = bool(on)
        self._net.set_adaptive_threads(self._adaptive)

    @property
    def last_threads(self):
        """Threads the last call on this network used."""
        return self._net.last_threads

    def set_params(self, params):
        """Copies `params` (n_params values) into the network's parameter buffer."""
        p = v.real_array(params, "params")
        if p.shape != self.params.shape:
            raise ValueError(f"params must have shape {self.params.shape}, got {p.shape}")
        self.params[...] = p

    def __repr__(self):
        return (f"MLP(sizes={list(self.sizes)}, activations={list(self.activations)}, "
                f"loss={self.loss_name!r}, dtype={self._dtype.name})")

    # ---------------------------------------------------------------- inputs

    def _inputs(self, X):
        return v.matrix(X, "X", self._dtype, self.n_inputs, cols_name="features (n_inputs)")

    def _targets(self, T, batch):
        """(T, labels): T as (batch, n_outputs) of the dtype, or int64 class labels."""
        a = v.real_array(T, "T")
        n_out = self.n_outputs
        if self.loss_name == "cross_entropy" and a.ndim == 1:
            if a.dtype.kind not in "biu":
                raise ValueError(f"T for cross_entropy must be (n_samples, {n_out}) probabilities or "
                                 f"(n_samples,) integer class labels, got 1-D dtype {a.dtype}")
            if a.shape[0] != batch:
                raise ValueError(f"T must have {batch} labels to match X, got shape {a.shape}")
            if a.size and (a.min() < 0 or a.max() >= n_out):
                raise ValueError(f"T: class labels must be in [0, {n_out}), got range "
                                 f"[{a.min()}, {a.max()}]")
            return None, np.ascontiguousarray(a, dtype=np.int64)
        if a.ndim == 1 and n_out == 1:
            a = a.reshape(-1, 1)
        return v.matrix(a, "T", self._dtype, n_out, batch, cols_name="outputs (n_outputs)"), None

    def _batch(self, X, T):
        """(X, T, labels) checked and converted for a loss over a batch."""
        X = self._inputs(X)
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one sample: the loss is a mean over the batch")
        T, labels = self._targets(T, X.shape[0])
        return X, T, labels

    def _on_batch(self, call, X, T, *args):
        """call(X, T, labels, *args). NumPy arrays of the network's dtype go straight
        to _core, which checks the rest (dimensions, shape, layout) in O(1); what it
        does not take as it is (NotPlain: a Fortran-ordered X from pandas, a shape to
        explain) and anything else (lists, other dtypes, class labels) is converted
        or explained by _batch first. Against checking all in Python first (medians
        of 5 interleaved rounds, 1 thread): a [1, 1] network's step 2.76 -> 2.52 us,
        its forward 2.25 -> 1.67 us; the [32, 64, 64, 1] network's at batch 32 16.2
        -> 16.0 and 7.26 -> 6.75 us. (train_step has this inline: this frame and its
        *args cost it 0.25 us.)"""
        dt = self._dtype                          # dtype objects of native floats are unique
        if type(X) is np.ndarray and type(T) is np.ndarray and X.dtype is dt and T.dtype is dt:
            try:
                return call(X, T, None, *args)
            except _core.NotPlain:
                pass
        return call(*self._batch(X, T), *args)

    # ---------------------------------------------------------------- maths

    def forward(self, X, out=None):
        """Y = the network applied to X (n_samples, n_inputs) -> (n_samples, n_outputs)."""
        if (out is None and type(X) is np.ndarray and X.dtype is self._dtype and X.ndim == 2
                and X.shape[0] and X.flags.c_contiguous):
            Y = np.empty((X.shape[0], self.n_outputs), self._dtype)
            try:                              # a plain array straight in, like _on_batch
                self._net.forward(X, Y, _threads.get_num_threads())
                return Y
            except _core.NotPlain:
                pass
        X = self._inputs(X)
        shape = (X.shape[0], self.n_outputs)
        out = np.empty(shape, self._dtype) if out is None else v.out_array(out, "out", shape, self._dtype)
        if X.shape[0]:
            self._net.forward(X, out, _threads.get_num_threads())
        return out

    predict = forward

    def loss(self, X, T):
        """The loss at (X, T): mean (Y - T)^2, or the mean softmax cross-entropy."""
        return self._on_batch(self._net.loss, X, T, _threads.get_num_threads())

    def gradients(self, X, T):
        """(loss, Gradients): the loss and dL/dparams by backpropagation."""
        flat = np.empty_like(self.params)
        loss = self._on_batch(self._net.gradients, X, T, flat, _threads.get_num_threads())
        weights, biases = self._layer_views(flat)
        return loss, Gradients(flat, weights, biases)

    def train_step(self, X, T, optimizer):
        """Forward, loss, backprop and the optimizer's update in one C call; returns the loss
        before the update. A non-finite loss or gradient raises FloatingPointError and
        changes nothing."""
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a pynn.SGD or pynn.Adam, got {type(optimizer).__name__}")
        dt, n_threads = self._dtype, _threads.get_num_threads()
        if type(X) is np.ndarray and type(T) is np.ndarray and X.dtype is dt and T.dtype is dt:
            try:                                  # _on_batch, inline
                return optimizer._step(X, T, None, self, n_threads)
            except _core.NotPlain:
                pass
        return optimizer._step(*self._batch(X, T), self, n_threads)

    def train_batches(self, X, T, optimizer, batch_size=32, order=None):
        """Training steps over a whole set in ONE C call: the rows of X and T taken
        in `order` (default: 0..n-1; e.g. a permutation for a shuffled epoch), cut
        into mini-batches of batch_size (the last may be shorter). Returns the
        array of per-batch losses. Equivalent to train_step on each mini-batch in
        turn, bit for bit. A non-finite step raises FloatingPointError; the
        batches before it stay applied (the error says how many), that one is not."""
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a pynn.SGD or pynn.Adam, got {type(optimizer).__name__}")
        X, T, labels = self._batch(X, T)
        batch_size = v.positive_int(batch_size, "batch_size")
        n = X.shape[0]
        if order is None:
            idx = np.arange(n, dtype=np.int64)
        else:
            idx = np.asarray(order)
            if idx.ndim != 1 or idx.dtype.kind not in "iu" or idx.size == 0:
                raise ValueError(f"order must be a non-empty 1-D array of row indices, got "
                                 f"shape {idx.shape} dtype {idx.dtype}")
            if idx.min() < 0 or idx.max() >= n:
                raise ValueError(f"order: row indices must be in [0, {n}), got range "
                                 f"[{idx.min()}, {idx.max()}]")
            idx = np.ascontiguousarray(idx, dtype=np.int64)
        losses = np.empty(-(-idx.size // batch_size))
        done = optimizer._steps(self, X, T, labels, idx, batch_size, losses,
                                _threads.get_num_threads())
        if done < losses.size:
            raise FloatingPointError(
                f"train_batches: batch {done} (0-based) has a non-finite loss ({losses[done]!r}) or "
                f"gradient; it was not applied, the {done} batches before it were")
        return losses

    def reserve(self, batch):
        """Allocates the workspace for `batch` rows now, so later steps allocate nothing."""
        self._net.reserve(v.positive_int(batch, "batch"), _threads.get_num_threads())

    # ---------------------------------------------------------------- conveniences

    def fit(self, X, T, **kwargs):
        """Mini-batch training over epochs; see pynn.training.fit for the options."""
        from .training import fit
        return fit(self, X, T, **kwargs)

    def save(self, path, optimizer=None):
        """Writes the network (and optionally the optimizer's state) to one .npz file."""
        from .io import save
        save(self, path, optimizer=optimizer)

    @classmethod
    def load(cls, path, optimizer=None):
        """Reads a network written by save(); never unpickles."""
        from .io import load
        return load(path, optimizer=optimizer)
