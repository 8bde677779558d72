"""MLP.fit (pynn.training), its schedules (pynn.schedules) and progress output (pynn.progress)."""
import io
import math
import sys

import numpy as np
import pytest

import pynn
from pynn import progress as progress_mod
from pynn.schedules import CosineLR, ExponentialLR, StepLR, make_schedule
from pynn.training import History


def blobs(n=120, n_features=4, n_classes=3, seed=0):
    centers = np.random.default_rng(0).normal(0, 3, (n_classes, n_features))
    rng = np.random.default_rng(seed + 1)
    y = rng.integers(0, n_classes, n)
    return centers[y] + rng.normal(0, 1, (n, n_features)), y


def regression(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 3))
    return X, np.stack([np.sin(2 * X[:, 0]) + X[:, 1], X[:, 2] ** 2], axis=1)


def classifier(seed=0, dtype=np.float32):
    return pynn.MLP([4, 16, 3], loss="cross_entropy", dtype=dtype, seed=seed)


def regressor(seed=0):
    return pynn.MLP([3, 16, 2], activation="tanh", seed=seed)


def manual_training(net, X, T, opt, epochs, batch, rng, shuffle=True):
    """What fit documents: per epoch a permutation from rng, then one train_step per batch."""
    n = len(X)
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        for s in range(0, n, batch):
            idx = order[s:s + batch]
            net.train_step(X[idx], T[idx], opt)


def snapshots(net):
    """A callback that keeps a copy of the parameters after every epoch."""
    kept = []

    def keep(record):
        kept.append(net.params.copy())
    return kept, keep


# ------------------------------------------------------------------ what fit does

@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_is_exactly_the_documented_loop(shuffle):
    X, y = blobs()
    net, ref = classifier(), classifier()
    opt, ref_opt = pynn.SGD(lr=0.05, momentum=0.9), pynn.SGD(lr=0.05, momentum=0.9)
    hist = net.fit(X, y, epochs=3, batch_size=32, optimizer=opt, shuffle=shuffle, seed=7,
                   progress=False)
    manual_training(ref, X, y, ref_opt, 3, 32, np.random.default_rng(7), shuffle)
    assert np.array_equal(net.params, ref.params)
    assert opt.state(net).step == ref_opt.state(ref).step == 3 * math.ceil(120 / 32)
    assert hist.optimizer is opt and hist.stop_reason == "completed" and len(hist) == 3


def test_same_seed_same_bits_other_seed_other_bits():
    X, T = regression()
    runs = []
    for seed in (3, 3, 4):
        net = regressor()
        hist = net.fit(X, T, epochs=4, batch_size=16, validation_split=0.2, seed=seed,
                       progress=False)
        runs.append((net.params.copy(), hist.loss, hist.val_loss))
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1:] == runs[1][1:]
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_history_records_for_classification_and_regression():
    X, y = blobs()
    net = classifier()
    hist = net.fit(X, y, epochs=15, batch_size=16, optimizer=pynn.Adam(lr=1e-2),
                   validation_data=blobs(40, seed=1), seed=0, progress=False)
    rec = hist.records[-1]
    assert set(rec) == {"epoch", "lr", "loss", "accuracy", "val_loss", "val_accuracy", "seconds",
                        "samples_per_s"}
    assert [r["epoch"] for r in hist.records] == list(range(15))
    assert hist.loss[-1] < 0.5 * hist.loss[0] and hist.val_loss[-1] < hist.val_loss[0]
    assert hist.accuracy[-1] > 0.9 and hist.val_accuracy[-1] > 0.9
    assert all(r["seconds"] > 0 and r["samples_per_s"] > 0 for r in hist.records)
    assert hist.lr == [1e-2] * 15
    # val_loss is the loss on the validation data after the epoch
    Xv, yv = blobs(40, seed=1)
    assert hist.val_loss[-1] == pytest.approx(net.loss(Xv, yv), rel=1e-6)
    assert hist.val_accuracy[-1] == np.mean(net.forward(Xv).argmax(1) == yv)

    X, T = regression()
    hist = regressor().fit(X, T, epochs=2, progress=False, seed=0)
    assert isinstance(hist.optimizer, pynn.Adam) and hist.optimizer.lr == 1e-3   # the default
    assert set(hist.records[0]) == {"epoch", "lr", "loss", "seconds", "samples_per_s"}
    assert hist.val_loss == [] and hist.accuracy == [] and hist.best_epoch is None


