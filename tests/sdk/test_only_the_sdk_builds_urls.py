"""Only the SDK builds orchestrator API URLs; the server declares its routes; nothing else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO_ROOT

SRC = REPO_ROOT / "src"
ROUTE = re.compile(
    r"(^|//[^/\s]+)/v1/(status|pause|resume|heartbeat|registry|journal|alertmanager)\b"
)
"""An orchestrator route where a URL is built: at the start of a literal (`f"{base}/v1/..."`)
or right after a host. Prometheus's `/api/v1/...` and prose (`POST /v1/resume with ...`) are
not URLs of the orchestrator."""
ALLOWED = {
    "arbqos/sdk/calls.py": "the SDK's routes",
    "arbqos/services/http_app.py": "the server's routes",
    "arbqos/generators/receivers.py": "the webhook URL Alertmanager is configured with",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (they may name a route)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
        if isinstance(node, ast.Module | ast.ClassDef):  # attribute docstrings
            for before, after in zip(node.body, node.body[1:], strict=False):
                if isinstance(before, ast.Assign | ast.AnnAssign) and isinstance(after, ast.Expr):
                    found.add(id(after.value))
    return found


def route_literals(path: Path) -> list[str]:
    """`line: text` of every string literal in `path` that holds an orchestrator route."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    hits = [
        (node.lineno, f"{node.lineno}: {node.value!r}")
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and ROUTE.search(node.value)
    ]
    return [text for _, text in sorted(hits)]


def test_no_module_outside_the_sdk_builds_an_orchestrator_url() -> None:
    offending = {
        str(path.relative_to(SRC)): hits
        for path in sorted(SRC.rglob("*.py"))
        if str(path.relative_to(SRC)) not in ALLOWED and (hits := route_literals(path))
    }
    assert offending == {}, "build orchestrator URLs with arbqos.sdk (client.url(Route.X))"


def test_the_check_finds_a_route_in_code_but_not_in_a_docstring(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Talks to `/v1/status`."""\n'
        "def f(base):\n"
        '    """POST /v1/pause."""\n'
        '    return f"{base}/v1/resume", "/api/v1/status/buildinfo", "POST /v1/pause first"\n'
        'URL = "http://127.0.0.1:8700/v1/journal"\n'
    )
    assert route_literals(sample) == ["4: '/v1/resume'", "5: 'http://127.0.0.1:8700/v1/journal'"]
    assert all((SRC / name).is_file() for name in ALLOWED)
