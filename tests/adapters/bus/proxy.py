"""A TCP relay on loopback whose connections the test can cut, as a network that drops a
client's link to its NATS server. Like a load balancer, it relays to the first of its targets
that accepts."""

from __future__ import annotations

import asyncio
import contextlib


class CuttingProxy:
    """Relays each connection to a port of ``targets`` on loopback; ``cut()`` aborts every one
    of them."""

    def __init__(self, targets: list[int]) -> None:
        self.targets = targets
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        if self._relays:
            await asyncio.wait(self._relays, timeout=10)
        if self._server is not None:
            await self._server.wait_closed()

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        writers = [client_out]
        try:
            server_in, server_out = await self._open()
            writers.append(server_out)
            self._writers.update(writers)
            await asyncio.gather(
                self._pipe(client_in, server_out), self._pipe(server_in, client_out)
            )
        except OSError:
            pass
        finally:
            for writer in writers:
                self._writers.discard(writer)
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            self._relays.discard(task)

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for port in self.targets[:-1]:
            with contextlib.suppress(OSError):
                return await asyncio.open_connection("127.0.0.1", port)
        return await asyncio.open_connection("127.0.0.1", self.targets[-1])

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        sink.transport.abort()
