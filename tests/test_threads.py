"""Thread control (set_num_threads, OMP_NUM_THREADS, threadpoolctl), the
workspace, fork safety, and networks used from several Python threads."""
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import pynn


def run_python(code, env=None, timeout=120):
    """Runs code as a script file (spawned children must be able to import __main__)."""
    import os
    import tempfile
    full_env = dict(os.environ, **(env or {}))
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "script.py")
        with open(script, "w") as f:
            f.write(textwrap.dedent(code))
        r = subprocess.run([sys.executable, script], capture_output=True, text=True, env=full_env,
                           timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_set_get_and_context_manager():
    default = pynn.get_num_threads()
    assert default >= 1
    pynn.set_num_threads(1)
    assert pynn.get_num_threads() == 1
    with pynn.num_threads(3):
        assert pynn.get_num_threads() == 3
    assert pynn.get_num_threads() == 1
    pynn.set_num_threads(-1)
    assert pynn.get_num_threads() == pynn._core.omp_max_threads()
    pynn.set_num_threads(None)
    assert pynn.get_num_threads() == default


def test_setting_holds_in_every_python_thread():
    pynn.set_num_threads(1)
    seen = []
    t = threading.Thread(target=lambda: seen.append(pynn.get_num_threads()))
    t.start()
    t.join()
    assert seen == [1]


def test_omp_num_threads_is_honoured():
    assert run_python("import pynn; print(pynn.get_num_threads())", {"OMP_NUM_THREADS": "1"}) == "1"
    assert run_python("import pynn; print(pynn.info()['threads'])", {"OMP_NUM_THREADS": "3"}) == "3"


def test_threadpoolctl_limits_are_honoured():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = pynn.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert pynn.get_num_threads() == 1
    assert pynn.get_num_threads() == before


def test_info():
    info = pynn.info()
    assert info["version"] == pynn.__version__
    assert info["kernel"] in info["kernels_available"]
    assert info["openmp"] is True and "OpenMP" in info["openmp_runtime"]


def test_forked_child_does_not_hang():
    """Once OpenMP ran a parallel region, a fork()ed child that calls pynn would
    hang in libgomp; pynn runs single-threaded there instead."""
    out = run_python("""
        import multiprocessing as mp, numpy as np, pynn
        def work(q):
            net = pynn.MLP([64, 256, 8], seed=0)
            q.put((pynn.get_num_threads(), float(net.forward(np.ones((256, 64))).sum())))
        if __name__ == "__main__":
            pynn.set_num_threads(2)
            net = pynn.MLP([64, 256, 8], seed=0)
            want = float(net.forward(np.ones((256, 64))).sum())   # parent used a thread team
            ctx = mp.get_context("fork")
            q = ctx.Queue()
            p = ctx.Process(target=work, args=(q,))
            p.start()
            threads, got = q.get(timeout=60)
            p.join(60)
            print(threads, got == want, p.exitcode)
        """, timeout=120)
    assert out == "1 True 0"


def test_spawned_children_work():
    out = run_python("""
        import multiprocessing as mp, numpy as np, pynn
        def work(seed):
            return float(pynn.MLP([8, 16, 2], seed=seed).forward(np.ones((4, 8))).sum())
        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(2) as pool:
                got = pool.map(work, [0, 1])
            print(got == [work(0), work(1)])
        """)
    assert out == "True"


def test_workspace_is_allocated_once():
    net = pynn.MLP([20, 64, 3], seed=0)
    opt = pynn.Adam()
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(50, 20)), rng.normal(size=(50, 3))
    net.train_step(X, T, opt)
    assert net.workspace_allocations == 1 and net.workspace_batch == 50
    for _ in range(20):
        net.train_step(X, T, opt)
        net.train_step(X[:7], T[:7], opt)          # smaller batches reuse it
        net.forward(X[:30])
    assert net.workspace_allocations == 1
    net.train_step(np.vstack([X, X]), np.vstack([T, T]), opt)
    assert net.workspace_allocations == 2 and net.workspace_batch == 100
    net.reserve(1000)
    assert net.workspace_batch == 1000 and net.workspace_allocations == 3


def steps(net, X, T, n, opt):
    for _ in range(n):
        net.train_step(X, T, opt)