def test_train_accuracy_can_be_skipped():
    X, y = blobs()
    hist = classifier().fit(X, y, epochs=1, validation_split=0.25, train_accuracy=False,
                            progress=False, seed=0)
    assert "accuracy" not in hist.records[0] and "val_accuracy" in hist.records[0]


def test_validation_split_shuffles_with_the_seed_then_splits():
    X, y = blobs(100)
    net = classifier()
    hist = net.fit(X, y, epochs=2, batch_size=16, validation_split=0.25, seed=11, progress=False)
    val = np.random.default_rng(11).permutation(100)[:25]
    assert hist.val_loss[-1] == net.loss(X[val], y[val])
    # the same training as the documented loop on the other 75 rows, rng continuing
    ref = classifier()
    rng = np.random.default_rng(11)
    train = rng.permutation(100)[25:]
    manual_training(ref, X[train], y[train], pynn.Adam(), 2, 16, rng)
    assert np.array_equal(net.params, ref.params)


def test_one_hot_targets_and_float64_networks():
    X, y = blobs()
    net = classifier(dtype=np.float64)
    hist = net.fit(X, np.eye(3)[y], epochs=10, batch_size=16, optimizer=pynn.Adam(lr=1e-2),
                   validation_split=0.2, seed=0, progress=False)
    assert net.params.dtype == np.float64 and hist.val_accuracy[-1] > 0.9


# ------------------------------------------------------------------ early stopping

def diverging_validation():
    """Training targets T, validation targets -T: fitting T makes the validation loss grow
    after a while, so early stopping must trigger."""
    X, T = regression(80)
    return X, T, (regression(40, seed=1)[0], -regression(40, seed=1)[1])


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_stops_and_restores_the_best_weights(restore_best):
    X, T, val = diverging_validation()
    net = regressor()
    kept, keep = snapshots(net)
    hist = net.fit(X, T, epochs=200, batch_size=16, optimizer=pynn.Adam(lr=1e-2),
                   validation_data=val, early_stopping=True, patience=3,
                   restore_best=restore_best, callbacks=[keep], seed=0, progress=False)
    best = int(np.argmin(hist.val_loss))
    assert hist.stop_reason == "early_stopping" and hist.best_epoch == best
    assert len(hist) == best + 3 + 1 < 200
    assert all(v >= hist.val_loss[best] for v in hist.val_loss[best + 1:])
    expected = kept[best] if restore_best else kept[-1]
    assert np.array_equal(net.params, expected)
    assert not np.array_equal(kept[best], kept[-1])


def test_min_delta_counts_small_gains_as_no_improvement():
    X, y = blobs()
    hist = classifier().fit(X, y, epochs=50, validation_split=0.2, early_stopping=True,
                            patience=2, min_delta=1e9, seed=0, progress=False)
    assert hist.val_loss[1] < hist.val_loss[0]   # it did improve, but by less than min_delta
    assert len(hist) == 3 and hist.best_epoch == 0 and hist.stop_reason == "early_stopping"


def test_best_epoch_is_tracked_without_early_stopping():
    X, T, val = diverging_validation()
    net = regressor()
    kept, keep = snapshots(net)
    hist = net.fit(X, T, epochs=12, validation_data=val, callbacks=[keep], seed=0,
                   progress=False)
    assert hist.best_epoch == int(np.argmin(hist.val_loss)) and len(hist) == 12
    assert np.array_equal(net.params, kept[-1])   # nothing restored without early_stopping


# ------------------------------------------------------------------ schedules

