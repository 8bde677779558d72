#!/usr/bin/env python3
"""Side-by-side training-step and inference throughput: pynn vs NumPy, PyTorch eager,
torch.compile, JAX jit and scikit-learn (issue 4). Every peer is optional.

    python bench/compare.py                     # all configs, threads 1 and all, 3 rounds
    python bench/compare.py --quick             # 1 round, short timings (a smoke run)
    python bench/compare.py --configs tiny,mnist --peers pynn,numpy,jax --threads 1,2,4
    python bench/compare.py --json out.json     # raw per-process results as well
    python bench/compare.py --speedup [--plot speedup.png]   # pynn, threads 1..N
    python bench/compare.py --memory            # max RSS of 100 wide steps, pynn vs NumPy

WHAT IS MEASURED
  Configs (float32, batch, layer sizes): tiny (32, [32,64,64,1]), small (64, [784,128,10]),
  mnist (128, [784,256,128,10]), medium (256, [1024,1024,1024,10]),
  wide (1024, [2048,4096,4096,1024]). Hidden activation relu, identity output.
  One training STEP = forward + MSE loss mean((Y-T)^2) + backprop + plain SGD update
  (lr = 1e-3, no momentum, no weight decay). INFERENCE = one forward pass. Every peer
  starts from the same X, T (standard normal, NumPy Generator seed 0) and the same
  initial weights (pynn's MLP(seed=0) when pynn imports).

  Throughput is samples/s = batch * steps / seconds.

HOW
  Each (peer, config, threads) runs in ITS OWN PROCESS (`compare.py --_worker ...`) with
  OMP_NUM_THREADS = MKL_NUM_THREADS = OPENBLAS_NUM_THREADS = threads, threadpoolctl's
  threadpool_limits(threads) inside, the peer's own thread setting (pynn.set_num_threads,
  torch.set_num_threads; JAX: see below), and, unless --no-pin, the process pinned with
  sched_setaffinity (what `taskset` does) to the first `threads` cores it may use.
  JAX at 1 thread also gets XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
  intra_op_parallelism_threads=1"; at n threads XLA sizes its pool from the pinned cores.
  In a process: two checked steps (their losses are reported; they also trigger JIT /
  torch.compile compilation), a warm-up, then REPS timed blocks of k steps each, k chosen
  so one block lasts about --block seconds; a block ends with the peer's sync (JAX's
  block_until_ready), so asynchronously queued work is counted. The process reports the
  median block rate and its CPU use (process CPU time / wall time = busy cores).
  Processes are INTERLEAVED: round r runs every config x threads x peer, peers
  round-robin (rotated each round), so machine noise hits every peer alike. The table
  shows the MEDIAN over rounds of the per-process medians.

  NumPy and scikit-learn get their speed from OpenBLAS. When OPENBLAS_CORETYPE or
  OPENBLAS_L2_SIZE is set in the environment (they can pin OpenBLAS to a slower kernel),
  those two peers also run with both variables removed (in that subprocess only); the
  table reports the faster variant and names the OpenBLAS kernel (threadpoolctl's
  'architecture') it used.

FMA-PEAK LIMIT
  FLOPs per training step (2 FLOPs per multiply-add; matrix products only):
      F_train = sum_l 6 * b * n_{l-1} * n_l  -  2 * b * n_0 * n_1
  i.e. forward A_{l-1} W_l (2 b n_{l-1} n_l), dW_l = A_{l-1}^T dZ_l (2 b n_{l-1} n_l) and
  dA_{l-1} = dZ_l W_l^T (2 b n_{l-1} n_l), except dA_0 = dX, which nobody needs. Bias,
  activation, loss and the SGD update are O(b n + params) memory traffic and not counted.
  (--count-first-dx uses 6 b sum n_{l-1} n_l, the count behind the limits in issue 4's
  table.) Inference: F_fwd = 2 * b * sum_l n_{l-1} n_l.
  The limit in samples/s is b * P / F with P the f32 FMA peak of `threads` cores, from:
  --peak GFLOPS > bench/peak/peak.c (the widest vectors the CPU has: AVX-512 or AVX2),
  built here with `cc -O2 -fopenmp` and run as `peak 1` (f32 line) > 90 GFLOP/s; per
  core, times threads (a run on every core would only tell whether they were all free at
  that moment: on the shared 2-core VM it once gave 137 GFLOP/s for 2 x 93).
  "% limit" = pynn's samples/s / that limit.

CORE-TO-CORE LATENCY
  Before every run of 2 or more threads, bench/peak/corelat.c (built like peak.c) times a
  cache line's trip between the run's first two cores (one way, median of 7 bursts). A
  team hands work over through such lines at every barrier and product, so on a VM,
  where the hypervisor moves the virtual CPUs, a multi-thread rate is only comparable
  with the latency it ran at (on the 2-core dev VM: 26-39 ns in some minutes, 115-160 ns
  in others). The report lists it per run beside pynn's rate.

OUTPUT
  Markdown tables: per config and thread count, samples/s of each peer, the best
  non-pynn peer, pynn / best, the FMA-peak limit and pynn's fraction of it; the same for
  inference; the first-step loss check (each peer's loss at the initial weights, and
  its loss decrease after one update, against pynn's).

--memory: pynn and NumPy, each in its own process, run --memory-steps (100) wide steps;
  reported: ru_maxrss after imports (baseline), ru_maxrss after the steps (total), and
  the increase. Data and weights are created inside the measured region for both.
--speedup: pynn alone at threads 1..N (N = cores this process may use, or --threads),
  samples/s and speedup vs 1 thread per config; a PNG plot when matplotlib is installed.
"""
import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

