"""Order strategy parameters, typed: Tradovate wants them as a JSON document inside a string.

``orderStrategy/startorderstrategy`` takes ``params`` as a string holding JSON (the entry order
and its brackets), and the ``orderStrategy`` entity gives it back the same way. The Structs here
are that document, as Tradovate's order-strategy example builds it for the multi-bracket
strategy (type id 2): ``start_order_strategy`` encodes them into the request, ``params_of``
reads them back.
"""

from __future__ import annotations

from typing import Final

import msgspec

from ..errors import LocalProtocolError
from ..jsonlib import ValidationError, convert, decoder, dumps_str, to_builtins
from .models import Action, OrderStrategy, OrderType, TimeInForce
from .requests import StartOrderStrategy

__all__ = [
    "MULTIBRACKET",
    "AutoTrail",
    "Bracket",
    "EntryVersion",
    "OrderStrategyParams",
    "params_of",
    "start_order_strategy",
]

#: The ``orderStrategyTypeId`` of the multi-bracket strategy, the one Tradovate offers.
MULTIBRACKET: Final = 2


class EntryVersion(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel", gc=False
):
    """The order that opens the position."""

    order_qty: int
    order_type: OrderType
    price: float | None = None
    stop_price: float | None = None
    time_in_force: TimeInForce | None = None


class AutoTrail(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel", gc=False
):
    """A stop that starts trailing once the price has moved ``trigger`` in favour, by
    ``stop_loss`` behind, moving in steps of ``freq``."""

    stop_loss: float
    trigger: float
    freq: float


class Bracket(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel", gc=False
):
    """One exit for ``qty`` of the entry: a target and a stop as price offsets from the entry's
    fill (positive up), the stop trailing when ``trailing_stop``."""

    qty: int
    profit_target: float | None = None
    stop_loss: float | None = None
    trailing_stop: bool | None = None
    auto_trail: AutoTrail | None = None


class OrderStrategyParams(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"
):
    """The ``params`` document of a multi-bracket strategy."""

    entry_version: EntryVersion
    brackets: list[Bracket] = msgspec.field(default_factory=list)

    def encode(self) -> str:
        """The JSON string the request carries. Raises ``LocalProtocolError`` when a field holds
        a value of the wrong type (a Struct built by hand is not checked)."""
        try:
            convert(to_builtins(self), OrderStrategyParams)
        except ValidationError as exc:
            raise LocalProtocolError(f"order strategy params cannot be sent: {exc}") from None
        return dumps_str(self)


_decode_params = decoder(OrderStrategyParams)


def start_order_strategy(
    *,
    symbol: str,
    action: Action | str,
    params: OrderStrategyParams,
    account_id: int | None = None,
    account_spec: str | None = None,
    order_strategy_type_id: int = MULTIBRACKET,
    uuid: str | None = None,
    custom_tag50: str | None = None,
) -> StartOrderStrategy:
    """The ``orderStrategy/startorderstrategy`` body with ``params`` written as its string.

    Raises ``LocalProtocolError`` for an action other than Buy and Sell, or params holding a
    value of the wrong type."""
    if action not in tuple(Action):
        raise LocalProtocolError(f"an order strategy's action is Buy or Sell, not {action!r}")
    return StartOrderStrategy(
        account_id=account_id,
        account_spec=account_spec,
        symbol=symbol,
        order_strategy_type_id=order_strategy_type_id,
        action=Action(action),
        params=params.encode(),
        uuid=uuid,
        custom_tag50=custom_tag50,
    )


def params_of(holder: StartOrderStrategy | OrderStrategy) -> OrderStrategyParams | None:
    """The typed ``params`` of a request or an ``orderStrategy`` entity (None when absent).

    Raises ``ValidationError`` (a ``ValueError``) when the string is not such a document.
    """
    return None if holder.params is None else _decode_params(holder.params)
