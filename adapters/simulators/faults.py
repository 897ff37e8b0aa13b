"""Faults a simulator can inject into a connection, to test how a client copes.

A fault strikes once, when the connection has sent ``after`` messages since the fault was set
(responses, events and stream messages all count; heartbeats do not):

* ``drop-mid-frame`` - write the first half of the next message, then end the TCP connection
  once everything written before it has gone out: the client's stream ends inside a message;
* ``garbage`` - write bytes that are not the protocol, then carry on as if nothing happened;
* ``silence`` - stop sending anything at all (no answers, no heartbeats, no pongs);
* ``close`` - close with ``code`` and ``reason`` (a WebSocket close frame; over TCP, just close);
* ``shutdown`` - announce the end (Tradovate ``shutdown``, cTrader ProtoOAClientDisconnectEvent)
  and close;
* ``delay`` - from then on, answer requests ``seconds`` late (streams are not delayed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Fault", "FaultKind"]


class FaultKind(enum.Enum):
    DROP_MID_FRAME = "drop-mid-frame"
    GARBAGE = "garbage"
    SILENCE = "silence"
    CLOSE = "close"
    SHUTDOWN = "shutdown"
    DELAY = "delay"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    after: int = 0
    code: int = 1011
    reason: str = "simulated failure"
    seconds: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Fault:
        """A fault from the command line: ``kind[:name=value,...]``.

        For example ``close:code=4000,after=10`` or ``delay:seconds=2``.
        """
        kind_text, _, options = text.partition(":")
        try:
            kind = FaultKind(kind_text.strip())
        except ValueError:
            names = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault {kind_text!r}; choose one of {names}") from None
        values: dict[str, str] = {}
        for option in filter(None, (o.strip() for o in options.split(","))):
            name, sep, value = option.partition("=")
            if not sep or name not in {"after", "code", "reason", "seconds"}:
                raise ValueError(
                    f"bad fault option {option!r}; use after=N, code=N, reason=TEXT or seconds=S"
                )
            values[name] = value
        try:
            return cls(
                kind,
                after=int(values.get("after", 0)),
                code=int(values.get("code", 1011)),
                reason=values.get("reason", "simulated failure"),
                seconds=float(values.get("seconds", 1.0)),
            )
        except ValueError as exc:
            raise ValueError(f"bad fault option value in {text!r}: {exc}") from None
