"""MLP.fit: mini-batch training over epochs, and the History it returns.

Per epoch: a permutation of the training rows drawn from a seeded numpy
Generator, cut into mini-batches that C trains, many per call
(``net.train_batches``: gathering, forward, backprop and update all in C, bit
for bit the same as one ``net.train_step`` per batch). Calls are sized to take
about CALL_SECONDS, so that between them Python can draw progress and honour
Ctrl-C at a mini-batch boundary. Between epochs: the learning-rate schedule,
validation, early stopping, callbacks.
"""
import signal
import threading
import time
import warnings

import numpy as np

from . import _validate as v
from .optim import Adam, Optimizer
from .progress import Progress
from .schedules import make_schedule

DEFAULT_BATCH_SIZE = 128
DEFAULT_LR = 1e-3
EVAL_ROWS = 2048          # rows per C call when evaluating: bounds the workspace it needs
CALL_SECONDS = 0.1        # aimed duration of one training call: Ctrl-C and progress latency


def _column(key, doc):
    return property(lambda self: [r[key] for r in self.records if key in r], doc=doc)


class History:
    """What fit did, epoch by epoch.

    Attributes
    ----------
    records : list of dict
        One dict per finished epoch with keys "epoch" (0-based), "lr" (the
        learning rate used), "loss" (mean training loss over the epoch's
        mini-batches, each taken before its update), "seconds" (epoch wall
        time, validation included), "samples_per_s" (training rows per second
        of training time) and, when measured, "val_loss", "accuracy"
        (training set, after the epoch) and "val_accuracy". Accuracies are
        measured for classification networks (loss="cross_entropy") only.
    stop_reason : str
        "completed", "early_stopping", "callback" or "interrupted".
    best_epoch : int or None
        The epoch with the lowest validation loss (None without validation).
    optimizer : pynn.Optimizer
        The optimizer that trained; pass it to the next fit, or to save, to
        resume with its state.
    """

    loss = _column("loss", "Training loss per epoch.")
    val_loss = _column("val_loss", "Validation loss per epoch ([] without validation).")
    accuracy = _column("accuracy", "Training accuracy per epoch (classification).")
    val_accuracy = _column("val_accuracy", "Validation accuracy per epoch (classification).")
    lr = _column("lr", "Learning rate per epoch.")
    seconds = _column("seconds", "Wall time per epoch.")
    samples_per_s = _column("samples_per_s", "Training throughput per epoch.")

    def __init__(self, optimizer):
        self.records = []
        self.stop_reason = "completed"
        self.best_epoch = None
        self.optimizer = optimizer

    def __len__(self):
        return len(self.records)

    def __repr__(self):
        last = f", last={self.records[-1]}" if self.records else ""
        return f"History(epochs={len(self.records)}, stop_reason={self.stop_reason!r}{last})"

    def plot(self, path=None, title=None):
        """Learning curves (loss, and accuracy when measured) as a matplotlib Figure,
        saved to `path` (PNG) when given. Needs matplotlib; see pynn.plot."""
        from .plot import learning_curves
        return learning_curves(self, path=path, title=title)


# ------------------------------------------------------------------- data

def _checked_data(net, X, T, x_name="X", t_name="T"):
    """(X, targets): X in the network's dtype, C-contiguous; targets (n, n_outputs) in that
    dtype or (n,) int64 class labels; both finite, at least one row."""
    X = v.matrix(X, x_name, net.dtype, net.n_inputs, cols_name="features (n_inputs)")
    if X.shape[0] == 0:
        raise ValueError(f"{x_name} must hold at least one sample")
    T, labels = net._targets(T, X.shape[0])
    targets = labels if labels is not None else T
    for a, name in ((X, x_name), (targets, t_name)):
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or infinity")
    return X, targets


def _validation_set(net, validation_data):
    try:
        Xv, Tv = validation_data
    except (TypeError, ValueError):
        raise TypeError("validation_data must be a pair (X_val, T_val)") from None
    try:
        return _checked_data(net, Xv, Tv, "X_val", "T_val")
    except (TypeError, ValueError) as err:
        raise type(err)(f"validation_data: {err}") from None


