"""entryway_database_unavailable_total by reason, read from a runtime's own registry (each runtime has one)."""

from __future__ import annotations

from entryway.runtime import Runtime


def unavailable_by_reason(rt: Runtime) -> dict[str, float]:
    """reason -> requests this runtime answered 503 for the database (observability/outage.py)."""
    return {
        sample.labels["reason"]: sample.value
        for metric in rt.metrics.registry.collect()
        for sample in metric.samples
        if sample.name == "entryway_database_unavailable_total"
    }