def test_schedule_values():
    assert [StepLR(1.0, step_size=2, gamma=0.5)(e) for e in range(5)] == [1, 1, .5, .5, .25]
    assert ExponentialLR(2.0, gamma=0.5)(3) == 0.25
    cos = CosineLR(1.0, epochs=4, min_lr=0.2)
    assert cos(0) == 1.0 and cos(2) == pytest.approx(0.6) and cos(4) == cos(9) == pytest.approx(0.2)
    assert CosineLR(1.0, epochs=4)(4) == 1e-6   # never exactly 0: lr must stay > 0
    with pytest.raises(ValueError, match="gamma"):
        StepLR(1.0, gamma=0.0)
    with pytest.raises(ValueError, match="lr_schedule"):
        make_schedule("linear", 1.0, 10)
    assert isinstance(make_schedule("step", 0.1, 9), StepLR)
    assert make_schedule("step", 0.1, 9).step_size == 3
    assert make_schedule("cosine", 0.1, 9).epochs == 9


@pytest.mark.parametrize("spec, expected", [
    ("step", [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]),
    ("exponential", [0.1 * 0.95 ** e for e in range(6)]),
    ("cosine", [CosineLR(0.1, 6)(e) for e in range(6)]),
    (lambda epoch: 0.1 / (1 + epoch), [0.1 / (1 + e) for e in range(6)]),
])
def test_fit_follows_the_schedule_and_restores_lr(spec, expected):
    X, y = blobs(40)
    opt = pynn.SGD(lr=0.1)
    net, ref = classifier(), classifier()
    hist = net.fit(X, y, epochs=6, batch_size=40, optimizer=opt, lr_schedule=spec, shuffle=False,
                   progress=False)
    assert hist.lr == pytest.approx(expected, rel=1e-12)
    assert opt.lr == 0.1
    ref_opt = pynn.SGD(lr=0.1)   # full batch, no shuffle: one step per epoch at that lr
    for lr in hist.lr:
        ref_opt.lr = lr
        ref.train_step(X, y, ref_opt)
    assert np.array_equal(net.params, ref.params)


def test_schedule_giving_a_bad_lr_is_an_error():
    X, y = blobs(40)
    with pytest.raises(ValueError, match="lr"):
        classifier().fit(X, y, epochs=3, lr_schedule=lambda e: 0.0, progress=False)


# ------------------------------------------------------------------ callbacks

def test_callback_returning_false_stops_training():
    X, y = blobs()
    seen = []

    def stop_at_3(record):
        seen.append(dict(record))
        return record["epoch"] != 2

    also_called = []
    hist = classifier().fit(X, y, epochs=10, callbacks=[stop_at_3, also_called.append],
                            progress=False, seed=0)
    assert len(hist) == 3 and hist.stop_reason == "callback"
    assert seen == hist.records and len(also_called) == 3
    assert classifier().fit(X, y, epochs=4, callbacks=[lambda r: None], progress=False).stop_reason \
        == "completed"


# ------------------------------------------------------------------ interruption and failures

