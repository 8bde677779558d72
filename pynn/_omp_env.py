"""OpenMP's wait policy, chosen before the OpenMP runtime loads with pynn._core.

Idle OpenMP threads spin by default. On a machine where another process holds a
core, a spinning thread keeps its core while the thread the team waits for
queues behind the other process: measured here, a 2-thread training step ran at
0.01-0.03x the 1-thread speed with one competing process, and at 0.8-1.0x with
passive waiting (the OS then moves the late thread to the freed core). Unless
the user chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT set), pynn asks for
passive waiting while the runtime initializes and then removes the variable
again, so child processes and libraries loaded later see the environment as it
was. A runtime already loaded by another library keeps its own settings.
"""
import os

_USER_CHOSE = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ


def load_core():
    """Imports pynn._core with the wait policy in place; returns the module."""
    if _USER_CHOSE:
        from . import _core
        return _core
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        from . import _core
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)
    return _core


WAIT_POLICY = os.environ.get("OMP_WAIT_POLICY", "(GOMP_SPINCOUNT)") if _USER_CHOSE else "PASSIVE"
load_core()
