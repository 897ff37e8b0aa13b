"""Offline simulators of the Tradovate and cTrader services, for tests and for trying bots.

Each runs on an asyncio loop (``await sim.start()``), or in a background thread of its own
(``with TradovateSimulator() as sim: ...``), listens on loopback (port 0 picks a free port) and
can inject faults per connection.
"""

from .ctrader import CTraderSimulator
from .faults import Fault, FaultKind
from .tradovate import TradovateSimulator

__all__ = ["CTraderSimulator", "Fault", "FaultKind", "TradovateSimulator"]
