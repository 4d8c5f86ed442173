"""Prometheus metrics of the gateway process (``/metrics``): requests and their latency here;
events published, consumed and waiting, and dead letters, read from the services and the broker
when scraped."""
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("jiceng_http_requests_total", "HTTP requests answered",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("jiceng_http_request_seconds", "Time to answer an HTTP request",
                    ["method", "route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def observe(method, route, status, seconds):
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def bus_families(health_reports: dict, dead_letters: dict) -> list:
    """Gauges from each service's health answer and the dead-letter queue depths."""
    pending = GaugeMetricFamily("jiceng_outbox_pending", "Events committed, not yet published",
                                labels=["service"])
    published = GaugeMetricFamily("jiceng_events_published", "Events published (outbox rows "
                                  "kept)", labels=["service"])
    consumed = GaugeMetricFamily("jiceng_events_consumed", "Events handled (inbox rows kept)",
                                 labels=["service"])
    up = GaugeMetricFamily("jiceng_service_up", "1 when the service answered its health check",
                           labels=["service"])
    for service, report in sorted(health_reports.items()):
        up.add_metric([service], 1.0 if report.get("status") == "ok" else 0.0)
        for family, key in ((pending, "outbox_pending"), (published, "events_published"),
                            (consumed, "events_consumed")):
            if isinstance(report.get(key), int):
                family.add_metric([service], float(report[key]))
    dead = GaugeMetricFamily("jiceng_dead_letters", "Messages waiting in a dead-letter queue",
                             labels=["queue"])
    for queue, depth in sorted(dead_letters.items()):
        dead.add_metric([queue], float(depth))
    return [pending, published, consumed, up, dead]


def exposition(extra_families) -> bytes:
    class _Extra:
        def collect(self):
            return extra_families

    registry = CollectorRegistry()
    registry.register(_Extra())
    return generate_latest(REGISTRY) + generate_latest(registry)
