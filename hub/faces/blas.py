"""One BLAS thread while the face engine runs: predictable on a small, shared hub; oversubscribed it is not.

numpy's OpenBLAS starts one thread per core for every large matrix product. On an idle 2-core machine that
encodes a 3-frame burst in 43 ms instead of 64 ms; but when the other core is busy (Home Assistant's own work,
another process, a second worker) OpenBLAS's threads wait for each other and the same burst took 200-270 ms, and
two bench workers each with two BLAS threads took 0.69 s per image instead of 0.055 s (docs/performance.md). The
engine therefore limits OpenBLAS to one thread while it runs, and restores the previous setting when the last
caller leaves (the same limit scikit-learn applies around its own parallel loops through threadpoolctl).

OpenBLAS is found among the libraries this process has loaded (Linux ``/proc/self/maps``); where it is not
found (another BLAS, another OS) the limit does nothing and BLAS keeps its own threading.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np  # noqa: F401  (loads numpy's OpenBLAS, so that it is in the process's map)

_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),  # numpy >= 2.0 wheels
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),  # numpy 1.x wheels
    ("openblas_get_num_threads", "openblas_set_num_threads"),  # system OpenBLAS
)


class _OpenBLAS:
    def __init__(self, getter: Any, setter: Any) -> None:
        getter.restype = ctypes.c_int
        getter.argtypes = []
        setter.restype = None
        setter.argtypes = [ctypes.c_int]
        self._get = getter
        self._set = setter

    def get(self) -> int:
        return int(self._get())

    def set(self, threads: int) -> None:
        self._set(threads)


@cache
def _openblas() -> _OpenBLAS | None:
    """The thread-count functions of the OpenBLAS numpy uses, or None."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = dict.fromkeys(
        line.split(maxsplit=5)[-1].strip()
        for line in maps.splitlines()
        if "openblas" in line.rsplit("/", 1)[-1].lower() and "/" in line
    )
    # numpy's own copy first: another package (scipy) may have loaded a second OpenBLAS.
    for path in sorted(paths, key=lambda p: "numpy" not in p):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _SYMBOLS:
            getter = getattr(library, get_name, None)
            setter = getattr(library, set_name, None)
            if getter is not None and setter is not None:
                return _OpenBLAS(getter, setter)
    return None


def blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None when OpenBLAS was not found."""
    api = _openblas()
    return None if api is None else api.get()


_lock = threading.Lock()
_users = 0
_saved: int | None = None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with OpenBLAS limited to one thread (nested and concurrent uses share one limit)."""
    global _users, _saved
    api = _openblas()
    if api is None:
        yield
        return
    with _lock:
        if _users == 0:
            _saved = api.get()
            if _saved != 1:
                api.set(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None and _saved != 1:
                api.set(_saved)
                _saved = None
