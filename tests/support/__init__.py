"""Pieces shared by every test folder.

- `wait`: `eventually()` / `eventually_async()`, polling a condition instead of a fixed sleep.
- `env`: the environment a test or a child process sees, without the caller's `ARBQOS*`.
- `cli`: the `arbqos` command as a subprocess (one-shot or a long-running service).
- `servers`: a loopback HTTP server that holds every request unanswered until released.
- `fastlane`: `pytest --fast` (what `make check` runs): no test may start a process.
"""
