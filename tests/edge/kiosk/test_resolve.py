"""Central's answers to queued kiosk requests: a malformed one is logged and ends that request; the loop
that asks for answers keeps running (issue 12: one bad answer used to kill it for good)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from edge.config.kiosk import KioskSection
from edge.kiosk.component import KioskComponent
from edge.kiosk.queue import PendingRequest
from tests.support.context import FakeContext


class ScriptedHub(FakeContext):
    """A context whose hub answers `kiosk.resolve` from a script, one answer per call (the last repeats)."""

    def __init__(self, data_dir: Path, answers: list[Any]) -> None:
        super().__init__(data_dir)
        self.link = "connected"
        self.answers = answers
        self.calls = 0
        self.results = 0
        self.three_results = asyncio.Event()

    def publish(self, topic: str, params: dict[str, Any]) -> None:
        super().publish(topic, params)
        if topic == "kiosk.result":
            self.results += 1
            if self.results == 3:
                self.three_results.set()

    async def call_hub(self, method: str, params: dict[str, Any], *, timeout: float = 5.0) -> Any:
        assert method == "kiosk.resolve"
        self.calls += 1
        return self.answers[min(self.calls, len(self.answers)) - 1]


def _pending(rid: str, seq: int) -> PendingRequest:
    return PendingRequest(seq=seq, request_id=rid, service="traffic_lookup", kind="lookup", queued_at="2026-01-01")


def _done(rid: str, answer: Any) -> dict[str, Any]:
    return {"request_id": rid, "state": "done", "answer": answer}


async def test_malformed_answers_do_not_stop_the_resolve_loop(tmp_path: Path) -> None:
    good = {"ok": True, "items": [], "ref": "R1"}
    ctx = ScriptedHub(
        tmp_path,
        [
            "not an object",  # the whole answer is garbage
            {"results": "not a list"},
            {
                "results": [
                    7,
                    _done("bad-reason", {"ok": False, "reason": "not a dict"}),
                    _done("bad-items", {"ok": True, "items": [{"nonsense": 1}]}),
                ]
            },
            {"results": [_done("good", good)]},
        ],
    )
    kiosk = KioskComponent(KioskSection(enabled=True, retry_interval=0.5))
    await kiosk.start(ctx)
    try:
        assert kiosk.pending is not None
        for n, rid in enumerate(("bad-reason", "bad-items", "good"), start=1):
            kiosk.pending.add(_pending(rid, n))
        async with asyncio.timeout(30):  # a give-up, not a duration under test
            await ctx.three_results.wait()
        assert not kiosk.pending.items
        by_id = {r.request_id: r.status for r in kiosk.resolved}
        assert by_id == {"bad-reason": "failed", "bad-items": "failed", "good": "found"}
        assert ctx.calls >= 4
        assert all(not t.done() for t in kiosk._tasks)  # the loop is still running
    finally:
        await kiosk.stop()


async def test_a_malformed_kiosk_result_command_is_survived(tmp_path: Path) -> None:
    from tests.support.commands import central_keys, signed

    ctx = ScriptedHub(tmp_path, [{"results": []}])
    kiosk = KioskComponent(KioskSection(enabled=True, retry_interval=0.5))
    await kiosk.start(ctx)
    try:
        assert kiosk.pending is not None
        kiosk.pending.add(_pending("r1", 1))
        keys = central_keys()
        await ctx.commands["kiosk.result"](
            signed(keys, "kiosk.result", {"request_id": "r1", "answer": {"ok": False, "reason": ["a list"]}})
        )
        assert [r.status for r in kiosk.resolved] == ["failed"]
        assert not kiosk.pending.items
    finally:
        await kiosk.stop()
