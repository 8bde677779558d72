"""Saving and loading networks: one .npz file, never a pickle.

Layout (format version 1), every entry a plain array:

- ``pynn_format``: the string "pynn.MLP" (marks the file as ours);
- ``format_version``: int64; a reader refuses versions newer than its own;
- ``architecture``: a JSON string: sizes, activations, loss, leaky_slope,
  dtype, seed;
- ``params``: the flat parameter buffer (MLP.params), in the network's dtype;
- optionally ``optimizer`` (a JSON string: class name and hyperparameters),
  ``optimizer_state`` (its flat state buffer) and ``optimizer_step`` (int64:
  updates applied so far), so that training resumes exactly.

Loading uses ``allow_pickle=False`` always. Anything else (a missing,
truncated, corrupted or foreign file, a newer format version, inconsistent
contents) raises ModelFileError (a ValueError) or FileNotFoundError.
"""
import inspect
import json
import os
import secrets
import zipfile

import numpy as np

from .mlp import MLP
from .optim import SGD, Adam, Optimizer

FORMAT_NAME = "pynn.MLP"
FORMAT_VERSION = 1
_OPTIMIZERS = (SGD, Adam)


class ModelFileError(ValueError):
    """The file is not a pynn model this version of pynn can read."""


def _hyperparameters(optimizer):
    """The optimizer's constructor arguments, read back from its attributes of the same names."""
    names = list(inspect.signature(type(optimizer).__init__).parameters)[1:]
    return {name: getattr(optimizer, name) for name in names}


def save(net, path, optimizer=None):
    """Writes `net` (and optionally `optimizer`'s state for it) to `path` as .npz.

    Parameters
    ----------
    net : pynn.MLP
    path : str or os.PathLike or writable binary file
        Written exactly there (no suffix added). A path is written to a
        temporary file first and then renamed, so an existing file is never
        left half-written.
    optimizer : pynn.SGD or pynn.Adam, optional
        Also store its hyperparameters and its state for `net` (step count
        included), so that ``load(path, optimizer=...)`` resumes training
        exactly.
    """
    arch = {"sizes": list(net.sizes), "activations": list(net.activations),
            "loss": net.loss_name, "leaky_slope": net.leaky_slope, "dtype": net.dtype.name,
            "seed": net.seed}
    entries = {"pynn_format": np.array(FORMAT_NAME), "format_version": np.int64(FORMAT_VERSION),
               "architecture": np.array(json.dumps(arch)), "params": net.params}
    if optimizer is not None:
        if type(optimizer) not in _OPTIMIZERS:
            raise TypeError(f"optimizer must be a pynn.SGD or pynn.Adam, got "
                            f"{type(optimizer).__name__}")
        state = optimizer.state(net)
        config = {"class": type(optimizer).__name__, "hyperparameters": _hyperparameters(optimizer)}
        entries.update(optimizer=np.array(json.dumps(config)), optimizer_state=state.buffer,
                       optimizer_step=np.int64(state.step))
    if hasattr(path, "write"):
        np.savez(path, **entries)
        return
    path = os.fspath(path)
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **entries)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _display_name(path):
    return getattr(path, "name", "<file>") if hasattr(path, "read") else os.fspath(path)


