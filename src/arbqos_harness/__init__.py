"""arbqos harness: what makes arbqos demonstrable and testable on one machine.

Venue simulators, local anvil chains with test contracts, the `arbqos demo` stack and its
fault scenarios, the evidence bundle and the dashboard snapshot renderer. Nothing here runs
in production: the harness uses the product (`arbqos`) exactly as an operator's engine would,
and the product never imports the harness.
"""
