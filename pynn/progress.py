"""Progress reporting for long work (MLP.fit): a live bar on a terminal (tqdm
when it is installed, else a plain one-line bar), one summary line per epoch
when the output is not a terminal, and nothing at all when turned off.
"""
import sys
import time

_BAR_WIDTH = 24
_REFRESH_S = 0.1


def format_record(record):
    """One line of an epoch record's numbers: 'loss 0.1234  val_loss ...  1.23 s  45,600 samples/s'."""
    parts = [f"{key} {record[key]:.4g}" for key in ("loss", "accuracy", "val_loss", "val_accuracy")
             if record.get(key) is not None]
    parts.append(f"{record['seconds']:.2f} s")
    parts.append(f"{record['samples_per_s']:,.0f} samples/s")
    return "  ".join(parts)


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """Reports the progress of `epochs` epochs of `n_samples` samples each.

    Parameters
    ----------
    epochs : int
        Epochs planned.
    n_samples : int
        Training samples per epoch.
    enabled : bool
        False: report nothing.
    stream : file-like, optional
        Where to write; default sys.stderr. A live bar is drawn only when
        ``stream.isatty()``; otherwise one line per epoch.
    """

    def __init__(self, epochs, n_samples, enabled=True, stream=None):
        self.epochs = epochs
        self.n_samples = n_samples
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(enabled and isatty is not None and isatty())
        self.enabled = bool(enabled)
        self._tqdm = _tqdm() if self.live else None
        self._bar = None
        self._done = 0
        self._last_draw = 0.0
        self._epoch = 0

    def _label(self):
        return f"epoch {self._epoch + 1}/{self.epochs}"

    def start_epoch(self, epoch):
        """Called before the first batch of `epoch` (0-based)."""
        self._epoch, self._done = epoch, 0
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.n_samples, desc=self._label(), unit="sample",
                                   unit_scale=True, leave=True, file=self.stream)

    def advance(self, n_samples, loss):
        """Called after training `n_samples` more samples; `loss` is the epoch's mean so far."""
        if not self.live:
            return
        self._done += n_samples
        if self._bar is not None:
            self._bar.update(n_samples)
            self._bar.set_postfix_str(f"loss {loss:.4g}", refresh=False)
            return
        now = time.perf_counter()
        if now - self._last_draw >= _REFRESH_S or self._done >= self.n_samples:
            self._last_draw = now
            frac = self._done / self.n_samples
            filled = int(frac * _BAR_WIDTH)
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            self.stream.write(f"\r{self._label()} [{bar}] {frac:4.0%}  loss {loss:.4g}")
            self.stream.flush()

    def end_epoch(self, record):
        """Called with the epoch's finished record (see pynn.training.History)."""
        if not self.enabled:
            return
        line = format_record(record)
        if self._bar is not None:
            self._bar.set_postfix_str(line)
            self._bar.close()
            self._bar = None
            return
        if self.live:   # overwrite the bar, clear the rest of the terminal line
            self.stream.write(f"\r{self._label()}  {line}\x1b[K\n")
        else:
            self.stream.write(f"{self._label()}  {line}\n")
        self.stream.flush()
        self._done = 0

    def close(self):
        """Ends any unfinished bar (an interrupted or failed epoch)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.live and self._done:
            self.stream.write("\n")
            self.stream.flush()