CONFIGS = {
    "tiny": (32, [32, 64, 64, 1]),
    "small": (64, [784, 128, 10]),
    "mnist": (128, [784, 256, 128, 10]),
    "medium": (256, [1024, 1024, 1024, 10]),
    "wide": (1024, [2048, 4096, 4096, 1024]),
}
LR = 1e-3
DEFAULT_PEAK_PER_CORE = 90.0    # GFLOP/s f32, when nothing better is known
RESULT_TAG = "@@COMPARE_RESULT "
BUSY_UTIL = 0.85                # CPU time / wall below this (< one core) flags a busy machine
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ----------------------------------------------------------------------------- FLOPs

def flops_train(batch, sizes, count_first_dx=False):
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    f = 6 * batch * macs
    if not count_first_dx:
        f -= 2 * batch * sizes[0] * sizes[1]
    return f


def flops_forward(batch, sizes):
    return 2 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


# ----------------------------------------------------------------------------- worker

def _now():
    return time.perf_counter()


def _cpu():
    t = os.times()
    return t.user + t.system


def _timed(fn, sync, batch, warm_s, block_s, reps, budget_s, min_warm=2):
    """Warm-up (>= min_warm calls and >= warm_s seconds), then up to `reps` blocks of k
    calls, k chosen so a block lasts about block_s; fewer blocks (at least one) when they
    would not fit in budget_s. Returns the per-block rates in samples/s."""
    t_begin = _now()
    n = 0
    while True:
        t = _now()
        fn()
        sync()
        one = max(_now() - t, 1e-9)
        n += 1
        spent = _now() - t_begin
        if n >= min_warm and spent >= warm_s:
            break
        if n >= 1 and spent + one > budget_s / 3:
            break
    k = max(1, int(round(block_s / one)))
    left = budget_s - (_now() - t_begin)
    n_blocks = max(1, min(reps, int(left / (k * one))))
    rates, utils = [], []
    for _ in range(n_blocks):
        c0, t0 = _cpu(), _now()
        for _ in range(k):
            fn()
        sync()
        dt, dc = _now() - t0, _cpu() - c0
        rates.append(batch * k / dt)
        utils.append(dc / dt)
    return {"rates": rates, "median": statistics.median(rates), "calls_per_block": k,
            "blocks": n_blocks, "warmup_calls": n, "budget_limited": n_blocks < reps,
            "cpu_util": statistics.median(utils)}


