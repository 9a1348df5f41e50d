"""Emergency take-up in the daemon: notice a change of emergency state and act on it at once.

`EmergencyTakeUp.check` reads the emergencies table (another process, `socialmon emergency
start`, writes it). On a change it has the `Pacer` re-plan (non-central accounts to the
emergency interval, polled at once; back to normal when it ends), writes the "monitoring is on"
notice or the summary (`monitor.emergency`), and has them sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from monitor import budget, emergency
from monitor.config import Account, Config
from monitor.logs import get_logger
from monitor.metrics import Metrics
from monitor.pacing import Pacer
from monitor.seams import EnqueueAlert
from monitor.store import Store

log = get_logger(component="service")


class EmergencyTakeUp:
    def __init__(
        self,
        config: Config,
        store: Store,
        accounts: Mapping[str, Account],
        pacer: Pacer,
        enqueue_alert: EnqueueAlert,
        send: Callable[[], Any],
        metrics: Metrics,
    ) -> None:
        self.config = config
        self.store = store
        self.accounts = accounts
        self.pacer = pacer
        self.enqueue_alert = enqueue_alert
        self.send = send
        self.metrics = metrics
        self.emergency_id: int | None = None  # the emergency whose intervals are applied

    def resume(self) -> None:
        """At start: an emergency already taken up (by us before, or another leader) stays applied."""
        with self.store.session() as session:
            active = emergency.active_emergency(session)
        self.emergency_id = active.id if active and active.taken_up_at else None

    def check(self, now: datetime) -> bool:
        """Take up a change of emergency state; True if anything changed."""
        with self.store.session() as session:
            active = emergency.active_emergency(session)
            changes = emergency.pending_changes(session)
        active_id = active.id if active else None
        changed = active_id != self.emergency_id
        plan: budget.Plan | None = None
        if changed:
            self.emergency_id = active_id
            non_central = [a for a, acc in self.accounts.items() if not acc.is_central]
            plan = self.pacer.replan(now, poll_now=non_central if active_id else None)
            log.warning("emergency mode " + ("on" if active_id else "off"), emergency_id=active_id or None)
        wrote = False
        for change in changes:
            if change.kind == "started":
                extra = ""
                if plan is not None and active_id == change.emergency_id and plan.slowed:
                    extra = "Rate limits slow some accounts:\n" + plan.describe_slowed(self.config)
                if emergency.take_up(
                    self.store, self.config, change.emergency_id, self.enqueue_alert, now, extra
                ):
                    wrote = True
                    self._record_take_up(change.emergency_id)
            else:
                wrote |= emergency.send_summary(
                    self.store, self.config, change.emergency_id, self.enqueue_alert, now
                )
        if wrote:
            self.send()
        return changed or wrote

    def _record_take_up(self, emergency_id: int) -> None:
        with self.store.session() as session:
            row = session.get(emergency.EmergencyRow, emergency_id)
            if row is not None and row.taken_up_at is not None:
                self.metrics.emergency_take_up.set((row.taken_up_at - row.started_at).total_seconds())
