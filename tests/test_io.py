"""Saving and loading (pynn.io): exact round trips, exact resumption, and every bad file."""
import io
import json
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import pynn
from pynn.io import FORMAT_VERSION, ModelFileError


def data(n_in=5, n_out=3, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, n_out, n)


NETWORKS = [
    dict(sizes=[5, 16, 8, 3], activation="relu", loss="cross_entropy", dtype=np.float32),
    dict(sizes=[5, 7, 3], activation="leaky_relu", leaky_slope=0.2, dtype=np.float64),
    dict(sizes=[5, 6, 6, 3], activation=["tanh", "sigmoid"], output="sigmoid", dtype=np.float32),
    dict(sizes=[5, 3], loss="mse", dtype=np.float64),
]


@pytest.mark.parametrize("spec", NETWORKS, ids=lambda s: str(s["sizes"]))
def test_round_trip_predicts_bit_identically(tmp_path, spec):
    spec = dict(spec)
    net = pynn.MLP(spec.pop("sizes"), seed=3, **spec)
    X, y = data()
    T = y if net.loss_name == "cross_entropy" else np.eye(3)[y]
    net.fit(X, T, epochs=2, batch_size=8, progress=False, seed=0)   # params away from the init
    path = tmp_path / "model.npz"
    net.save(path)
    back = pynn.MLP.load(path)
    assert back.forward(X).tobytes() == net.forward(X).tobytes()
    assert back.params.tobytes() == net.params.tobytes()
    for attr in ("sizes", "activations", "loss_name", "leaky_slope", "dtype", "seed"):
        assert getattr(back, attr) == getattr(net, attr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]   # no temporary left


def test_save_overwrites_and_accepts_file_objects(tmp_path):
    a, b = pynn.MLP([2, 3], seed=1), pynn.MLP([2, 3], seed=2)
    a.save(tmp_path / "m.npz")
    b.save(str(tmp_path / "m.npz"))
    assert np.array_equal(pynn.MLP.load(tmp_path / "m.npz").params, b.params)
    buf = io.BytesIO()
    a.save(buf)
    buf.seek(0)
    assert np.array_equal(pynn.MLP.load(buf).params, a.params)


@pytest.mark.parametrize("make_opt", [
    lambda: pynn.Adam(lr=3e-3, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-3,
                      decoupled_weight_decay=True),
    lambda: pynn.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda: pynn.SGD(lr=0.05),
], ids=["adam", "sgd-nesterov", "sgd-plain"])
def test_training_resumes_exactly_after_save_and_load(tmp_path, make_opt):
    X, y = data()
    straight, opt = pynn.MLP([5, 16, 3], loss="cross_entropy", seed=0), make_opt()
    straight.fit(X, y, epochs=6, batch_size=8, optimizer=opt, progress=False, seed=1)

    first, opt1 = pynn.MLP([5, 16, 3], loss="cross_entropy", seed=0), make_opt()
    first.fit(X, y, epochs=3, batch_size=8, optimizer=opt1, progress=False, seed=1)
    first.save(tmp_path / "half.npz", optimizer=opt1)
    opt2 = type(opt1)()   # default hyperparameters: the file's replace them
    second = pynn.MLP.load(tmp_path / "half.npz", optimizer=opt2)
    assert repr(opt2) == repr(opt1) and opt2.state(second).step == opt1.state(first).step == 15
    # the same shuffles as epochs 3..5 of the straight run
    rng = np.random.default_rng(1)
    for _ in range(3):
        rng.permutation(len(X))
    for _ in range(3):
        order = rng.permutation(len(X))
        for s in range(0, len(X), 8):
            second.train_step(X[order[s:s + 8]], y[order[s:s + 8]], opt2)
    assert second.params.tobytes() == straight.params.tobytes()
    assert opt2.state(second).buffer.tobytes() == opt.state(straight).buffer.tobytes()


def test_optimizer_mismatches_are_errors(tmp_path):
    net = pynn.MLP([2, 3], seed=0)
    net.save(tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="no optimizer state"):
        pynn.MLP.load(tmp_path / "plain.npz", optimizer=pynn.Adam())
    net.save(tmp_path / "adam.npz", optimizer=pynn.Adam())
    with pytest.raises(ValueError, match="'Adam', but optimizer is SGD"):
        pynn.MLP.load(tmp_path / "adam.npz", optimizer=pynn.SGD())
    with pytest.raises(TypeError, match="optimizer"):
        pynn.MLP.load(tmp_path / "adam.npz", optimizer="adam")
    with pytest.raises(TypeError, match="optimizer"):
        net.save(tmp_path / "x.npz", optimizer=object())
    assert isinstance(pynn.MLP.load(tmp_path / "adam.npz"), pynn.MLP)   # state simply ignored