def _vmhwm_kib():
    """VmHWM: this process image's own peak RSS (kept for a cross-check of ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def worker(spec):
    """Runs in the child process: one peer, one config, one thread count."""
    t_start = _now()
    if "make_case" in spec:
        import peers
        src = peers.write_case_files(spec["make_case"], spec["batch"], spec["sizes"])
        print(RESULT_TAG + json.dumps({"source": src}), flush=True)
        return
    if spec.get("affinity"):
        os.sched_setaffinity(0, spec["affinity"])
    import resource
    import numpy as np                                  # noqa: F401  (baseline includes it)
    import peers
    mod = peers.load(spec["peer"])
    out = {"peer": spec["peer"], "variant": spec["variant"], "config": spec["config"],
           "threads": spec["threads"], "round": spec.get("round", 0),
           "affinity": sorted(os.sched_getaffinity(0))}
    out["version"] = mod.version()                      # imports the peer's library
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    case = peers.read_case(spec["case_dir"], spec["config"], spec["batch"], spec["sizes"],
                           spec["threads"], spec["lr"], with_params=spec["peer"] != "pynn")
    runner = mod.build(case)
    limiter = None
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(limits=spec["threads"])     # noqa: F841 (kept alive)
    except ImportError:
        out["threadpoolctl"] = "not installed"
    if spec["mode"] == "memory":
        t0 = _now()
        for _ in range(spec["steps"]):
            h = runner.step()
        runner.sync()
        out["last_loss"] = runner.loss(h)
        out["seconds"] = _now() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["vmhwm_mib"] = _vmhwm_kib() / 1024.0
        out["rss_baseline_mib"] = rss0 / 1024.0
        out["rss_total_mib"] = rss1 / 1024.0
        out["rss_increase_mib"] = (rss1 - rss0) / 1024.0
        out["steps"] = spec["steps"]
    else:
        losses = [runner.loss(runner.step()) for _ in range(2)]
        out["losses"] = losses
        out["finite"] = all(math.isfinite(v) for v in losses)
        # The two checked steps above were the first warm-up calls (and any compilation).
        out["train"] = _timed(runner.step, runner.sync, spec["batch"], spec["warm_s"],
                              spec["block_s"], spec["reps"], spec["budget_s"], min_warm=1)
        if spec.get("forward", True):
            out["forward"] = _timed(runner.forward, runner.sync, spec["batch"], spec["warm_s"],
                                    spec["block_s"], spec["reps"], spec["budget_s"])
    out["notes"] = runner.notes()
    out["elapsed_s"] = _now() - t_start
    print(RESULT_TAG + json.dumps(out), flush=True)


# ----------------------------------------------------------------------------- parent

def allowed_cores():
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:
        return list(range(os.cpu_count() or 1))


def peer_available(name):
    """(installed?, why not): find_spec on the peer's MODULES; imports nothing heavy (peer
    modules import their framework only inside their functions)."""
    import importlib.util
    import peers
    missing = [m for m in peers.load(name).MODULES if importlib.util.find_spec(m) is None]
    return (not missing), (f"not installed ({', '.join(missing)})" if missing else "")


def peer_blas_sensitive(name):
    import peers
    return bool(getattr(peers.load(name), "BLAS_SENSITIVE", False))


def child_env(peer, variant, threads, pin):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[k] = str(threads)
    env["JAX_PLATFORMS"] = "cpu"
    env["TORCHINDUCTOR_COMPILE_THREADS"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    if peer == "jax" and threads == 1:
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
    if variant == "openblas-unset":
        for k in OPENBLAS_VARS:
            env.pop(k, None)
    return env


def run_worker(spec, args):
    env = child_env(spec["peer"], spec["variant"], spec["threads"], spec.get("affinity"))
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", json.dumps(spec)]
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {**_ident(spec), "error": f"timed out after {args.timeout} s"}
    for line in p.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
    return {**_ident(spec), "error": f"exit {p.returncode}: " + " | ".join(tail)}


def _ident(spec):
    return {k: spec[k] for k in ("peer", "variant", "config", "threads")} | \
        {"round": spec.get("round", 0)}


def find_cc():
    """The C compiler the bench programs are built with ($CC, else cc or gcc), or None."""
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")


def measure_peak(threads_list, args):
    """{threads: GFLOP/s f32} and a description of where it came from."""
    if args.peak:
        return {t: args.peak * t for t in threads_list}, f"--peak {args.peak} GFLOP/s per core"
    src = os.path.join(HERE, "peak", "peak.c")
    cc = find_cc()
    if os.path.exists(src) and cc:
        d = tempfile.mkdtemp(prefix="pynn-peak-")
        exe = os.path.join(d, "peak")
        try:
            subprocess.run([cc, "-O2", "-fopenmp", src, "-o", exe],
                           check=True, capture_output=True, timeout=120)
            # one core's peak, times the threads: the machine's limit; a run of
            # peak.c on all cores only says whether they were all free just then
            best = 0.0
            for _ in range(2):
                r = subprocess.run([exe, "1"], capture_output=True, text=True, timeout=120,
                                   check=True)
                for line in r.stdout.splitlines():
                    if line.startswith("f32"):
                        best = max(best, float(line.split()[1]))
            if best > 0:
                return ({t: best * t for t in threads_list},
                        "one core measured by bench/peak/peak.c (f32 FMA, best of 2 x 7 runs), "
                        "times the threads")
        except (subprocess.SubprocessError, OSError, ValueError):
            pass
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return ({t: DEFAULT_PEAK_PER_CORE * t for t in threads_list},
            f"default {DEFAULT_PEAK_PER_CORE:g} GFLOP/s per core (bench/peak/ not available; "
            f"use --peak)")


def build_corelat(tmp):
    """bench/peak/corelat.c built into tmp: the executable's path, or None."""
    src = os.path.join(HERE, "peak", "corelat.c")
    cc = find_cc()
    if not (os.path.exists(src) and cc and sys.platform.startswith("linux")):
        return None
    exe = os.path.join(tmp, "corelat")
    try:
        subprocess.run([cc, "-O2", "-pthread", src, "-o", exe], check=True, capture_output=True,
                       timeout=120)
    except (subprocess.SubprocessError, OSError):
        return None
    return exe