def _split(X, T, fraction, rng):
    """Shuffles the rows with `rng`, then holds out ceil(fraction * n) of them."""
    n = X.shape[0]
    n_val = int(np.ceil(fraction * n))
    if n_val >= n:
        raise ValueError(f"validation_split={fraction} leaves no training samples out of {n}")
    order = rng.permutation(n)
    train, val = order[n_val:], order[:n_val]
    return X[train], T[train], X[val], T[val]


# ------------------------------------------------------------------- evaluation

def predicted_class(targets):
    """Class labels from (n,) labels or (n, k) probabilities/one-hot rows."""
    return targets if targets.ndim == 1 else np.argmax(targets, axis=1)


def forward_chunked(net, X, rows=EVAL_ROWS):
    """net.forward(X), EVAL_ROWS rows per call so the C workspace stays bounded."""
    X = net._inputs(X)
    if X.shape[0] <= rows:
        return net.forward(X)
    Y = np.empty((X.shape[0], net.n_outputs), net.dtype)
    for s in range(0, X.shape[0], rows):
        net.forward(X[s:s + rows], out=Y[s:s + rows])
    return Y


def evaluate(net, X, targets, loss=True, accuracy=False, rows=EVAL_ROWS):
    """(loss, accuracy) of `net` on checked data, `rows` rows per C call; each is None
    when not asked for."""
    n = X.shape[0]
    total, correct = 0.0, 0
    out = np.empty((min(rows, n), net.n_outputs), net.dtype) if accuracy else None
    for s in range(0, n, rows):
        xb, tb = X[s:s + rows], targets[s:s + rows]
        if loss:
            total += net.loss(xb, tb) * xb.shape[0]
        if accuracy:
            y = net.forward(xb, out=out[:xb.shape[0]])
            correct += int(np.count_nonzero(np.argmax(y, axis=1) == predicted_class(tb)))
    return (total / n if loss else None), (correct / n if accuracy else None)


# ------------------------------------------------------------------- the loop

class _Batches:
    """Trains an epoch's mini-batches through net.train_batches, a run of them per C
    call: the run doubles while a call takes under CALL_SECONDS / 2 and halves
    when one takes over 2 * CALL_SECONDS."""

    def __init__(self, net, optimizer, X, T, batch_size):
        self.net, self.optimizer, self.X, self.T = net, optimizer, X, T
        self.batch_size = batch_size
        self.per_call = 1

    def epoch(self, order, progress, interrupt):
        """Trains the rows in `order`; returns the sum over batches of loss * rows.
        Between calls: progress.advance(rows, mean loss so far), interrupt.check()."""
        b, n = self.batch_size, order.size
        total, start = 0.0, 0
        while start < n:
            stop = min(start + self.per_call * b, n)
            t0 = time.perf_counter()
            losses = self.net.train_batches(self.X, self.T, self.optimizer, batch_size=b,
                                            order=order[start:stop])
            seconds = time.perf_counter() - t0
            if seconds < CALL_SECONDS / 2:
                self.per_call *= 2
            elif seconds > 2 * CALL_SECONDS and self.per_call > 1:
                self.per_call //= 2
            rows = np.full(losses.size, float(b))
            rows[-1] = stop - start - b * (losses.size - 1)
            total += float(losses @ rows)
            progress.advance(stop - start, total / stop)
            start = stop
            interrupt.check()
        return total


class _DeferredInterrupt:
    """Ctrl-C during fit sets a flag that fit checks between C calls, instead of
    raising KeyboardInterrupt wherever Python happens to be (for instance between
    a finished C update and the optimizer's step count). Only in the main thread
    and only over Python's default SIGINT handler; a second Ctrl-C raises at once."""

    def __enter__(self):
        self.requested, self.previous = False, None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self.previous)

    def check(self):
        """Raises KeyboardInterrupt when Ctrl-C was pressed since __enter__."""
        if self.requested:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class _EarlyStopping:
    """Tracks the best validation loss; keeps a copy of its weights when asked to."""

    def __init__(self, net, patience, min_delta, keep_best):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.wait = None, None, 0
        self.best_params = net.params.copy() if keep_best else None

    def update(self, net, epoch, val_loss):
        """Returns True when `patience` epochs in a row brought no improvement."""
        if self.best_loss is None or val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = val_loss, epoch, 0
            if self.best_params is not None:
                np.copyto(self.best_params, net.params)
            return False
        self.wait += 1
        return self.wait >= self.patience


