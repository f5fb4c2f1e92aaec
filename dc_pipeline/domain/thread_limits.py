"""One BLAS/OpenMP thread for the small fits, without rescanning the process's libraries at every call.

`threadpoolctl.threadpool_limits()` builds a new ThreadpoolController each time: it walks every loaded shared
library and opens the thread-pool ones with ctypes, about 2.6 ms a call. The forecast stage limits BLAS once per
brand and series, so the demo paid about 2 CPU s for it. The controller is kept while no module has been imported
since it was built: an import may load a new thread-pool library, which a stale controller would leave unlimited.
"""

from __future__ import annotations

import sys
from typing import Literal

from threadpoolctl import ThreadpoolController

_controller: tuple[int, ThreadpoolController] | None = None  # (len(sys.modules) when built, controller)


def thread_pools() -> ThreadpoolController:
    """The controller of the thread-pool libraries loaded now (rebuilt after any new import)."""
    global _controller
    loaded = len(sys.modules)
    if _controller is None or _controller[0] != loaded:
        _controller = (loaded, ThreadpoolController())
    return _controller[1]


def single_threaded(user_api: Literal["blas", "openmp"] | None = None):
    """Context manager: one thread in the BLAS (or OpenMP, or every) pool, restored on exit."""
    return thread_pools().limit(limits=1, user_api=user_api)