def line_transfer_ns(exe, cores):
    """One-way cache-line transfer between cores[0] and cores[1] in ns, or None."""
    if not exe or len(cores) < 2:
        return None
    try:
        r = subprocess.run([exe, str(cores[0]), str(cores[1])], capture_output=True, text=True,
                           timeout=30, check=True)
        return float(r.stdout.split("line_ns", 1)[1].split()[0])
    except (subprocess.SubprocessError, OSError, IndexError, ValueError):
        return None


def fmt_rate(x):
    if x is None:
        return "-"
    if x >= 1e5:
        return f"{x / 1e3:.0f}k"
    if x >= 1e4:
        return f"{x / 1e3:.1f}k"
    if x >= 1e3:
        return f"{x / 1e3:.2f}k"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.1f}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def loadavg():
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def make_cases(configs, tmp, args):
    """Writes each config's X, T and initial weights under tmp, in a child process: the
    parent never holds the big arrays (nor pynn), because a child's ru_maxrss starts at
    its parent's resident size (Linux carries it over fork + exec), which would inflate
    --memory's figures."""
    dirs, sources = {}, {}
    for c in configs:
        d = os.path.join(tmp, c)
        spec = {"make_case": d, "batch": CONFIGS[c][0], "sizes": CONFIGS[c][1]}
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--_worker",
                            json.dumps(spec)], capture_output=True, text=True,
                           timeout=args.timeout, env=child_env("", "default", 1, None))
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith(RESULT_TAG)]
        if p.returncode or not lines:
            raise RuntimeError(f"could not write the {c} case: {p.stderr.strip()[-500:]}")
        sources[c] = json.loads(lines[-1][len(RESULT_TAG):])["source"]
        dirs[c] = d
    return dirs, sources


def base_spec(args, peer, variant, config, threads, case_dir, cores, rnd):
    batch, sizes = CONFIGS[config]
    aff = cores[:threads] if (args.pin and threads <= len(cores)) else None
    return {"peer": peer, "variant": variant, "config": config, "threads": threads,
            "batch": batch, "sizes": sizes, "lr": LR, "case_dir": case_dir, "round": rnd,
            "affinity": aff, "mode": "bench", "warm_s": args.warm, "block_s": args.block,
            "reps": args.reps, "budget_s": args.budget, "forward": not args.no_forward}


def run_plan(plan, args, cores, corelat=None):
    results = []
    for i, spec in enumerate(plan, 1):
        line_ns = (line_transfer_ns(corelat, spec["affinity"] or cores)
                   if spec["threads"] >= 2 and spec["mode"] == "bench" else None)
        r = run_worker(spec, args)
        if line_ns is not None:
            r["line_ns"] = line_ns
        results.append(r)
        tag = f"{spec['peer']}" + ("" if spec["variant"] == "default" else f"[{spec['variant']}]")
        if "error" in r:
            msg = "ERROR " + r["error"][:200]
        elif spec["mode"] == "memory":
            msg = (f"max RSS {r['rss_total_mib']:.0f} MiB (+{r['rss_increase_mib']:.0f} MiB), "
                   f"{r['seconds']:.1f} s")
        else:
            msg = (f"train {fmt_rate(r['train']['median'])}/s "
                   f"(cpu {r['train']['cpu_util']:.2f})"
                   + (f", forward {fmt_rate(r['forward']['median'])}/s" if "forward" in r else "")
                   + f", loss {r['losses'][0]:.6g}, {r['elapsed_s']:.1f} s"
                   + (f", line {r['line_ns']:.0f} ns" if "line_ns" in r else ""))
        print(f"  [{i}/{len(plan)}] round {spec['round'] + 1} {spec['config']} "
              f"{spec['threads']}T {tag}: {msg}", file=sys.stderr, flush=True)
    return results


def median_or_none(xs):
    return statistics.median(xs) if xs else None


