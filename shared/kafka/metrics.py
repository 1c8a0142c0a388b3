"""Prometheus view of a ConsumerLoop, computed at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from shared.kafka.consumer import ConsumerLoop


class ConsumerCollector(Collector):
    """`kafka_consumer_{up,caught_up,lag,records_total,dead_lettered_total}`
    labelled by consumer name (and topic/partition for lag)."""

    def __init__(self, name: str, loop: ConsumerLoop) -> None:
        self._name = name
        self._loop = loop

    def collect(self) -> Iterator[Metric]:
        snap = self._loop.snapshot()
        labels = [self._name]
        up = GaugeMetricFamily(
            "kafka_consumer_up", "1 while the consume loop runs", labels=["consumer"]
        )
        up.add_metric(labels, 1.0 if self._loop.alive else 0.0)
        caught = GaugeMetricFamily(
            "kafka_consumer_caught_up", "1 once the start backlog is handled", labels=["consumer"]
        )
        caught.add_metric(labels, 1.0 if snap.caught_up else 0.0)
        records = CounterMetricFamily(
            "kafka_consumer_records", "Records processed", labels=["consumer"]
        )
        records.add_metric(labels, snap.handled)
        dead = CounterMetricFamily(
            "kafka_consumer_dead_lettered",
            "Records sent to a dead-letter topic",
            labels=["consumer"],
        )
        dead.add_metric(labels, snap.dead_lettered)
        lag = GaugeMetricFamily(
            "kafka_consumer_lag",
            "Records not yet handled",
            labels=["consumer", "topic", "partition"],
        )
        for tp, part in snap.partitions.items():
            lag.add_metric([self._name, tp.topic, str(tp.partition)], part.lag)
        yield from (up, caught, records, dead, lag)
