"""pynn.info(): what this build is and what it chose on this machine."""
import platform

from . import _core, _omp_env, _threads
from ._version import __version__


def info():
    """Returns a dict: version, platform, build, OpenMP runtime, GEMM kernel chosen and available, threads."""
    return {
        "version": __version__,
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "build": _core.build_info(),
        "openmp": _core.openmp_enabled(),
        "openmp_runtime": _core.openmp_runtime(),
        "omp_wait_policy": _omp_env.WAIT_POLICY,
        "kernel": _core.kernel_name(),
        "kernels_available": _core.kernel_list(),
        "threads": _threads.get_num_threads(),
        "omp_max_threads": _core.omp_max_threads(),
    }