def summarize(results, peers_run, configs, threads_list):
    """{(config, threads): {peer: {...}}} with medians over rounds; for BLAS peers the
    faster variant."""
    out = {}
    for c in configs:
        for t in threads_list:
            row = {}
            for p in peers_run:
                per_var = {}
                for r in results:
                    if r["peer"] != p or r["config"] != c or r["threads"] != t or "error" in r:
                        continue
                    per_var.setdefault(r["variant"], []).append(r)
                if not per_var:
                    errs = [r["error"] for r in results if r["peer"] == p and r["config"] == c
                            and r["threads"] == t and "error" in r]
                    row[p] = {"error": errs[0] if errs else "not run"}
                    continue
                best = None
                variants = {}
                for v, rs in per_var.items():
                    tr = median_or_none([r["train"]["median"] for r in rs])
                    fw = median_or_none([r["forward"]["median"] for r in rs if "forward" in r])
                    variants[v] = {"train": tr, "forward": fw,
                                   "train_rounds": [r["train"]["median"] for r in rs],
                                   "cpu_util": median_or_none([r["train"]["cpu_util"] for r in rs]),
                                   "notes": rs[0].get("notes", {}),
                                   "losses": rs[0]["losses"], "finite": all(r["finite"] for r in rs),
                                   "version": rs[0].get("version")}
                    if best is None or (tr or 0) > (variants[best]["train"] or 0):
                        best = v
                row[p] = dict(variants[best], variant=best,
                              other_variants={v: {"train": variants[v]["train"],
                                                  "blas": variants[v]["notes"].get("blas")}
                                              for v in variants if v != best})
            out[(c, t)] = row
    return out


def check_losses(row):
    """Each peer's (L0, L0 - L1) against pynn's (or NumPy's when pynn did not run)."""
    ref_name = "pynn" if "losses" in row.get("pynn", {}) else (
        "numpy" if "losses" in row.get("numpy", {}) else None)
    checks = {}
    if ref_name is None:
        return ref_name, checks
    L0r, L1r = row[ref_name]["losses"]
    dr = L0r - L1r
    for p, v in row.items():
        if "losses" not in v:
            continue
        L0, L1 = v["losses"]
        d = L0 - L1
        ok0 = abs(L0 - L0r) <= 1e-4 * abs(L0r) + 1e-6
        okd = abs(d - dr) <= 0.02 * abs(dr) + 2e-6 * abs(L0r)
        status = "ok" if (v["finite"] and ok0 and okd) else (
            "NOT FINITE" if not v["finite"] else "DIFFERS")
        checks[p] = (L0, d, status)
    return ref_name, checks


