"""Plots with matplotlib (an optional extra: pip install pynn-mlp[plot]):
learning curves of fit Histories, and the multicore speedup of `python -m pynn bench`.

Figures are built with matplotlib's object API (no pyplot): no GUI backend is
touched, a Figure shows itself in Jupyter, and `path` saves it as PNG.
"""


def _figure(n_axes):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib "
                          "(or pip install pynn-mlp[plot])") from None
    fig = Figure(figsize=(5.5 * n_axes, 4), layout="constrained")
    return fig, fig.subplots(1, n_axes, squeeze=False)[0]


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=120, format="png")
    return fig


def learning_curves(*histories, labels=None, path=None, title=None):
    """Loss (and, when measured, accuracy) per epoch, training solid, validation dashed.

    Parameters
    ----------
    *histories : pynn.training.History
        One or more runs to compare.
    labels : sequence of str, optional
        One per history (default "run 1", "run 2", ... when several).
    path : str or os.PathLike, optional
        Save the figure there as PNG.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not histories:
        raise ValueError("learning_curves needs at least one History")
    if labels is None:
        labels = [""] if len(histories) == 1 else [f"run {i + 1}" for i in range(len(histories))]
    if len(labels) != len(histories):
        raise ValueError(f"labels must have {len(histories)} entries, got {len(labels)}")
    from matplotlib.ticker import MaxNLocator
    with_acc = any(h.accuracy or h.val_accuracy for h in histories)
    fig, axes = _figure(2 if with_acc else 1)
    panels = [("loss", "val_loss", "loss")] + ([("accuracy", "val_accuracy", "accuracy")]
                                              if with_acc else [])
    for ax, (train_key, val_key, name) in zip(axes, panels):
        for h, label in zip(histories, labels):
            prefix = f"{label} " if label else ""
            for key, style in ((train_key, "-"), (val_key, "--")):
                points = [(r["epoch"] + 1, r[key]) for r in h.records if r.get(key) is not None]
                if points:
                    ax.plot(*zip(*points), style, label=f"{prefix}{key}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def speedup(threads, samples_per_s, path=None, title="pynn train_step: multicore speedup"):
    """Throughput and speedup over 1 thread against the thread count.

    Parameters
    ----------
    threads : sequence of int
    samples_per_s : sequence of float
        Training throughput at each thread count; the first is the baseline.
    path : str or os.PathLike, optional
        Save the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (ax_rate, ax_speed) = _figure(2)
    ax_rate.plot(threads, samples_per_s, "o-")
    ax_rate.set_xlabel("threads")
    ax_rate.set_ylabel("samples / s")
    base = samples_per_s[0]
    ax_speed.plot(threads, [s / base for s in samples_per_s], "o-", label="measured")
    ax_speed.plot(threads, [t / threads[0] for t in threads], ":", color="gray", label="ideal")
    ax_speed.set_xlabel("threads")
    ax_speed.set_ylabel(f"speedup over {threads[0]} thread(s)")
    ax_speed.legend()
    for ax in (ax_rate, ax_speed):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return _finish(fig, path)
