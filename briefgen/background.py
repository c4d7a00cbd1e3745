"""Run one function in a forked child process while this one goes on; collect its result later.

A cold build draws its charts (about a second of matplotlib) while it renders the HTML, imports
WeasyPrint and lays out the pages that show no chart; on two cores the two overlap. fork() shares
the modules and data already loaded (pandas, the metrics, the chart specs) without pickling them;
only the result comes back, pickled, through a pipe. Where fork is not the platform's way (macOS,
Windows) or there is too little to gain, the function simply runs here, now.

    job = Background.start(draw, todo)     # or Background.done(value)
    ...                                     # other work
    svgs = job.result()                     # waits; raises what the child raised
    job.cancel()                            # in a finally: stops a child nobody will wait for
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
U = TypeVar("U")


class BackgroundError(RuntimeError):
    """The child failed in a way that cannot be re-raised as it was (a crash, an unpicklable error)."""


def can_fork() -> bool:
    """Fork only on Linux, and only from a process with no other thread.

    A thread of this process (a server's, a library caller's) may hold a lock at the moment of the
    fork, which the child would then wait on for ever; with one thread there is none to hold it.
    """
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class Background(Generic[T]):
    """A value computed in a forked child, or one already known."""

    def __init__(
        self,
        value: T | None = None,
        child: BaseProcess | Background[Any] | None = None,
        pipe: Connection | None = None,
        then: Callable[[Any], T] | None = None,
    ):
        self._value = value
        self._child = child
        self._pipe = pipe
        self._then = then
        self._done = child is None
        self._error: BaseException | None = None

    @classmethod
    def done(cls, value: T) -> Background[T]:
        return cls(value)

    @classmethod
    def start(cls, fn: Callable[..., T], *args: Any) -> Background[T]:
        """fn(*args) in a forked child when the platform forks; else computed now, here."""
        if not can_fork():
            return cls.done(fn(*args))
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(send, fn, args), name="briefgen-background", daemon=True)
        child.start()  # multiprocessing flushes stdout/stderr first: nothing is printed twice
        send.close()
        return cls(child=child, pipe=receive)

    def then(self, fn: Callable[[T], U]) -> Background[U]:
        """A Background whose result is fn(this result), applied here, once, when first asked."""
        return Background(child=self, then=fn) if not self._done else Background.done(fn(self.result()))

    def result(self) -> T:
        """Wait for the value; raise what computing it raised (every time it is asked for)."""
        if not self._done:
            try:
                if isinstance(self._child, Background):  # a then(): the inner value, transformed
                    assert self._then is not None  # then() makes the only Backgrounds of a Background
                    self._value = self._then(self._child.result())
                else:
                    assert self._child is not None and self._pipe is not None  # start()'s, until done
                    self._value = self._receive(self._child, self._pipe)
            except BaseException as exc:
                self._error = exc
                raise
            finally:
                self._stop()  # the child has finished, or is stopped now (an interrupt while waiting)
                self._done = True
        if self._error is not None:
            raise self._error
        return cast(T, self._value)  # done without an error: fn's value, or the one done() was given

    def cancel(self) -> None:
        """Stop the child if its result was never collected (the build failed meanwhile); idempotent."""
        if not self._done:
            self._error = BackgroundError("the background work was cancelled before its result was collected")
        self._stop()
        self._done = True

    def _stop(self) -> None:
        if isinstance(self._child, Background):
            self._child.cancel()
        elif self._child is not None:
            self._child.kill()  # nothing happens to a child that has exited and been joined
            self._child.join()
        if self._pipe is not None:
            self._pipe.close()
        self._child = self._pipe = None

    @staticmethod
    def _receive(child: BaseProcess, pipe: Connection) -> Any:
        try:
            ok, value = pipe.recv()
        except EOFError:
            child.join()
            raise BackgroundError(
                f"the background process stopped without a result (exit status {child.exitcode})"
            ) from None
        finally:
            pipe.close()
        child.join()
        if ok:
            return value
        raise value


def _child(pipe: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: compute, send (True, value) or (False, exception), leave without cleanup."""
    try:
        outcome: tuple[bool, Any] = (True, fn(*args))
    except BaseException as exc:  # everything goes back to the parent, which decides
        exc.add_note("".join(["In the background process:\n", *traceback.format_exception(exc)]))
        outcome = (False, exc)
    try:
        try:
            pipe.send(outcome)
        except Exception:  # an exception that does not pickle: send its traceback as text
            pipe.send((False, BackgroundError("".join(traceback.format_exception(outcome[1])))))
        pipe.close()
    finally:
        # The parent's atexit handlers, buffers and temporary folders are the parent's.
        os._exit(0)


class Gathering(Generic[T]):
    """Values by name: `ready` known now, the names in `pending` still being computed by `everything`,
    which gives them all (a build's charts: those from the cache, and those being drawn)."""

    def __init__(self, ready: dict[str, T], pending: frozenset[str], everything: Background[dict[str, T]]):
        self.ready = ready
        self.pending = pending
        self._everything = everything

    @classmethod
    def done(cls, values: dict[str, T]) -> Gathering[T]:
        return cls(values, frozenset(), Background.done(values))

    def result(self) -> dict[str, T]:
        """Every value, waiting for those pending."""
        return self._everything.result()

    def cancel(self) -> None:
        self._everything.cancel()