# ------------------------------------------------------------------ bad files

@pytest.fixture
def saved(tmp_path):
    net = pynn.MLP([8, 32, 4], seed=0)
    path = tmp_path / "good.npz"
    net.save(path, optimizer=pynn.Adam())
    return path


def entries_of(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no pynn model file at"):
        pynn.MLP.load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("keep", [0, 3, 100, 0.5, -1])
def test_truncated_file(saved, keep):
    raw = saved.read_bytes()
    cut = raw[:int(len(raw) * keep)] if isinstance(keep, float) else raw[:keep]
    saved.write_bytes(cut)
    with pytest.raises(ModelFileError, match="not a pynn model file|truncated or corrupted"):
        pynn.MLP.load(saved)


def test_corrupted_parameters(saved):
    raw = bytearray(saved.read_bytes())
    at = raw.index(b"params.npy") + 200   # inside the stored parameter bytes
    raw[at] ^= 0x5A
    saved.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="truncated or corrupted.*CRC"):
        pynn.MLP.load(saved)


def test_foreign_files(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ModelFileError, match=r"not a pynn model file.*\['weights'\]"):
        pynn.MLP.load(tmp_path / "other.npz")
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ModelFileError, match="not an .npz archive"):
        pynn.MLP.load(tmp_path / "array.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ModelFileError, match="not an .npz archive"):
        pynn.MLP.load(tmp_path / "text.npz")
    with zipfile.ZipFile(tmp_path / "zip.npz", "w") as z:
        z.writestr("readme.txt", "not numpy")
    with pytest.raises(ModelFileError, match="not a pynn model file"):
        pynn.MLP.load(tmp_path / "zip.npz")


def test_newer_format_version(saved):
    entries = entries_of(saved)
    entries["format_version"] = np.int64(FORMAT_VERSION + 1)
    np.savez(saved, **entries)
    with pytest.raises(ModelFileError, match=f"version {FORMAT_VERSION + 1}.*Upgrade pynn"):
        pynn.MLP.load(saved)


class Touch:
    """Unpickling this creates a file: proof that something was unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.path),)


def test_pickled_content_is_never_unpickled(saved, tmp_path):
    marker = tmp_path / "unpickled"
    entries = entries_of(saved)
    entries["params"] = np.array([Touch(marker)], dtype=object)
    np.savez(saved, **entries)
    with pytest.raises(ModelFileError, match="pickled"):
        pynn.MLP.load(saved)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(Touch(marker)))
    with pytest.raises(ModelFileError, match="not an .npz archive"):
        pynn.MLP.load(tmp_path / "model.pkl")
    assert not marker.exists()


@pytest.mark.parametrize("change, match", [
    (lambda e: e.update(params=e["params"][:-1]), "params must be float32 of shape"),
    (lambda e: e.update(params=e["params"].astype(np.float64)), "params must be float32"),
    (lambda e: e.update(architecture=np.array("{not json")), "not valid JSON"),
    (lambda e: e.update(architecture=np.array(json.dumps({"sizes": [8, 4]}))), "invalid architecture"),
    (lambda e: e.update(architecture=np.array(json.dumps(
        {"sizes": [8, 32, 4], "activations": ["relu", "bogus"], "loss": "mse", "leaky_slope": 0.01,
         "dtype": "float32", "seed": 0}))), "invalid architecture"),
    (lambda e: e.pop("params"), r"missing \['params'\]"),
    (lambda e: e.pop("format_version"), "format_version"),
    (lambda e: e.update(format_version=np.array("1")), "must be an integer"),
    (lambda e: e.update(pynn_format=np.array("keras")), "not a pynn model file"),
], ids=["short-params", "params-dtype", "bad-json", "no-activations", "bad-activation",
        "no-params", "no-version", "version-type", "other-format"])
def test_inconsistent_contents(saved, change, match):
    entries = entries_of(saved)
    change(entries)
    np.savez(saved, **entries)
    with pytest.raises(ModelFileError, match=match):
        pynn.MLP.load(saved)


@pytest.mark.parametrize("change, match", [
    (lambda e: e.update(optimizer_state=e["optimizer_state"][:5]), "optimizer state must be"),
    (lambda e: e.update(optimizer_step=np.int64(-1)), "step >= 0"),
    (lambda e: e.pop("optimizer_step"), "missing"),
    (lambda e: e.update(optimizer=np.array(json.dumps(
        {"class": "Adam", "hyperparameters": {"lr": -1.0}}))), "invalid optimizer hyperparameters"),
])
def test_inconsistent_optimizer_entries(saved, change, match):
    entries = entries_of(saved)
    change(entries)
    np.savez(saved, **entries)
    with pytest.raises(ModelFileError, match=match):
        pynn.MLP.load(saved, optimizer=pynn.Adam())
