"""Local anvil chains with the real chain ids, and the Solidity test contracts they run."""