def fit(net, X, T, *, epochs=10, batch_size=DEFAULT_BATCH_SIZE, optimizer=None, shuffle=True,
        validation_data=None, validation_split=0.0, early_stopping=False, patience=10,
        min_delta=0.0, restore_best=True, lr_schedule=None, callbacks=(), progress=True,
        seed=None, train_accuracy=True):
    """Trains `net` on (X, T) by mini-batches for `epochs` epochs.

    Parameters
    ----------
    net : pynn.MLP
    X : array_like of shape (n_samples, n_inputs)
    T : array_like
        Targets as for MLP.train_step: (n_samples, n_outputs), or (n_samples,)
        integer class labels for loss="cross_entropy".
    epochs : int
        Passes over the training data.
    batch_size : int
        Rows per mini-batch (the last one of an epoch may be shorter).
        Default 128.
    optimizer : pynn.SGD or pynn.Adam, optional
        Default: a new pynn.Adam(lr=1e-3), returned as History.optimizer.
        Its state (momentum, moments, step count) carries over between calls.
    shuffle : bool
        Visit the rows in a new random order every epoch.
    validation_data : pair (X_val, T_val), optional
        Evaluated after every epoch (val_loss, and val_accuracy for
        classification).
    validation_split : float in [0, 1)
        Shuffle the rows (seeded), then hold out this fraction as validation
        data. Not together with validation_data.
    early_stopping : bool
        Stop when the validation loss has not improved by more than
        `min_delta` for `patience` epochs in a row. Needs validation data.
    patience : int
        See early_stopping. Default 10.
    min_delta : float
        See early_stopping. Default 0.
    restore_best : bool
        With early_stopping: when fit returns (finished, stopped early, stopped
        by a callback or interrupted), the network holds the weights of the
        epoch with the lowest validation loss.
    lr_schedule : {"step", "exponential", "cosine"} or callable, optional
        The learning rate of each epoch: a callable f(epoch) -> lr (epoch is
        0-based), e.g. a pynn.schedules object, or a name, built from the
        optimizer's lr by pynn.schedules.make_schedule. The optimizer's lr is
        restored when fit returns.
    callbacks : iterable of callables
        Each is called after every epoch with the epoch's record (a dict, see
        History); if any returns False, training stops after that epoch.
    progress : bool
        Show a live progress bar on a terminal (tqdm when installed), one line
        per epoch when stderr is not a terminal; False: print nothing.
    seed : int, optional
        Seeds the shuffles and the validation split: the same seed, data and
        initial network give the same bits. None: fresh OS entropy.
    train_accuracy : bool
        For classification, measure the training accuracy after each epoch
        (one extra forward pass over the training data).

    Returns
    -------
    History

    Raises
    ------
    FloatingPointError
        A mini-batch gave a non-finite loss or gradient: that step was not
        applied, training stops, and the network keeps the weights from before
        it (the last good ones). The exception's ``history`` attribute holds the
        History so far.

    Notes
    -----
    Ctrl-C stops training at the next mini-batch boundary (within about
    CALL_SECONDS; a second Ctrl-C interrupts at once), emits a RuntimeWarning
    and returns the History of the finished epochs with stop_reason
    "interrupted". Every applied step is whole: network and optimizer state
    agree. A KeyboardInterrupt raised by a callback is handled the same way.
    """
    epochs = v.positive_int(epochs, "epochs")
    batch_size = v.positive_int(batch_size, "batch_size")
    patience = v.positive_int(patience, "patience")
    min_delta = v.finite_float(min_delta, "min_delta", lo=0.0)
    validation_split = v.finite_float(validation_split, "validation_split", lo=0.0, hi=1.0,
                                      hi_open=True)
    if optimizer is None:
        optimizer = Adam(lr=DEFAULT_LR)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a pynn.SGD or pynn.Adam, got {type(optimizer).__name__}")
    callbacks = tuple(callbacks)
    for i, cb in enumerate(callbacks):
        if not callable(cb):
            raise TypeError(f"callbacks[{i}] must be callable, got {type(cb).__name__}")
    lr0 = optimizer.lr
    schedule = None if lr_schedule is None else make_schedule(lr_schedule, lr0, epochs)

    rng = np.random.default_rng(seed)
    X, T = _checked_data(net, X, T)
    if validation_data is not None and validation_split:
        raise ValueError("give validation_data or validation_split, not both")
    if validation_data is not None:
        Xv, Tv = _validation_set(net, validation_data)
    elif validation_split:
        X, T, Xv, Tv = _split(X, T, validation_split, rng)
    else:
        Xv = Tv = None
    if early_stopping and Xv is None:
        raise ValueError("early_stopping watches the validation loss: give validation_data or "
                         "validation_split > 0")

    n = X.shape[0]
    batch = min(batch_size, n)
    net.reserve(batch)
    batches = _Batches(net, optimizer, X, T, batch)
    eval_rows = max(batch, EVAL_ROWS)
    classify = net.loss_name == "cross_entropy"
    stopper = (_EarlyStopping(net, patience, min_delta, early_stopping and restore_best)
               if Xv is not None else None)
    history = History(optimizer)
    prog = Progress(epochs, n, enabled=progress)
    epoch = 0
    try:
        with _DeferredInterrupt() as interrupt:
            for epoch in range(epochs):
                if schedule is not None:
                    optimizer.lr = schedule(epoch)
                t0 = time.perf_counter()
                order = rng.permutation(n) if shuffle else np.arange(n)
                prog.start_epoch(epoch)
                loss_sum = batches.epoch(order, prog, interrupt)
                t_train = time.perf_counter() - t0
                record = {"epoch": epoch, "lr": optimizer.lr, "loss": loss_sum / n}
                if classify and train_accuracy:
                    record["accuracy"] = evaluate(net, X, T, loss=False, accuracy=True,
                                                  rows=eval_rows)[1]
                if Xv is not None:
                    record["val_loss"], val_acc = evaluate(net, Xv, Tv, accuracy=classify,
                                                           rows=eval_rows)
                    if classify:
                        record["val_accuracy"] = val_acc
                record["seconds"] = time.perf_counter() - t0
                record["samples_per_s"] = n / t_train if t_train > 0 else float("inf")
                history.records.append(record)
                prog.end_epoch(record)
                if stopper is not None:
                    patience_out = stopper.update(net, epoch, record["val_loss"])
                    history.best_epoch = stopper.best_epoch
                    if early_stopping and patience_out:
                        history.stop_reason = "early_stopping"
                if any([cb(record) is False for cb in callbacks]):
                    history.stop_reason = "callback"
                interrupt.check()
                if history.stop_reason != "completed":
                    break
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        warnings.warn(f"fit interrupted during epoch {epoch}: stopped at a mini-batch boundary, "
                      f"the network is valid; returning the history of {len(history)} finished "
                      "epoch(s)", RuntimeWarning, stacklevel=3)
    except FloatingPointError as err:
        failed = FloatingPointError(
            f"fit stopped in epoch {epoch}: a mini-batch gave a non-finite loss or gradient "
            f"({err}). That step was not applied; the network keeps the weights from before it "
            "(the last good ones). Try a smaller learning rate, or check the scale of X and T. "
            "The history so far is this exception's .history.")
        failed.history = history
        raise failed from err
    finally:
        prog.close()
        if schedule is not None:
            optimizer.lr = lr0
    if stopper is not None and stopper.best_params is not None and stopper.best_epoch is not None:
        np.copyto(net.params, stopper.best_params)
    return history