def test_two_python_threads_train_two_networks():
    rng = np.random.default_rng(1)
    X, T = rng.normal(size=(64, 32)), rng.normal(size=(64, 4))
    nets = [pynn.MLP([32, 128, 4], seed=s) for s in (0, 1)]
    threads = [threading.Thread(target=steps, args=(n, X, T, 30, pynn.SGD(lr=0.01))) for n in nets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed, net in zip((0, 1), nets):
        alone = pynn.MLP([32, 128, 4], seed=seed)
        steps(alone, X, T, 30, pynn.SGD(lr=0.01))
        np.testing.assert_array_equal(net.params, alone.params)


def test_one_network_from_two_threads_is_serialized():
    rng = np.random.default_rng(2)
    X, T = rng.normal(size=(64, 32)), rng.normal(size=(64, 4))
    shared = pynn.MLP([32, 128, 4], seed=0)
    opt = pynn.SGD(lr=0.01)                      # stateless: step order cannot matter
    threads = [threading.Thread(target=steps, args=(shared, X, T, 25, opt)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = pynn.MLP([32, 128, 4], seed=0)
    steps(alone, X, T, 50, pynn.SGD(lr=0.01))
    np.testing.assert_array_equal(shared.params, alone.params)


def test_a_wait_for_a_busy_network_is_interruptible():
    """A call waiting for a network another thread is using waits without the GIL
    and a signal still interrupts it (as a threading.Lock's wait), long before the
    other thread's calls end."""
    import signal
    import time

    class Alarm(Exception):
        pass

    def on_alarm(signum, frame):
        raise Alarm

    rng = np.random.default_rng(4)
    net = pynn.MLP([256, 1024, 1024, 8], seed=0)
    X = rng.normal(size=(8192, 256)).astype(np.float32)
    T = rng.normal(size=(8192, 8)).astype(np.float32)
    with pynn.num_threads(1):
        t0 = time.perf_counter()
        net.loss(X, T)
        one = time.perf_counter() - t0                # one call holds the network this long
        started = threading.Event()
        busy = threading.Thread(target=lambda: [started.set()] + [net.loss(X, T) for _ in range(4)])
        old = signal.signal(signal.SIGALRM, on_alarm)
        try:
            busy.start()
            started.wait()
            time.sleep(0.2 * one)                     # the thread is inside its first call
            signal.setitimer(signal.ITIMER_REAL, 0.1 * one)
            t0 = time.perf_counter()
            with pytest.raises(Alarm):
                net.forward(X[:2])
            waited = time.perf_counter() - t0
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            busy.join()
    # interrupted, it waits 0.1 one; not, until the thread's first call ends (0.8 one)
    assert waited < 0.5 * one, f"waited {waited:.2f} s; one call takes {one:.2f} s"


def tuner_picks(seconds_by_threads, n_calls=5000):
    """Picks when a call on t threads always takes seconds_by_threads[t - 1]."""
    return pynn._core._tuner_for_tests(np.tile([0.0] + list(seconds_by_threads), (n_calls, 1)))


def test_tuner_keeps_the_full_team_when_it_is_fastest():
    picks = tuner_picks([1.0, 0.6, 0.5, 0.3])             # 4 threads fastest
    assert np.mean(picks[100:] == 4) > 0.9


def test_tuner_steps_down_when_fewer_threads_run_faster():
    """A competing process makes the team 30x slower than one thread: almost every
    call then runs on one thread, and probes cost at most a few percent."""
    cost = [1.0, 30.0]
    picks = tuner_picks(cost)
    assert np.mean(picks[100:] == 1) > 0.99
    spent = sum(cost[p - 1] for p in picks[100:])
    assert spent <= 1.05 * len(picks[100:]) * cost[0]


def test_tuner_rides_out_rare_stalls():
    """One call in 50 on the team stalls for 40 calls' time (a descheduled thread):
    the team stays the choice, left only for single probes, within 2% of the
    time that always keeping the team takes."""
    n = 5000
    seconds = np.tile([0.0, 1.0, 0.6], (n, 1))
    seconds[7::50, 2] = 40.0
    picks = pynn._core._tuner_for_tests(seconds)
    assert np.mean(picks[100:] == 2) > 0.95
    edges = np.flatnonzero(np.diff(np.r_[0, (picks[100:] == 1).astype(int), 0]))
    assert (edges[1::2] - edges[::2]).max(initial=0) <= 1       # no run on 1 thread
    spent = seconds[np.arange(100, n), picks[100:]].sum()
    assert spent <= 1.02 * seconds[100:, 2].sum()


def test_tuner_follows_a_lasting_slowdown_within_a_few_calls():
    """From call 1000 on another process holds a core and the team runs 30x slower."""
    n = 3000
    seconds = np.tile([0.0, 1.0, 0.6], (n, 1))
    seconds[1000:, 2] = 18.0
    picks = pynn._core._tuner_for_tests(seconds)
    assert np.mean(picks[200:1000] == 2) > 0.97
    assert (picks[1000:1010] == 2).sum() <= 6                 # leaves within a few calls
    assert np.mean(picks[1100:] == 1) > 0.99


def test_tuner_finds_an_intermediate_count():
    picks = tuner_picks([1.0, 0.55, 0.7, 0.9, 5.0, 6.0, 7.0, 8.0])   # 2 of 8 threads best
    assert np.mean(picks[200:] == 2) > 0.9


def test_adaptive_threads_can_be_turned_off():
    net = pynn.MLP([256, 512, 256, 10], seed=0)
    X, T = np.ones((256, 256)), np.ones((256, 10))
    net.adaptive_threads = False
    with pynn.num_threads(2):
        for _ in range(5):
            net.train_step(X, T, pynn.SGD(lr=1e-3))
            assert net.last_threads == 2
    net.adaptive_threads = True
    assert net.adaptive_threads


@pytest.mark.parametrize("owned", [False, True], ids=["shared", "owned"])
def test_team_loops_run_every_index_once(owned):
    """A team loop hands out every index exactly once, for any size, chunk and
    team (owned shares: each thread's own range first, then the others'; teams
    past PYNN_TEAM_OWNED_MAX share one counter), and so does the next loop on the
    counters the barrier cleared."""
    for nt in (1, 2, 3, 5, 8, 9):
        for n in (0, 1, 2, 7, 64, 1001):
            for chunk in (1, 3, 64):
                hits = pynn._core._team_loop_for_tests(n, chunk, owned, nt)
                assert hits.shape == (n,) and (hits == 2).all(), (nt, n, chunk, hits)
