"""arbqos: execution quality, alerting and automatic pause for an SX Bet / Azuro arbitrage bot."""

__version__ = "0.1.0"
