"""briefgen.background: a forked child's result, its errors, its death, and stopping it."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time

import pytest

from briefgen import background
from briefgen.background import Background, BackgroundError
from briefgen.errors import InputError, PdfError, Problem

pytestmark = pytest.mark.skipif(not background.can_fork(), reason="forks only on Linux")


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _fail() -> None:
    raise PdfError("the chart folder is gone")


ONE_PROBLEM = Problem("network.csv", "expected a date, got 'soon'", row=3, column="date", fix="write YYYY-MM-DD")


def _one_problem() -> None:
    raise InputError([ONE_PROBLEM])


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _sleep() -> None:
    time.sleep(60)


def test_the_value_is_computed_in_another_process_and_comes_back():
    job = Background.start(_pid_and_square, 12)
    pid, value = job.result()
    assert value == 144 and pid != os.getpid()
    assert job.result() == (pid, 144)  # asked again: the same value, no second wait
    assert multiprocessing.active_children() == []


def test_an_error_in_the_child_is_raised_here_with_its_type_and_where_it_happened():
    job = Background.start(_fail)
    with pytest.raises(PdfError, match="the chart folder is gone") as caught:
        job.result()
    notes = "".join(getattr(caught.value, "__notes__", []))
    assert "In the background process" in notes and "_fail" in notes
    with pytest.raises(PdfError, match="the chart folder is gone"):  # asked again: the same error
        job.result()
    assert multiprocessing.active_children() == []


def test_a_child_that_dies_is_reported_not_waited_for_forever():
    job = Background.start(_die)
    with pytest.raises(BackgroundError, match="stopped without a result"):
        job.result()


def test_cancel_stops_a_child_nobody_will_wait_for():
    job = Background.start(_sleep)
    started = time.monotonic()
    job.cancel()
    assert time.monotonic() - started < 10
    assert multiprocessing.active_children() == []
    job.cancel()  # twice: harmless
    with pytest.raises(BackgroundError, match="cancelled"):
        job.result()


def test_then_applies_here_once_when_the_value_is_first_asked_for():
    calls = []

    def keep(pair: tuple[int, int]) -> int:
        calls.append(os.getpid())
        return pair[1] + 1

    job = Background.start(_pid_and_square, 3).then(keep)
    assert calls == []
    assert job.result() == 10 and job.result() == 10
    assert calls == [os.getpid()]
    assert Background.done(4).then(lambda x: x * 2).result() == 8


def test_without_fork_the_function_runs_here_and_now(monkeypatch):
    monkeypatch.setattr(background, "can_fork", lambda: False)
    pid, value = Background.start(_pid_and_square, 5).result()
    assert (pid, value) == (os.getpid(), 25)
    with pytest.raises(PdfError):
        Background.start(_fail)


def test_an_input_error_from_the_child_comes_back_whole():
    """It used to come back as "46 problems: - 1 - p - r ...", one per character of its message."""
    assert pickle.loads(pickle.dumps(InputError([ONE_PROBLEM]))).problems == (ONE_PROBLEM,)
    job = Background.start(_one_problem)
    with pytest.raises(InputError) as raised:
        job.result()
    assert raised.value.problems == (ONE_PROBLEM,)
    assert str(raised.value) == f"1 problem in the inputs:\n  - {ONE_PROBLEM}"


def test_a_process_with_another_thread_never_forks():
    """A thread may hold a lock at the fork that the child would wait on for ever: compute here instead."""
    release = threading.Event()
    waiter = threading.Thread(target=release.wait, daemon=True)
    waiter.start()
    try:
        assert not background.can_fork()
        pid, value = Background.start(_pid_and_square, 4).result()
        assert (pid, value) == (os.getpid(), 16)
    finally:
        release.set()
        waiter.join()
    assert background.can_fork()
