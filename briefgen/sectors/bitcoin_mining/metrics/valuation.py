"""Turn the network, miners and equities figures into the brief's valuation section: Valuation.

The miners' combined market cap against the block rewards of the next four years (the 4-year
block-reward opportunity, briefgen.sectors.bitcoin_mining.schedule), whole and in proportion to
the listed miners' share of the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from briefgen.sectors.bitcoin_mining.metrics.market import EquityFigures, MinerFigures
from briefgen.sectors.bitcoin_mining.metrics.network import NetworkFigures
from briefgen.sectors.bitcoin_mining.schedule import (
    OPPORTUNITY_BLOCKS,
    block_reward_opportunity_btc,
)


@dataclass(frozen=True)
class Valuation:
    block_height: int
    btc_price_usd: float
    opportunity_4y_btc: float
    opportunity_4y_usd: float
    market_cap_usd: float | None
    market_cap_to_opportunity_pct: float | None
    market_cap_to_proportional_opportunity_x: float | None


def opportunity_usd(height: int, price: float) -> float:
    """The block rewards of the next four years (OPPORTUNITY_BLOCKS) from `height`, in USD at `price`."""
    return block_reward_opportunity_btc(height, OPPORTUNITY_BLOCKS) * price


def valuation(network: NetworkFigures, miners: MinerFigures | None, equities: EquityFigures | None) -> Valuation:
    """The valuation section: combined market cap against the 4-year block-reward opportunity."""
    opportunity_btc = block_reward_opportunity_btc(network.block_height, OPPORTUNITY_BLOCKS)
    opportunity = opportunity_btc * network.btc_price_at_end
    cap = equities.market_cap_usd.period if equities else None
    share = miners.share_of_network_pct.period if miners else None
    return Valuation(
        block_height=network.block_height,
        btc_price_usd=network.btc_price_at_end,
        opportunity_4y_btc=opportunity_btc,
        opportunity_4y_usd=opportunity,
        market_cap_usd=cap,
        market_cap_to_opportunity_pct=None if cap is None else 100.0 * cap / opportunity,
        market_cap_to_proportional_opportunity_x=None
        if cap is None or not share
        else cap / (share / 100.0 * opportunity),
    )
