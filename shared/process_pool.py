"""Process pools for CPU-bound work off the event loop (the verifier's
RDFC-1.0 canonicalisation, the issuer's signing).

Workers are started with `spawn`, so they inherit no threads or sockets of
the service. A worker whose service died without shutting the pool down
(kill -9, out of memory) would wait on its task queue for ever: each worker
watches its parent and exits when it is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_WATCH_SECONDS = 1.0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os._exit(0)


def _start_worker(parent: int, initializer: Callable[..., Any], args: tuple[Any, ...]) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent", daemon=True).start()
    initializer(*args)


def spawn_pool(processes: int, initializer: Callable[..., Any], *args: Any) -> ProcessPoolExecutor:
    """`processes` workers, each running `initializer(*args)` once at start."""
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, args),
    )
