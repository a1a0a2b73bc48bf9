"""One writer thread per community: every write to the community's database runs on it, one job at a time.

SQLite allows one writer at a time per file anyway; giving all writes one thread that owns the write connection
makes that order explicit and removes the locks the callers used to share. A job is a plain blocking callable; it
runs on the writer thread and its result (or exception) is handed back to the caller. A job that submits another
job from the writer thread itself runs it inline, so jobs compose without waiting on themselves.

No lock is held while a job waits for the writer, and the writer never waits for a caller's lock, so no cycle of
waits can form through it (the deadlock between the face gallery and enrolment this replaced).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar

from .exceptions import StorageError

P = ParamSpec("P")
T = TypeVar("T")

_LOGGER = logging.getLogger(__name__)

_STOP = object()


class Writer:
    """A thread that runs write jobs in the order they were submitted."""

    def __init__(self, name: str = "community-writer") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        # Started by the first job, so a community that is made and dropped (a set-up cancelled half-way)
        # leaves no thread behind.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    @property
    def on_writer_thread(self) -> bool:
        """Whether the caller is the writer thread itself (a job inside a job)."""
        return threading.current_thread() is self._thread

    def submit(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue a job; the future completes with its result or its exception."""
        future: Future[T] = Future()
        if self.on_writer_thread:
            _complete(future, func, args, kwargs)
            return future
        with self._close_lock:
            if self._closed:
                raise StorageError("the community database is closed")
            if not self._started:
                self._started = True
                self._thread.start()
            self._jobs.put((future, func, args, kwargs))
        return future

    def call(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a job on the writer and wait for its result (blocking: call from an executor thread)."""
        return self.submit(func, *args, **kwargs).result()

    def close(self, final: Callable[[], None] | None = None) -> None:
        """Run the jobs already queued, then ``final`` (e.g. closing the connection) on the writer, and stop."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            started = self._started
            if started:
                self._jobs.put((None, final, (), {}))
                self._jobs.put(_STOP)
        if not started:
            if final is not None:
                final()
            return
        if not self.on_writer_thread:
            self._thread.join()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not _STOP:
            future, func, args, kwargs = job
            if future is None:
                if func is not None:
                    try:
                        func()
                    except Exception:  # closing must not leave the thread hanging
                        _LOGGER.exception("closing the community database failed")
                continue
            if future.set_running_or_notify_cancel():
                _complete(future, func, args, kwargs)


def _complete(future: Future[Any], func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        result = func(*args, **kwargs)
    except BaseException as err:  # handed to the caller, who re-raises it
        future.set_exception(err)
    else:
        future.set_result(result)