def first_steps(net, X, T, opt, batch, rng, n_steps):
    """The first n_steps mini-batches of the documented loop, one train_step each."""
    while n_steps:
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch)[:n_steps]:
            net.train_step(X[order[s:s + batch]], T[order[s:s + batch]], opt)
        n_steps -= min(n_steps, -(-len(X) // batch))


def patch_train_batches(net, before_call):
    """Wraps net.train_batches: before_call(call number, args) runs before each real call
    and may replace its X; returns the list of steps each finished call applied."""
    real, applied = net.train_batches, []

    def train_batches(X, T, opt, batch_size, order):
        X = before_call(len(applied) + 1, X) if before_call else X
        losses = real(X, T, opt, batch_size=batch_size, order=order)
        applied.append(losses.size)
        return losses
    net.train_batches = train_batches
    return applied


@pytest.mark.parametrize("how", ["exception", "signal"])
def test_ctrl_c_stops_at_a_batch_boundary_with_network_and_optimizer_agreeing(how):
    """'exception': KeyboardInterrupt raised before the 3rd C call; 'signal': a real SIGINT
    arriving during the 3rd call, which fit defers to the end of that call."""
    import signal
    outer = signal.getsignal(signal.SIGINT)     # SIG_IGN in a job started in the background
    signal.signal(signal.SIGINT, signal.default_int_handler)   # what an interactive user has
    try:
        _ctrl_c_case(how, signal)
    finally:
        signal.signal(signal.SIGINT, outer)


def _ctrl_c_case(how, signal):
    before = signal.getsignal(signal.SIGINT)
    X, y = blobs(100)
    net, ref = classifier(), classifier()
    opt = pynn.Adam(lr=1e-2)

    def interrupt(call, Xc):
        if call == 3:
            if how == "exception":
                raise KeyboardInterrupt
            signal.raise_signal(signal.SIGINT)
        return Xc

    applied = patch_train_batches(net, interrupt)
    with pytest.warns(RuntimeWarning, match="interrupted during epoch"):
        hist = net.fit(X, y, epochs=100, batch_size=10, optimizer=opt, seed=5, progress=False)
    assert hist.stop_reason == "interrupted" and len(applied) == (2 if how == "exception" else 3)
    assert signal.getsignal(signal.SIGINT) is before                       # restored
    steps = sum(applied)
    assert len(hist) == steps // 10 and opt.state(net).step == steps
    ref_opt = pynn.Adam(lr=1e-2)
    first_steps(ref, X, y, ref_opt, 10, np.random.default_rng(5), steps)
    assert np.array_equal(net.params, ref.params)
    assert np.array_equal(opt.state(net).buffer, ref_opt.state(ref).buffer)
    del net.train_batches   # and it goes on training
    assert len(net.fit(X, y, epochs=1, optimizer=opt, progress=False)) == 1


def test_keyboard_interrupt_in_a_callback_keeps_that_epoch():
    X, y = blobs()

    def interrupt(record):
        if record["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted"):
        hist = classifier().fit(X, y, epochs=5, callbacks=[interrupt], progress=False)
    assert len(hist) == 2 and hist.stop_reason == "interrupted"


def test_interrupt_with_early_stopping_restores_the_best_weights():
    X, T, val = diverging_validation()
    net = regressor()
    kept, keep = snapshots(net)

    def interrupt(record):
        if record["epoch"] == 6:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning):
        hist = net.fit(X, T, epochs=50, optimizer=pynn.Adam(lr=1e-2), validation_data=val,
                       early_stopping=True, patience=40, callbacks=[keep, interrupt], seed=0,
                       progress=False)
    assert np.array_equal(net.params, kept[hist.best_epoch])


def test_non_finite_loss_stops_with_the_last_good_weights():
    X, y = blobs(100)
    net = classifier()
    before = []

    def poison_3rd_call(call, Xc):
        before.append(net.params.copy())
        return np.full_like(Xc, np.inf) if call == 3 else Xc   # its first step is not finite

    applied = patch_train_batches(net, poison_3rd_call)
    opt = pynn.SGD(lr=0.1, momentum=0.9)
    with pytest.raises(FloatingPointError, match="epoch .*not applied.*last good") as err:
        net.fit(X, y, epochs=50, batch_size=10, optimizer=opt, progress=False, seed=0)
    assert len(applied) == 2 and len(before) == 3
    assert np.array_equal(net.params, before[-1]) and np.isfinite(net.params).all()
    assert opt.state(net).step == sum(applied)
    assert isinstance(err.value.history, History) and len(err.value.history) == sum(applied) // 10


# ------------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("kwargs, exc, match", [
    ({"epochs": 0}, ValueError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"patience": 0}, ValueError, "patience"),
    ({"min_delta": -1.0}, ValueError, "min_delta"),
    ({"validation_split": 1.0}, ValueError, "validation_split"),
    ({"optimizer": "adam"}, TypeError, "optimizer"),
    ({"callbacks": [42]}, TypeError, r"callbacks\[0\]"),
    ({"lr_schedule": "linear"}, ValueError, "lr_schedule"),
    ({"early_stopping": True}, ValueError, "validation"),
    ({"validation_split": 0.2, "validation_data": blobs(10)}, ValueError, "not both"),
    ({"validation_data": (np.zeros((3, 4)),)}, TypeError, "validation_data"),
    ({"validation_data": (np.zeros((3, 5)), np.zeros(3, int))}, ValueError, "validation_data"),
])
def test_bad_arguments_are_rejected_before_training(kwargs, exc, match):
    X, y = blobs(20)
    net = classifier()
    before = net.params.copy()
    with pytest.raises(exc, match=match):
        net.fit(X, y, progress=False, **kwargs)
    assert np.array_equal(net.params, before)


