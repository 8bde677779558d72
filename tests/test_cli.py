"""python -m pynn demo | info | bench, and the digits data the demo ships with."""
import re
import subprocess
import sys

import numpy as np
import pytest

import pynn
from pynn.__main__ import main
from pynn.datasets import load_digits, train_test_split


def run(*args, cwd):
    """Runs `python -m pynn ARGS` in a fresh interpreter (outside the source tree)."""
    proc = subprocess.run([sys.executable, "-P", "-m", "pynn", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


def test_info(tmp_path):
    out, _ = run("info", cwd=tmp_path)
    facts = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in out.splitlines())
    info = pynn.info()
    assert facts["version"] == info["version"] and facts["kernel"] == info["kernel"]
    assert facts["openmp_runtime"] == info["openmp_runtime"]
    assert int(facts["threads"]) == info["threads"]


def test_bench_prints_a_table_and_saves_a_plot(tmp_path):
    out, _ = run("bench", "--max-threads", "2", "--seconds", "0.1", "--sizes", "16,32,4",
                 "--batch", "64", "--plot", "speed.png", cwd=tmp_path)
    rows = [line.split() for line in out.splitlines() if re.match(r"\s+\d+\s", line)]
    assert [r[0] for r in rows] == ["1", "2"] and rows[0][2] == "1.00x"
    assert all(float(r[1].replace(",", "")) > 0 for r in rows)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert (tmp_path / "speed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_trains_and_reports_accuracy_and_throughput(tmp_path):
    out, err = run("demo", "--threads", "1", cwd=tmp_path)
    acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    r2 = float(re.search(r"R\^2 ([\d.]+)", out).group(1))
    assert acc > 95 and r2 > 0.95, out
    assert len(re.findall(r"[\d,]+ samples/s", out)) == 2
    assert "epoch 1/40" in err and "epoch 60/60" in err   # one progress line per epoch off a tty


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_shipped_digits():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.array_equal(np.unique(y), np.arange(10)) and np.bincount(y).min() >= 170
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_fraction=0.25, seed=3)
    assert len(X_te) == 450 and len(X_tr) == 1347
    again = train_test_split(X, y, test_fraction=0.25, seed=3)
    assert np.array_equal(again[1], X_te) and np.array_equal(again[3], y_te)
    def sorted_rows(a):
        return a[np.lexsort(a.T[::-1])]
    assert np.array_equal(sorted_rows(np.vstack([X_tr, X_te])), sorted_rows(X))   # a partition
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(X, y, test_fraction=1.0)
