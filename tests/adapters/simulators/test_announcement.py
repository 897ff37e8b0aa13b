"""What ``brokerwire simulate`` tells a person about the simulator it runs."""

from __future__ import annotations

from brokerwire.adapters.cli.simulate import describe_simulator
from brokerwire.adapters.simulators import TradovateSimulator


def _fields(lines: list[str]) -> dict[str, str]:
    fields = {}
    for line in lines:
        name, sep, value = line.strip().partition(": ")
        if sep:
            fields[name] = value.strip()
    return fields


def test_the_tradovate_announcement_names_both_sockets_their_tokens_and_the_account() -> None:
    with TradovateSimulator(md_token="md-token-of-this-run") as sim:
        fields = _fields(describe_simulator(sim))
        assert fields["md URL"] == sim.md_url
        assert fields["trading URL"] == sim.trading_url
    assert fields["md token"] == "md-token-of-this-run"
    assert fields["token"] == sim.token
    assert fields["user id"] == str(sim.user_id)
    assert fields["account id"] == str(sim.account_id)
    assert fields["account name"] == sim.account_name
