"""Start-up: token loading, bind checks and the listening socket; bad settings are refused."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from arbqos.net import is_loopback
from arbqos.services.auth import TokenError, Tokens, load_tokens
from arbqos.services.server import check_tokens, listen_socket

ADMIN = "A" * 40
PAUSE = "P" * 40


def test_tokens_from_env_and_files(tmp_path: Path) -> None:
    assert load_tokens({"ARBQOS_ADMIN_TOKEN": ADMIN}) == Tokens(admin=ADMIN, pause=None)
    token_file = tmp_path / "pause_token"
    token_file.write_text(PAUSE + "\n")
    tokens = load_tokens({"ARBQOS_ADMIN_TOKEN": ADMIN, "ARBQOS_PAUSE_TOKEN_FILE": str(token_file)})
    assert tokens.pause == PAUSE
    assert tokens.scope_of(PAUSE) == "pause"
    assert tokens.scope_of(ADMIN) == "admin"
    assert tokens.scope_of(PAUSE[:-1]) is None
    assert tokens.scope_of("é") is None
    assert ADMIN not in repr(tokens) and PAUSE not in repr(tokens)
    assert load_tokens({"ARBQOS_ADMIN_TOKEN": "  "}) == Tokens(admin=None, pause=None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ARBQOS_ADMIN_TOKEN": ADMIN, "ARBQOS_ADMIN_TOKEN_FILE": "/x"},
            "both ARBQOS_ADMIN_TOKEN and ARBQOS_ADMIN_TOKEN_FILE are set",
        ),
        ({"ARBQOS_PAUSE_TOKEN_FILE": "/nonexistent/token"}, "cannot read the token file"),
        ({"ARBQOS_ADMIN_TOKEN": ADMIN, "ARBQOS_PAUSE_TOKEN": ADMIN}, "identical"),
        ({"ARBQOS_ADMIN_TOKEN": "has space"}, "printable ASCII"),
    ],
)
def test_bad_token_settings(env: dict[str, str], message: str) -> None:
    with pytest.raises(TokenError, match=message) as err:
        load_tokens(env)
    assert ADMIN not in str(err.value)


def test_empty_token_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(TokenError, match="is empty"):
        load_tokens({"ARBQOS_ADMIN_TOKEN_FILE": str(empty)})


def test_start_up_checks() -> None:
    both = Tokens(admin=ADMIN, pause=PAUSE)
    admin_only = Tokens(admin=ADMIN, pause=None)
    assert check_tokens(both, "0.0.0.0") is None
    assert check_tokens(admin_only, "127.0.0.1") is None
    assert "ARBQOS_PAUSE_TOKEN" in (check_tokens(admin_only, "0.0.0.0") or "")
    assert "ARBQOS_PAUSE_TOKEN" in (check_tokens(admin_only, "192.168.1.10") or "")
    assert "no admin token" in (check_tokens(Tokens(admin=None, pause=PAUSE), "127.0.0.1") or "")
    assert [is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost")] == [
        True
    ] * 5
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.org", "")] == [False] * 5
    assert Tokens(admin="short", pause=PAUSE).short() == ["admin"]


def test_listening_socket_lets_asyncio_disable_nagle() -> None:
    """asyncio sets TCP_NODELAY on accepted connections only when the listener says TCP."""
    sock = listen_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        with socket.create_connection(sock.getsockname()) as client:
            accepted, _ = sock.accept()
            with accepted:
                assert client.fileno() > 0
                assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
