"""PK_HUB_PROFILE: off by default; when set, a profile of the block and the CPU time of each thread."""

from __future__ import annotations

import logging
import pstats
import threading
from pathlib import Path

import pytest

from hub.profiling import ENV, log_thread_cpu, profiled, thread_cpu


def _work() -> int:
    return sum(i * i for i in range(20_000))


def test_without_the_variable_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    with profiled("hub"):
        _work()
    assert list(tmp_path.iterdir()) == []


def test_with_it_the_block_is_profiled_and_threads_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    with profiled("hub"):
        _work()
    (prof,) = tmp_path.glob("hub-*.prof")
    assert any(name == "_work" for _file, _line, name in pstats.Stats(str(prof)).stats)  # type: ignore[attr-defined]
    assert threading.current_thread().name in thread_cpu()
    with caplog.at_level(logging.INFO, logger="hub.profiling"):
        log_thread_cpu()
    assert "CPU by thread: " in caplog.text
    assert threading.current_thread().name in caplog.text
