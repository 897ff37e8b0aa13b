"""What both simulators share: listening, sessions, faults, and running in the background."""

from __future__ import annotations

import concurrent.futures
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypedDict, TypeVar

from ._http import HttpServer
from ._server import BackgroundRunner, Driver, SimulatorServer
from ._session import SimulatedSession
from .faults import Fault

__all__ = ["ServerOptions", "SimulatorBase"]

SessionT = TypeVar("SessionT", bound=SimulatedSession)
SimulatorT = TypeVar("SimulatorT", bound="SimulatorBase[Any]")
ResultT = TypeVar("ResultT")


class ServerOptions(TypedDict, total=False):
    """What every simulator takes besides its own settings (see ``SimulatorBase``)."""

    host: str
    port: int
    ssl_context: ssl.SSLContext | None
    faults: Mapping[int, Fault] | None
    default_fault: Fault | None
    answer_delay: float


class SimulatorBase(Generic[SessionT]):
    """A loopback server with one session per client, usable in a loop or from a thread.

    It listens on ``host`` and ``port`` (0 picks a free port), over TLS with ``ssl_context``.
    ``faults`` maps connection numbers (1 for the first client, ...) to a fault;
    ``default_fault`` applies to connections without an entry. ``answer_delay`` makes every
    answer to a request come that many seconds late, as from a slow server (streams are not
    delayed), so that requests stay in flight.
    """

    thread_name = "simulator"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        faults: Mapping[int, Fault] | None = None,
        default_fault: Fault | None = None,
        answer_delay: float = 0.0,
    ) -> None:
        if not answer_delay >= 0:
            raise ValueError(f"answer_delay must be 0 or more seconds, not {answer_delay!r}")
        self.faults: dict[int, Fault] = dict(faults or {})
        self.default_fault = default_fault
        self.answer_delay = answer_delay
        self.tls = ssl_context is not None
        self._server = SimulatorServer(
            self._new_session,
            host=host,
            port=port,
            ssl_context=ssl_context,
            on_lost=self.forget,
        )
        self._sessions: dict[int, SessionT] = {}
        self._runner: BackgroundRunner | None = None

    def make_session(self, driver: Driver, fault: Fault | None) -> SessionT:
        raise NotImplementedError

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        """The port it listens on (port 0 asks the system for a free one)."""
        return self._server.port

    @property
    def connections(self) -> int:
        """How many clients are connected now."""
        return self._server.connections

    def sessions(self) -> list[SessionT]:
        return [self._sessions[number] for number in sorted(self._sessions)]

    def _new_session(self, driver: Driver) -> SessionT:
        session = self.make_session(driver, self.faults.get(driver.number, self.default_fault))
        session.response_delay = self.answer_delay
        self._sessions[driver.number] = session
        return session

    def forget(self, number: int) -> None:
        """A session's connection ended."""
        self._sessions.pop(number, None)

    #: the broker's HTTP endpoints (sign-in, OAuth), served beside the WebSocket port
    _http: HttpServer

    async def start(self) -> None:
        await self._server.start()
        await self._http.start()

    async def stop(self) -> None:
        await self._http.stop()
        await self._server.stop()

    async def restart(self) -> None:
        """The server goes down and comes back on the same port: every connection is dropped
        (what was not read yet is lost) and clients must connect and sign in again, while the
        accounts, orders, positions and tokens stay as they were, as a broker's do. The HTTP
        endpoints stay up. Call in the loop; ``restart_in_background`` from another thread."""
        await self._server.restart()

    # -- control, from inside the loop -----------------------------------------------------------

    def inject(self, fault: Fault, connection: int | None = None) -> None:
        """Arm ``fault`` on a live connection (the newest when ``connection`` is None)."""
        numbers = sorted(self._sessions) if connection is None else [connection]
        if numbers and numbers[-1] in self._sessions:
            self._sessions[numbers[-1]].set_fault(fault)

    def answers_waiting(self, connection: int | None = None) -> int:
        """How many answers a ``delay`` fault holds back on a live connection (the newest when
        ``connection`` is None): a fault armed while some wait is sure to find requests in
        flight."""
        numbers = sorted(self._sessions) if connection is None else [connection]
        if numbers and numbers[-1] in self._sessions:
            return self._sessions[numbers[-1]].answers_waiting
        return 0

    # -- running from synchronous code ------------------------------------------------------------

    def start_in_background(self: SimulatorT, timeout: float = 10.0) -> SimulatorT:
        """Run in a thread with its own event loop; returns once listening."""
        self._runner = BackgroundRunner(self.start, self.stop, self.thread_name)
        self._runner.start(timeout)
        return self

    def stop_background(self, timeout: float = 10.0) -> None:
        """Stop, drop every connection, and join the thread."""
        if self._runner is not None:
            self._runner.stop(timeout)
            self._runner = None

    def restart_in_background(self, timeout: float = 10.0) -> None:
        """``restart`` a simulator running in the background, from any other thread; returns
        once it listens again."""
        if self._runner is None:
            raise RuntimeError("the simulator is not running in the background")
        self._runner.run(self.restart(), timeout)

    def on_loop(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the simulator's loop: now when called from it (or from the
        caller's own loop), soon when called from another thread of a background simulator."""
        if self._runner is not None and not self._runner.in_its_thread():
            self._runner.call(function)
        else:
            function()

    def read_on_loop(self, function: Callable[[], ResultT], timeout: float = 10.0) -> ResultT:
        """``function()`` run on the simulator's loop, and its result: at once when called
        from the loop (or with no background thread), else waited for up to ``timeout`` seconds,
        so that what it reads is never half changed by the loop."""
        if self._runner is None or self._runner.in_its_thread():
            return function()
        result: concurrent.futures.Future[ResultT] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(function())
            except BaseException as exc:  # handed back to the calling thread
                result.set_exception(exc)

        self._runner.call(run)
        return result.result(timeout)

    def call_soon(self, function: Callable[[], None]) -> None:
        """Run ``function`` on the simulator's loop (for a simulator started in the background)."""
        if self._runner is None:
            raise RuntimeError("the simulator is not running in the background")
        self._runner.call(function)

    def __enter__(self: SimulatorT) -> SimulatorT:
        return self.start_in_background()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_background()

    # -- running inside the caller's asyncio loop ------------------------------------------------

    async def __aenter__(self: SimulatorT) -> SimulatorT:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