def test_bad_data_is_rejected():
    net = classifier()
    X, y = blobs(20)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        net.fit(X, y, progress=False)
    with pytest.raises(ValueError, match="at least one sample"):
        net.fit(np.zeros((0, 4)), np.zeros(0, int), progress=False)
    with pytest.raises(ValueError, match="T"):
        net.fit(blobs(20)[0], np.zeros(19, int), progress=False)
    with pytest.raises(ValueError, match="leaves no training samples"):
        net.fit(X[:2], y[:2], validation_split=0.9, progress=False)


# ------------------------------------------------------------------ progress

def test_progress_off_prints_nothing_and_non_terminal_prints_a_line_per_epoch(capsys):
    X, y = blobs()
    classifier().fit(X, y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""
    classifier().fit(X, y, epochs=3, validation_split=0.2, seed=0)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(f"epoch {i + 1}/3" in line for i, line in enumerate(lines))
    assert all(k in lines[0] for k in ("loss", "val_loss", "val_accuracy", "samples/s"))


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_bar_on_a_terminal():
    stream = Terminal()
    prog = progress_mod.Progress(2, 100, stream=stream)
    assert prog.live
    record = {"loss": 0.5, "seconds": 0.1, "samples_per_s": 1000.0}
    for epoch in range(2):
        prog.start_epoch(epoch)
        for _ in range(4):
            prog.advance(25, 0.5)
        prog.end_epoch(dict(record, epoch=epoch))
    prog.close()
    out = stream.getvalue()
    assert "\r" in out and "[" + "#" * 24 + "] 100%" in out
    finals = [line.rsplit("\r", 1)[-1] for line in out.split("\n") if line]
    assert finals == [f"epoch {e}/2  loss 0.5  0.10 s  1,000 samples/s\x1b[K" for e in (1, 2)]


def test_tqdm_is_used_on_a_terminal_when_installed(monkeypatch):
    bars = []

    class FakeTqdm:
        def __init__(self, total, **kwargs):
            self.total, self.n, self.closed, self.kwargs = total, 0, False, kwargs
            bars.append(self)

        def update(self, n):
            self.n += n

        def set_postfix_str(self, s, refresh=True):
            self.postfix = s

        def close(self):
            self.closed = True

    monkeypatch.setattr(progress_mod, "_tqdm", lambda: FakeTqdm)
    monkeypatch.setattr("sys.stderr", Terminal())
    X, y = blobs(100)
    classifier().fit(X, y, epochs=3, batch_size=10)
    assert len(bars) == 3 and all(b.total == b.n == 100 and b.closed for b in bars)
    assert bars[0].kwargs["desc"] == "epoch 1/3" and "samples/s" in bars[-1].postfix


# ------------------------------------------------------------------ plots

def test_history_plot_saves_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = blobs()
    hist = classifier().fit(X, y, epochs=3, validation_split=0.2, seed=0, progress=False)
    fig = hist.plot(tmp_path / "curves.png", title="blobs")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["loss", "val_loss"]
    assert [line.get_label() for line in acc_ax.lines] == ["accuracy", "val_accuracy"]
    assert list(loss_ax.lines[1].get_ydata()) == hist.val_loss
    reg = regressor().fit(*regression(), epochs=2, progress=False)
    fig = pynn.plot.learning_curves(hist, reg, labels=["clf", "reg"])
    assert [line.get_label() for line in fig.axes[0].lines] == ["clf loss", "clf val_loss",
                                                               "reg loss"]
    with pytest.raises(ValueError, match="labels"):
        pynn.plot.learning_curves(hist, reg, labels=["one"])


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install pynn-mlp\[plot\]"):
        History(pynn.Adam()).plot()