def print_tables(summary, peers_run, configs, threads_list, peak, args, which="train"):
    cols = list(peers_run)
    others = [p for p in cols if p != "pynn"]
    head = ["config (batch, sizes)", "thr"] + cols + ["best peer", "pynn / best",
                                                      "FMA limit", "pynn % limit"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in configs:
        b, s = CONFIGS[c]
        for t in threads_list:
            row = summary[(c, t)]
            cells = [f"{c} ({b}, {s})", str(t)]
            for p in cols:
                v = row.get(p, {})
                cell = fmt_rate(v.get(which)) if v.get(which) else (
                    "err" if "error" in v and v["error"] != "not run" else "-")
                if v.get(which) and (v.get("cpu_util") or 1.0) < BUSY_UTIL:
                    cell += " †"
                cells.append(cell)
            best_p, best_v = None, 0.0
            for p in others:
                val = row.get(p, {}).get(which)
                if val and val > best_v:
                    best_p, best_v = p, val
            mine = row.get("pynn", {}).get(which)
            cells.append(f"{fmt_rate(best_v)} {best_p}" if best_p else "-")
            cells.append(f"{mine / best_v:.2f}x" if (mine and best_p) else "-")
            f = flops_train(b, s, args.count_first_dx) if which == "train" else flops_forward(b, s)
            limit = peak[t] * 1e9 * b / f
            cells.append(fmt_rate(limit))
            cells.append(f"{100 * mine / limit:.0f}%" if mine else "-")
            lines.append("| " + " | ".join(cells) + " |")
    if any("†" in ln for ln in lines[2:]):
        lines.append(f"\n† the process got less than {BUSY_UTIL} of a core on average during its "
                     "timed blocks (CPU time / wall): the machine was busy, so that figure says "
                     "more about the other load than about the peer.")
    return "\n".join(lines)


def print_checks(summary, configs, threads_list):
    lines = ["| config | thr | reference | " + "peer: loss at init / decrease after 1 step / check |",
             "|---|---|---|---|"]
    for c in configs:
        for t in threads_list:
            ref, checks = check_losses(summary[(c, t)])
            if not checks:
                continue
            txt = "; ".join(f"{p}: {L0:.6g} / {d:.3g} / {st}" for p, (L0, d, st) in checks.items())
            lines.append(f"| {c} | {t} | {ref} | {txt} |")
    return "\n".join(lines)


def latency_lines(results, configs, threads_list):
    """Per multi-thread config: pynn's rate in each round beside the cache-line
    transfer time measured just before it, then every run's latencies."""
    lines, every = [], []
    for c in configs:
        for t in threads_list:
            runs = [r for r in results if r["config"] == c and r["threads"] == t and "line_ns" in r]
            if t < 2 or not runs:
                continue
            every += [r["line_ns"] for r in runs]
            mine = sorted((r for r in runs if r["peer"] == "pynn" and "train" in r
                           and r["variant"] == "default"), key=lambda r: r["round"])
            if mine:
                lines.append(f"- {c} {t}T, pynn: " + "; ".join(
                    f"{fmt_rate(r['train']['median'])}/s at {r['line_ns']:.0f} ns" for r in mine))
    if every:
        lines.append(f"- all {len(every)} multi-thread runs: median {statistics.median(every):.0f} "
                     f"ns, {min(every):.0f}-{max(every):.0f}")
    return lines


def notes_lines(summary, peers_run, configs, threads_list):
    lines = []
    for p in peers_run:
        vers, notes, variants, utils = set(), set(), set(), []
        for c in configs:
            for t in threads_list:
                v = summary[(c, t)].get(p, {})
                if "train" not in v:
                    continue
                vers.add(v.get("version"))
                variants.add(v["variant"])
                n = {k: val for k, val in v.get("notes", {}).items() if k != "threads"}
                if n:
                    notes.add(json.dumps(n, sort_keys=True))
                if v.get("cpu_util") is not None:
                    utils.append(f"{c}/{t}T {v['cpu_util']:.2f}")
        if not vers:
            continue
        s = f"- {p} {', '.join(sorted(str(x) for x in vers))}"
        if variants - {"default"}:
            s += f"; faster variant: {', '.join(sorted(variants))}"
        if notes:
            s += "; " + "; ".join(sorted(notes))
        lines.append(s)
        lines.append(f"  - busy cores during timed blocks (CPU time / wall): {', '.join(utils)}")
        picks = []
        for c in configs:
            for t in threads_list:
                v = summary[(c, t)].get(p, {})
                for ov, o in (v.get("other_variants") or {}).items():
                    picks.append(f"{c}/{t}T {v['variant']} {fmt_rate(v['train'])} "
                                 f"({v['notes'].get('blas', '?')}) beat {ov} {fmt_rate(o['train'])} "
                                 f"({o.get('blas') or '?'})")
        if picks:
            lines.append("  - OpenBLAS variants (training): " + "; ".join(picks))
    return lines


def header(args, cores, peak, peak_src, sources, skipped):
    lines = [f"# pynn vs peers: {time.strftime('%Y-%m-%d %H:%M:%S')}",
             f"- command: `python bench/compare.py {' '.join(sys.argv[1:])}`",
             f"- machine: {cpu_model()}, {len(cores)} cores usable {cores}, "
             f"load average at start {loadavg()}",
             f"- python {platform.python_version()}; "
             f"{'pinned with sched_setaffinity to the first n cores' if args.pin else 'not pinned'}; "
             f"rounds {args.rounds}, up to {args.reps} blocks of ~{args.block} s per process "
             f"(timing budget {args.budget:g} s per measurement)",
             f"- FMA peak (f32, GFLOP/s by thread count): "
             f"{', '.join(f'{t}T {v:.1f}' for t, v in sorted(peak.items()))} ({peak_src})"]
    ob = {k: os.environ[k] for k in OPENBLAS_VARS if k in os.environ}
    lines.append(f"- OpenBLAS env: {ob if ob else 'OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE not set'}")
    if sources:
        lines.append(f"- initial weights: {sorted(set(sources.values()))}")
    for p, why in skipped.items():
        lines.append(f"- skipped {p}: {why}")
    return lines


def parse_list(s, cast=str):
    return [cast(x) for x in s.split(",") if x.strip()]


def main(argv=None):
    import peers
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--peers", default=",".join(peers.PEER_MODULES))
    ap.add_argument("--threads", default=None, help="comma list (default: 1 and all usable cores)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    ap.add_argument("--reps", type=int, default=None, help="timed blocks per process (default 7, quick 3)")
    ap.add_argument("--block", type=float, default=None, help="seconds per timed block (default 0.3, quick 0.1)")
    ap.add_argument("--warm", type=float, default=None, help="warm-up seconds (default 0.5, quick 0.1)")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds of timing per measurement before blocks are dropped "
                         "(default 60, quick 10); slow steps then get fewer blocks (>= 1)")
    ap.add_argument("--quick", action="store_true", help="1 round, short blocks: a smoke run")
    ap.add_argument("--no-forward", action="store_true", help="skip the inference measurement")
    ap.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin processes to cores")
    ap.add_argument("--peak", type=float, default=None, help="f32 FMA peak in GFLOP/s per core")
    ap.add_argument("--count-first-dx", action="store_true",
                    help="count the first layer's dX in the training FLOPs (issue 4's table)")
    ap.add_argument("--json", default=None, help="save raw results here")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per worker process")
    ap.add_argument("--speedup", action="store_true", help="pynn's multicore speedup, threads 1..N")
    ap.add_argument("--plot", default=None, help="speedup plot PNG (default bench/results/speedup.png)")
    ap.add_argument("--memory", action="store_true", help="max RSS of wide steps, pynn vs NumPy")
    ap.add_argument("--memory-steps", type=int, default=None, help="steps for --memory (default 100, quick 10)")
    ap.add_argument("--_worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._worker is not None:
        worker(json.loads(args._worker))
        return 0

    q = args.quick
    args.rounds = args.rounds or (1 if (q or args.memory) else 3)
    args.budget = args.budget or (10.0 if q else 60.0)
    args.reps = args.reps or (3 if q else 7)
    args.block = args.block or (0.1 if q else 0.3)
    args.warm = args.warm if args.warm is not None else (0.1 if q else 0.5)
    args.timeout = args.timeout or (300 if q else 1800)
    cores = allowed_cores()
    if args.speedup:                      # measure exactly t threads, not the adaptive choice
        os.environ["PYNN_ADAPTIVE_THREADS"] = "0"
    if args.threads:
        threads_list = parse_list(args.threads, int)
    elif args.speedup:
        threads_list = list(range(1, len(cores) + 1))
    elif args.memory:
        threads_list = [len(cores)]
    else:
        threads_list = sorted({1, len(cores)})
    configs = parse_list(args.configs)
    if args.memory and args.configs == ",".join(CONFIGS):
        configs = ["wide"]
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error(f"unknown configs {bad}; choose from {list(CONFIGS)}")
    wanted = parse_list(args.peers)
    if args.speedup:
        wanted = ["pynn"]
    elif args.memory and args.peers == ",".join(peers.PEER_MODULES):
        wanted = ["pynn", "numpy"]
    bad = [p for p in wanted if p not in peers.PEER_MODULES]
    if bad:
        ap.error(f"unknown peers {bad}; choose from {list(peers.PEER_MODULES)}")
    peers_run, skipped = [], {}
    for p in wanted:
        ok, why = peer_available(p)
        (peers_run.append(p) if ok else skipped.__setitem__(p, why))
    if not peers_run:
        print("no peer is installed", file=sys.stderr)
        return 1
    variants = {}
    unset_differs = any(k in os.environ for k in OPENBLAS_VARS)
    for p in peers_run:
        variants[p] = ["default"] + (["openblas-unset"] if peer_blas_sensitive(p) and unset_differs
                                     and not args.memory else [])

    tmp = tempfile.mkdtemp(prefix="pynn-compare-")
    try:
        dirs, sources = make_cases(configs, tmp, args)
        peak, peak_src = ({}, "") if args.memory else measure_peak(threads_list, args)
        for line in header(args, cores, peak, peak_src, sources, skipped):
            print(line)
        print(flush=True)
        plan = []
        entries = [(p, v) for p in peers_run for v in variants[p]]
        for rnd in range(args.rounds):
            for c in configs:
                for t in threads_list:
                    k = rnd % len(entries)
                    for p, v in entries[k:] + entries[:k]:
                        spec = base_spec(args, p, v, c, t, dirs[c], cores, rnd)
                        if args.memory:
                            spec.update(mode="memory", steps=args.memory_steps or (10 if q else 100))
                        if args.speedup:
                            spec["forward"] = False
                        plan.append(spec)
        print(f"running {len(plan)} worker processes ...", file=sys.stderr, flush=True)
        t0 = time.time()
        corelat = build_corelat(tmp) if max(threads_list) >= 2 else None
        results = run_plan(plan, args, cores, corelat)
        wall = time.time() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    meta = {"argv": sys.argv[1:], "cpu": cpu_model(), "cores": cores, "threads": threads_list,
            "configs": configs, "peers": peers_run, "skipped": skipped, "peak_gflops": peak,
            "peak_source": peak_src, "rounds": args.rounds, "pin": args.pin,
            "init": sources, "wall_s": wall, "loadavg_end": loadavg(),
            "count_first_dx": args.count_first_dx}
    report = {"meta": meta, "runs": results}

    if args.memory:
        report["summary"] = print_memory(results, peers_run, configs, threads_list)
    elif args.speedup:
        report["summary"] = print_speedup(results, configs, threads_list, args)
    else:
        summary = summarize(results, peers_run, configs, threads_list)
        print("## Training step (forward + MSE + backprop + SGD), samples/s, median of "
              f"{args.rounds} interleaved round(s)\n")
        print(print_tables(summary, peers_run, configs, threads_list, peak, args, "train"))
        if not args.no_forward:
            print("\n## Inference (forward only), samples/s\n")
            print(print_tables(summary, peers_run, configs, threads_list, peak, args, "forward"))
        print("\n## First-step check (same X, T and initial weights for every peer)\n")
        print(print_checks(summary, configs, threads_list))
        print("\n## Peers\n")
        print("\n".join(notes_lines(summary, peers_run, configs, threads_list)))
        report["summary"] = {f"{c}/{t}": v for (c, t), v in summary.items()}
    latency = latency_lines(results, configs, threads_list)
    if latency:
        print("\n## Core-to-core latency (bench/peak/corelat.c, one way, before each run)\n")
        print("\n".join(latency))
    errors = [r for r in results if "error" in r]
    if errors:
        print("\n## Errors\n")
        for r in errors:
            print(f"- {r['peer']}[{r['variant']}] {r['config']} {r['threads']}T: {r['error']}")
    print(f"\n(total {wall:.0f} s; load average at end {loadavg()})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
        print(f"raw results: {args.json}")
    return 0


def print_memory(results, peers_run, configs, threads_list):
    print("## Peak memory (max RSS, ru_maxrss) of wide training steps, each peer in its own "
          "process\n")
    print("| config | thr | peer | steps | after imports MiB | max RSS MiB | increase MiB | "
          "total vs numpy | VmHWM MiB | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    out = {}
    for c in configs:
        for t in threads_list:
            rows = {r["peer"]: r for r in results
                    if r["config"] == c and r["threads"] == t and "error" not in r}
            ref = rows.get("numpy")
            for p in peers_run:
                r = rows.get(p)
                if r is None:
                    continue
                ratio = f"{r['rss_total_mib'] / ref['rss_total_mib']:.2f}x" if ref else "-"
                print(f"| {c} | {t} | {p} | {r['steps']} | {r['rss_baseline_mib']:.0f} | "
                      f"{r['rss_total_mib']:.0f} | {r['rss_increase_mib']:.0f} | {ratio} | "
                      f"{r['vmhwm_mib']:.0f} | {r['seconds']:.1f} |")
                out[f"{c}/{t}/{p}"] = {k: r[k] for k in ("rss_baseline_mib", "rss_total_mib",
                                                         "rss_increase_mib", "vmhwm_mib", "steps",
                                                         "seconds")}
    print("\nru_maxrss is the process's peak resident set; VmHWM (/proc/self/status) is the "
          "same for this process image alone (a cross-check: ru_maxrss can start at the "
          "parent's size).")
    return out


def print_speedup(results, configs, threads_list, args):
    print("## pynn multicore speedup (training step), samples/s (speedup vs 1 thread), "
          f"median of {args.rounds} round(s)\n")
    print("| config | " + " | ".join(f"{t}T" for t in threads_list) + " |")
    print("|---|" + "---|" * len(threads_list))
    curves, out = {}, {}
    for c in configs:
        rates = {}
        for t in threads_list:
            rs = [r["train"]["median"] for r in results
                  if r["config"] == c and r["threads"] == t and "error" not in r]
            rates[t] = median_or_none(rs)
        base = rates.get(1) or rates.get(min(threads_list))
        cells = []
        for t in threads_list:
            v = rates[t]
            cells.append(f"{fmt_rate(v)} ({v / base:.2f}x)" if (v and base) else "-")
        print(f"| {c} | " + " | ".join(cells) + " |")
        curves[c] = {t: (rates[t] / base if rates[t] and base else None) for t in threads_list}
        out[c] = {"samples_per_s": rates, "speedup": curves[c]}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(matplotlib not installed: no plot)")
        return out
    path = args.plot or os.path.join(HERE, "results", "speedup.png")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(threads_list, threads_list, "k--", lw=1, label="ideal")
    for c, cur in curves.items():
        ts = [t for t in threads_list if cur[t]]
        ax.plot(ts, [cur[t] for t in ts], "o-", label=c)
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup vs 1 thread")
    ax.set_xticks(threads_list)
    ax.set_title(f"pynn training step, {cpu_model()}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nplot: {path}")
    return out


if __name__ == "__main__":
    sys.exit(main())
