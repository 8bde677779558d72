"""How long idle OpenMP threads spin, chosen before the runtime loads with pynn._core.

libgomp's idle threads spin for a long time by default (300,000 rounds). On a
machine where another process holds a core, a spinning thread keeps its core
while the thread the team waits for queues behind the other process: measured
here, a 2-thread training step then ran at 0.01-0.03x the 1-thread speed. With
a short spin (GOMP_SPINCOUNT=30000) the waiting thread soon sleeps, the OS
moves the late thread to the freed core, and with the adaptive thread count
(nn/tuner.h) a 2-thread network ran at 0.94-0.99x the 1-thread speed beside a
busy process, while a quiet machine keeps most of the second core's gain.
On a quiet machine a longer spin did not pay: the 2-thread wide step took
1.09 s at this setting and 1.12 s with OMP_WAIT_POLICY=active (medians of 5
interleaved rounds; GOMP_SPINCOUNT=300000 and 3000000 alike in 3 more), the
medium one 20.3 and 19.8 ms (AVX2 EPYC, family 25 model 17).
Unless the user chose (OMP_WAIT_POLICY, GOMP_SPINCOUNT or KMP_BLOCKTIME set),
pynn sets GOMP_SPINCOUNT (libgomp) and KMP_BLOCKTIME (LLVM's libomp) while the
runtime initializes and removes them again, so child processes and libraries
loaded later see the environment as it was. A runtime that another library
loaded first keeps its own settings.
"""
import os

_SETTINGS = {"GOMP_SPINCOUNT": "30000", "KMP_BLOCKTIME": "1"}
_USER_CHOSE = any(k in os.environ for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME"))


def _load_core():
    """Imports pynn._core with the spin settings in place."""
    if _USER_CHOSE:
        from . import _core  # noqa: F401
        return
    os.environ.update(_SETTINGS)
    try:
        from . import _core  # noqa: F401
    finally:
        for key in _SETTINGS:
            os.environ.pop(key, None)


WAIT_POLICY = ("set by the user" if _USER_CHOSE else
               ", ".join(f"{k}={v}" for k, v in _SETTINGS.items()))
_load_core()
