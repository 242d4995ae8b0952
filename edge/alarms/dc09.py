"""The DC-09 side of the alarms component: the receiver, school link supervision, refused frames.

:class:`Dc09Intake` owns the :class:`~drivers.dc09.receiver.Dc09Server` built from ``[alarms.dc09]`` and
``[[alarms.schools]]``. An accepted message becomes alarm signals handed to the component; the receiver
awaits the save (done on the journal's thread, off the event loop) before it ACKs. Each link loss and
return is a fault, a notification and a WARNING event, once; every NAK and DUH is a visible fault at
once and an INFO counter event per period.

Street-facing defences (docs/security.md, "DC-09 receiver"): frames from accounts not in
``[[alarms.schools]]`` and frames from outside a school's ``sources`` are refused (DUH) by the
receiver's ``screen``; cleartext from keyed accounts is refused unless the school has
``allow_cleartext``; more than ``alarm_limit`` alarms of one account per window are ACKed, counted and
not raised. Every refusal is a fault (its text updated at most once per ``rejected_report_s``) and
a counter event per period, never one log line or one console update per frame.

Per-account time check: the receiver's codec checks the time window for every account. An account with
``time_check = false`` has its NAKed alarms delivered anyway (once per sequence and content), so a panel
with a wrong clock still reaches the crew; it still sees the NAK (and may correct its clock from it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from drivers.dc09.codec import Dc09Decoded, Dc09Message, ResponseKind
from drivers.dc09.guard import Refusal, peer_host
from drivers.dc09.receiver import Dc09Server, LinkChange, LinkEvent
from edge.alarms.links import AlarmRateLimit, LinkRow, LinkTable, RejectTally
from edge.alarms.sources import AlarmSignal, SignalError, dc09_signals
from edge.config.alarms import AlarmsSection
from edge.wire.messages import Priority

if TYPE_CHECKING:
    from edge.component.context import ComponentContext

__all__ = ["AlarmHost", "Dc09Intake"]

_NAK_MEMORY_S = 600.0
_MAX_REPORTS = 50

log = logging.getLogger(__name__)


class AlarmHost(Protocol):
    """What the intake needs from the alarms component."""

    config: AlarmsSection
    links_table: LinkTable

    @property
    def ctx(self) -> ComponentContext: ...
    def now(self) -> float: ...
    def raise_signals(self, signals: list[AlarmSignal], now: float) -> asyncio.Future[bool]: ...
    def publish_link(self, row: LinkRow) -> None: ...
    def emit_info(self, type_: str, priority: Priority, data: dict[str, Any]) -> None: ...


class Dc09Intake:
    def __init__(self, host: AlarmHost) -> None:
        self.host = host
        self.config = host.config
        self.rejects = RejectTally()
        self.server: Dc09Server | None = None
        dc = self.config.dc09
        self.rate = AlarmRateLimit(limit=dc.alarm_limit if dc else 10, window=dc.alarm_limit_window_s if dc else 60.0)
        self._fault_at: dict[str, float] = {}
        self._nak_seen: dict[tuple[str, int, str], float] = {}
        self._report_task: asyncio.Task[None] | None = None

    @property
    def ctx(self) -> ComponentContext:
        return self.host.ctx

    async def start(self) -> None:
        dc = self.config.dc09
        if dc is None:
            return
        schools = self.config.schools
        intervals = {s.account: s.link_test_interval_s or dc.default_link_test_interval_s for s in schools}
        server = Dc09Server(
            on_message=self._on_dc09,
            on_link=self._on_link,
            on_rejected=self._on_rejected,
            host=dc.host,
            port_tcp=dc.port_tcp,
            port_udp=dc.port_udp,
            keys={s.account: bytes.fromhex(s.key) for s in schools if s.key},
            max_age=dc.max_age_s,
            max_ahead=dc.max_ahead_s,
            time_check_exempt=[s.account for s in schools if not s.time_check],
            require_encryption=dc.require_encryption,
            cleartext_allowed=[s.account for s in schools if s.allow_cleartext],
            screen=self._screen,
            max_connections_per_host=dc.max_connections_per_host,
            first_frame_timeout=dc.first_frame_timeout_s,
            udp_rate_per_host=dc.udp_rate_per_host,
            udp_burst_per_host=dc.udp_burst_per_host,
            log_interval=self.config.rejected_report_s,
            link_intervals={a: i for a, i in intervals.items() if i is not None},
            default_link_interval=dc.default_link_test_interval_s if dc.supervise_unknown else None,
            deliver_link_tests=True,
            idle_timeout=dc.idle_timeout_s,
            max_connections=dc.max_connections,
        )
        try:
            await server.start()
        except OSError as exc:  # the buttons, the kiosk and the API still work: a loud fault, not a stop
            self.ctx.set_device("dc09", f"fault: cannot listen on {dc.host} ({exc.strerror or exc})")
            self.ctx.faults.raise_fault(
                "device.dc09",
                f"DC-09 receiver cannot listen on {dc.host} tcp {dc.port_tcp} udp {dc.port_udp}: {exc.strerror or exc}",
            )
            return
        self.server = server
        self.ctx.set_device("dc09", "ok")
        self._report_task = asyncio.create_task(self._report_loop(), name="alarm-dc09-reports")

    async def stop(self) -> None:
        if self._report_task is not None:
            self._report_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._report_task
            self._report_task = None
        if self.server is not None:
            await self.server.close()
            self.server = None

    async def _on_dc09(self, message: Dc09Message, peer: str) -> None:
        """Awaited by the receiver before it ACKs: raising here withholds the ACK (the panel retries)."""
        saving = self._take(message)
        if saving is not None and not await asyncio.shield(saving):
            raise RuntimeError("incident not saved: the alarm is not acknowledged, the panel will send it again")

    def _screen(self, message: Dc09Message, peer: str) -> Refusal | None:
        """The receiver's policy check of every parsed frame: listed account, allowed source address."""
        school = self.config.school(message.account)
        if school is None:
            dc = self.config.dc09
            return Refusal("unlisted-account", counts_as_life=dc is not None and dc.supervise_unknown)
        if not school.source_allowed(peer_host(peer)):
            return Refusal("source-not-allowed")
        return None

    def _take(self, message: Dc09Message) -> asyncio.Future[bool] | None:
        """The message's changes, made now; the future tells whether they were saved (None: nothing to save)."""
        now = self.host.now()
        self._heard(message.account, now)
        if message.is_link_test:
            return None
        try:
            signals = dc09_signals(self.config, message)
        except SignalError as exc:
            self.ctx.faults.raise_fault("alarm.dc09.unreadable", str(exc), severity="warning")
            return None
        if any(s.action == "raise" for s in signals) and not self.rate.take(message.account, now=now):
            self._over_limit(message.account, now)
            return None  # acknowledged (the panel stops resending), counted, shown: no new incident
        return self.host.raise_signals(signals, now)

    def _over_limit(self, account: str, now: float) -> None:
        self.rejects.limited(account)
        school = self.config.school(account)
        limit = f"{self.rate.limit} per {self.rate.window:.0f} s"
        who = f"{school.name} ({school.account})" if school else f"account {account.upper()}"
        self._raise_refused(
            self._refused_code(account),
            now,
            f"{who}: {self.rate.refused.get(account.upper(), 0)} alarms over the limit of {limit} "
            "not raised (a flood of frames, spoofed or from a faulty panel: check the panel)",
            "error",
        )

    def _raise_refused(self, code: str, now: float, text: str, severity: str) -> None:
        """Raise or update a refusal fault; an active one's text at most once per report period."""
        if self.ctx.faults.is_active(code) and now - self._fault_at.get(code, -1e18) < self.config.rejected_report_s:
            return
        self._fault_at[code] = now
        self.ctx.faults.raise_fault(code, text, severity=severity)

    def _heard(self, account: str, now: float) -> None:
        school = self.config.school(account)
        dc = self.config.dc09
        if school is None and not (dc is not None and dc.supervise_unknown):
            return  # no table row per unlisted account: a flood of made-up accounts must not grow it
        row = self.host.links_table.set("dc09", account, "ok", now=now, site=school.name if school else "")
        if row is not None:
            self.host.publish_link(row)

    def _on_link(self, event: LinkEvent) -> None:
        now = self.host.now()
        school = self.config.school(event.account)
        site = school.name if school else ""
        lost = event.change is LinkChange.LOST
        row = self.host.links_table.set("dc09", event.account, "lost" if lost else "ok", now=now, site=site)
        if row is None:
            return
        code = f"alarm.link.{event.account.upper()}"
        if lost:
            self.ctx.faults.raise_fault(
                code,
                f"school link lost: {site or 'account'} ({event.account}) silent for {event.silence:.0f} s",
                severity="warning",
            )
        else:
            self.ctx.faults.clear_fault(code)
        self.host.publish_link(row)
        self.host.emit_info(
            "alarm.link_lost" if lost else "alarm.link_restored",
            Priority.WARNING,
            {
                "source": "dc09",
                "account": row.account,
                "site": site,
                "site_en": school.name_en if school else "",
                "state": row.state,
                "silence_s": round(event.silence, 3),
            },
        )

    def _on_rejected(self, decoded: Dc09Decoded, peer: str) -> None:
        now = self.host.now()
        message = decoded.message
        nak = decoded.verdict is ResponseKind.NAK
        school = self.config.school(decoded.account)
        clock_error = None
        if message is not None and message.timestamp is not None:
            clock_error = (message.timestamp - datetime.fromtimestamp(now, UTC)).total_seconds()
        panic = False
        if message is not None:
            with contextlib.suppress(SignalError):
                panic = any(s.action == "raise" for s in dc09_signals(self.config, message))
        delivered = False
        if nak and message is not None and school is not None and not school.time_check:
            delivered = self._deliver_despite_clock(message, peer, now)
        self.rejects.add(
            decoded.account, nak=nak, reason=decoded.reason, clock_error_s=clock_error, panic=panic, delivered=delivered
        )
        who = f"{school.name} ({school.account})" if school else f"account {decoded.account.upper()}"
        if nak:
            what = (
                f"frames refused: the panel's clock is off by {clock_error:+.0f} s"
                if clock_error is not None
                else "frames refused: timestamp outside the window"
            )
            what += (
                "; delivered anyway (time_check = false)"
                if delivered
                else "; its alarms are NOT delivered until its clock is fixed or time_check = false"
            )
        elif decoded.reason == "unlisted-account":
            what = "frames refused: the account is not listed in alarms.schools"
        elif decoded.reason == "source-not-allowed":
            what = f"frames refused: from {peer_host(peer)}, outside the school's sources"
        elif decoded.reason == "encryption-required":
            what = "cleartext frames refused: the account has a key (allow_cleartext = true for a legacy panel)"
        else:
            what = f"frames not understood ({decoded.reason})"
        self._raise_refused(
            self._refused_code(decoded.account),
            now,
            f"{who}: {what}",
            "error" if panic and not delivered else "warning",
        )

    def _refused_code(self, account: str) -> str:
        """One fault per listed school; all unlisted accounts share one (their number is unbounded)."""
        listed = self.config.school(account) is not None
        return f"alarm.dc09.refused.{account.upper() if listed else 'unlisted'}"

    def _deliver_despite_clock(self, message: Dc09Message, peer: str, now: float) -> bool:
        """An account exempt from the time check: deliver its NAKed frame once (the panel resends it)."""
        self._nak_seen = {k: t for k, t in self._nak_seen.items() if now - t < _NAK_MEMORY_S}
        key = (message.account.upper(), message.sequence, message.data)
        if key in self._nak_seen:
            return True
        self._nak_seen[key] = now
        saving = self._take(message)
        if saving is not None:  # not saved: forgotten, so the panel's next try is delivered again
            saving.add_done_callback(
                lambda f: None if not f.cancelled() and f.result() else self._nak_seen.pop(key, None)
            )
        return True

    async def _report_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.rejected_report_s)
            reports, cleared = self.rejects.flush()
            if len(reports) > _MAX_REPORTS:  # listed schools first; a flood of unlisted accounts is cut
                reports.sort(key=lambda r: self.config.school(r["account"]) is None)
                log.warning(
                    "DC-09 frames refused from %d accounts in one period; reporting %d", len(reports), _MAX_REPORTS
                )
                reports = reports[:_MAX_REPORTS]
            for report in reports:
                school = self.config.school(report["account"])
                site = school.name if school else ""
                self.host.emit_info("alarm.rejected_frame", Priority.INFO, {**report, "site": site})
            still = {self._refused_code(a) for a in self.rejects.refused_accounts}
            for code in {self._refused_code(a) for a in cleared} - still:
                self.ctx.faults.clear_fault(code)
                self._fault_at.pop(code, None)