def _read_entries(path, name):
    """Every entry of the .npz at `path` as a dict of arrays; errors say what is wrong."""
    try:
        f = path if hasattr(path, "read") else open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"no pynn model file at {name!r}") from None
    try:
        start = f.tell()
        magic = f.read(4)
        f.seek(start)
        if magic != b"PK\x03\x04":
            raise ModelFileError(f"{name}: not a pynn model file (not an .npz archive; it starts "
                                 f"with {magic!r})")
        try:
            with np.load(f, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
            if "pickle" in str(err):
                raise ModelFileError(f"{name}: holds pickled (object) data, which pynn never "
                                     "loads (allow_pickle=False); it was not written by pynn") from err
            raise ModelFileError(f"{name}: not a readable pynn model file (truncated or "
                                 f"corrupted): {err}") from err
    finally:
        if f is not path:
            f.close()


def _string(entries, key, name):
    a = entries[key]
    if a.dtype.kind != "U" or a.ndim != 0:
        raise ModelFileError(f"{name}: entry {key!r} must be a string, got {a.dtype} {a.shape}")
    return str(a)


def _integer(entries, key, name):
    a = entries[key]
    if a.dtype.kind not in "iu" or a.ndim != 0:
        raise ModelFileError(f"{name}: entry {key!r} must be an integer, got {a.dtype} {a.shape}")
    return int(a)


def _json(entries, key, name):
    try:
        obj = json.loads(_string(entries, key, name))
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{name}: entry {key!r} is not valid JSON: {err}") from None
    if not isinstance(obj, dict):
        raise ModelFileError(f"{name}: entry {key!r} must be a JSON object")
    return obj


def _network(entries, name):
    arch = _json(entries, "architecture", name)
    try:
        act = arch["activations"]
        net = MLP(arch["sizes"], activation=act[:-1], output=act[-1], loss=arch["loss"],
                  dtype=np.dtype(arch["dtype"]), seed=arch["seed"], leaky_slope=arch["leaky_slope"])
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise ModelFileError(f"{name}: invalid architecture {arch}: {err}") from None
    params = entries["params"]
    if params.dtype != net.dtype or params.shape != net.params.shape:
        raise ModelFileError(f"{name}: params must be {net.dtype} of shape {net.params.shape} for "
                             f"this architecture, got {params.dtype} {params.shape}")
    net.params[...] = params
    return net


def _restore_optimizer(entries, net, optimizer, name):
    if "optimizer" not in entries:
        raise ModelFileError(f"{name}: holds no optimizer state (save it with "
                             "net.save(path, optimizer=opt))")
    missing = {"optimizer_state", "optimizer_step"} - set(entries)
    if missing:
        raise ModelFileError(f"{name}: incomplete optimizer entries, missing {sorted(missing)}")
    config = _json(entries, "optimizer", name)
    cls_name = config.get("class")
    if cls_name != type(optimizer).__name__:
        raise ValueError(f"{name}: the saved optimizer is {cls_name!r}, but optimizer is "
                         f"{type(optimizer).__name__}")
    try:
        saved = type(optimizer)(**config["hyperparameters"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{name}: invalid optimizer hyperparameters: {err}") from None
    for key, value in _hyperparameters(saved).items():
        setattr(optimizer, key, value)
    state = optimizer.state(net)
    buffer, step = entries["optimizer_state"], _integer(entries, "optimizer_step", name)
    if buffer.dtype != state.buffer.dtype or buffer.shape != state.buffer.shape or step < 0:
        raise ModelFileError(f"{name}: optimizer state must be {state.buffer.dtype} of shape "
                             f"{state.buffer.shape} with step >= 0, got {buffer.dtype} "
                             f"{buffer.shape}, step {step}")
    state.buffer[...] = buffer
    state.step = step


def load(path, optimizer=None):
    """Reads a network written by save(); never unpickles.

    Parameters
    ----------
    path : str or os.PathLike or readable binary file
    optimizer : pynn.SGD or pynn.Adam, optional
        Restore the saved optimizer into this object: it takes the saved
        hyperparameters and its state for the returned network (step count
        included), so training resumes exactly. Its class must match the saved
        one.

    Returns
    -------
    pynn.MLP
        Predicts bit-identically to the saved network.

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    ModelFileError (a ValueError)
        Truncated, corrupted or foreign file, pickled content, a newer format
        version, or contents that do not fit together.
    """
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a pynn.SGD or pynn.Adam, got {type(optimizer).__name__}")
    name = _display_name(path)
    entries = _read_entries(path, name)
    if "pynn_format" not in entries or _string(entries, "pynn_format", name) != FORMAT_NAME:
        raise ModelFileError(f"{name}: not a pynn model file (no pynn_format={FORMAT_NAME!r} "
                             f"entry; it holds {sorted(entries)})")
    version = _integer(entries, "format_version", name) if "format_version" in entries else None
    if version is None or version < 1:
        raise ModelFileError(f"{name}: missing or invalid format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{name}: written in pynn model format version {version}; this pynn "
                             f"reads versions up to {FORMAT_VERSION}. Upgrade pynn to load it.")
    missing = {"architecture", "params"} - set(entries)
    if missing:
        raise ModelFileError(f"{name}: incomplete pynn model file, missing {sorted(missing)}")
    net = _network(entries, name)
    if optimizer is not None:
        _restore_optimizer(entries, net, optimizer, name)
    return net
