"""A real JetStream server, or a three-node cluster, for each test that asks for one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.bus.natsserver import NatsCluster


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsCluster]:
    """One JetStream server on a free loopback port, with its store in a temporary folder."""
    cluster = NatsCluster(tmp_path, 1)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """Three JetStream servers routed to each other on loopback: a cluster that keeps R3
    streams while one node is down."""
    cluster = NatsCluster(tmp_path, 3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
