"""The scheduled evaluation: every ALERT_SCHEDULE_INTERVAL_S seconds, each
process's thread evaluates every rule under the evaluator lock (so several web
processes and workers take turns), which is what applies the no-data policy to
buckets that never arrived."""

from __future__ import annotations

import logging
import threading

from data.alerts import service
from data.services import Services

log = logging.getLogger(__name__)
SCHEDULER = "alerts.scheduler"


class AlertScheduler(threading.Thread):
    """Evaluates every rule each `interval` seconds until stopped."""

    def __init__(self, services: Services, server, interval: float) -> None:
        super().__init__(name="alert-scheduler", daemon=True)
        self.services, self.server, self.interval = services, server, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                with self.server.app_context():
                    service.evaluate_all(self.services)
            except Exception:  # a database hiccup must not end the schedule
                log.exception("scheduled alert evaluation failed")

    def stop(self) -> None:
        """End the loop (the current round finishes first)."""
        self.stopped.set()
        self.join(timeout=5)


def start(services: Services, server) -> AlertScheduler | None:
    """Start the schedule (not when ALERT_SCHEDULE_INTERVAL_S is 0)."""
    interval = services.settings.alert_schedule_interval_s
    if not interval:
        return None
    scheduler = AlertScheduler(services, server, interval)
    scheduler.start()
    services.extensions[SCHEDULER] = scheduler
    services.closers.append(scheduler.stop)
    return scheduler
