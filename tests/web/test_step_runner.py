"""Where a login step's blocking work runs (web/step_runner.py): in the thread pool by default, in place when
ENTRYWAY_LOGIN_STEPS_IN_PLACE asks, and work that may wait on another host always in the thread pool."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace

import anyio
import pytest

from entryway.config import Settings, load_settings
from entryway.web.step_runner import off_loop, run_step

Where = tuple[int, tuple[object, ...], dict[str, object]]  # the thread that ran, and what it was given


def _where(*args: object, **kwargs: object) -> Where:
    return threading.get_ident(), args, kwargs


def _run_in_event_loop(step: Callable[[], Awaitable[Where]]) -> tuple[int, Where]:
    async def main() -> tuple[int, Where]:
        return threading.get_ident(), await step()

    return anyio.run(main)


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return load_settings(env={"ENTRYWAY_DATA_DIR": str(tmp_path), "ENTRYWAY_MASTER_KEY": "A" * 43})


def test_a_step_runs_in_the_thread_pool_by_default(settings: Settings) -> None:
    loop_thread, (step_thread, args, kwargs) = _run_in_event_loop(lambda: run_step(settings, _where, 1, b=2))
    assert step_thread != loop_thread
    assert args == (1,) and kwargs == {"b": 2}


def test_a_step_runs_on_the_event_loop_when_the_settings_ask(settings: Settings) -> None:
    in_place = replace(settings, login_steps_in_place=True)
    loop_thread, (step_thread, args, kwargs) = _run_in_event_loop(lambda: run_step(in_place, _where, 1, b=2))
    assert step_thread == loop_thread
    assert args == (1,) and kwargs == {"b": 2}


def test_work_that_may_wait_on_another_host_never_runs_on_the_event_loop() -> None:
    loop_thread, (step_thread, args, _) = _run_in_event_loop(lambda: off_loop(_where, "discovery"))
    assert step_thread != loop_thread and args == ("discovery",)


def test_an_exception_from_a_step_reaches_the_handler(settings: Settings) -> None:
    def fails() -> None:
        raise LookupError("no such auth request")

    for chosen in (settings, replace(settings, login_steps_in_place=True)):
        with pytest.raises(LookupError, match="no such auth request"):
            anyio.run(run_step, chosen, fails)
