"""The local demo stack: venue simulators, Prometheus, Alertmanager, dashboard snapshots."""
