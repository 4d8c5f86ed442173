"""``ServiceBase``: what every Jiceng service class inherits.

Subclasses set ``name`` (the nameko service name, also the entry point name), ``publishes``
(event types whose contracts the service owns) and usually a ``store = Store(metadata)``.
They get a ``health`` RPC that the runner, the compose health checks and the gateway call.
"""
import os
import socket

from nameko.rpc import rpc

from shared.bus import outbox


class ServiceBase:
    name: str = ""
    version = "0.1.0"
    publishes: tuple[str, ...] = ()

    @rpc
    def health(self):
        report = {"service": self.name, "version": self.version, "status": "ok",
                  "host": socket.gethostname(), "pid": os.getpid()}
        store = getattr(self, "store", None)
        if store is not None:
            try:
                with store.reading() as session:
                    report["outbox_pending"] = outbox.pending_count(session, store.outbox_table)
                report["database"] = "ok"
            except Exception as exc:  # health reports, it does not raise
                report.update(status="degraded", database=f"{type(exc).__name__}: {exc}")
        return report
