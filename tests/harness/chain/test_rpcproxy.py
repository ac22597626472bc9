"""The misbehaving RPC proxy in front of a real anvil node: every knob, through the product's
read-only JSON-RPC client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from arbqos.chain.rpc import JsonRpcClient
from arbqos.errors import RpcError
from arbqos_harness.chain.localchain import LocalChains
from arbqos_harness.chain.rpcproxy import KNOBS_PATH, RpcProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

CHAIN_ID = {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []}


@pytest.fixture
def proxy(local_chains: LocalChains) -> Iterator[RpcProxy]:
    started = RpcProxy(local_chains.rpc_url("sx_rollup"), seed=1).start()
    yield started
    started.stop()


def post(proxy: RpcProxy, timeout_s: float = 5.0) -> httpx.Response:
    return httpx.post(proxy.url, json=CHAIN_ID, timeout=timeout_s)


def test_forwards_to_the_node(proxy: RpcProxy) -> None:
    answer = post(proxy)
    assert answer.json() == {"jsonrpc": "2.0", "id": 7, "result": hex(4162)}
    assert proxy.stats.forwarded == 1


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("http_502", lambda r: r.status_code == 502),
        ("rpc_error", lambda r: r.json()["error"]["code"] == -32603 and r.json()["id"] == 7),
    ],
)
def test_injected_answers(proxy: RpcProxy, kind: str, check: object) -> None:
    proxy.set_knobs(error_rate=1.0, error_kind=kind)
    assert check(post(proxy))  # type: ignore[operator]
    assert proxy.stats.injected_errors == 1


def test_reset_and_down_close_the_connection(proxy: RpcProxy) -> None:
    proxy.set_knobs(error_rate=1.0, error_kind="reset")
    with pytest.raises(httpx.TransportError):
        post(proxy)
    proxy.reset()
    proxy.set_knobs(down=True)
    with pytest.raises(httpx.TransportError):
        post(proxy)
    assert proxy.stats.refused == 1
    proxy.reset()
    assert post(proxy).status_code == 200


def test_error_rate_is_a_share_of_requests(proxy: RpcProxy) -> None:
    proxy.set_knobs(error_rate=0.25)
    codes = [post(proxy).status_code for _ in range(200)]
    assert 25 <= codes.count(502) <= 75


def test_even_pattern_fails_exactly_one_request_in_every_1_over_rate(proxy: RpcProxy) -> None:
    proxy.set_knobs(error_rate=0.02, error_pattern="even")
    codes = [post(proxy).status_code for _ in range(125)]
    failed = [n for n, code in enumerate(codes, start=1) if code == 502]
    assert failed == [25, 75, 125]
    with pytest.raises(ValueError, match="error_pattern 'sometimes'"):
        proxy.set_knobs(error_pattern="sometimes")


def test_stall_holds_requests_until_released(proxy: RpcProxy) -> None:
    proxy.set_knobs(stall=True)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        post(proxy, timeout_s=0.5)
    assert time.monotonic() - started >= 0.5
    assert proxy.stats.stalled == 1
    proxy.set_knobs(stall=False)
    assert post(proxy).status_code == 200


def test_latency_is_added(proxy: RpcProxy) -> None:
    proxy.set_knobs(latency_s=0.3)
    started = time.monotonic()
    post(proxy)
    assert time.monotonic() - started >= 0.3


def test_knobs_over_http(proxy: RpcProxy) -> None:
    answer = httpx.post(proxy.url + KNOBS_PATH, json={"error_rate": 0.5}, timeout=5)
    assert answer.json()["knobs"]["error_rate"] == 0.5
    bad = httpx.post(proxy.url + KNOBS_PATH, json={"bogus": 1}, timeout=5)
    assert bad.status_code == 400
    assert "unknown knob" in bad.json()["error"]
    assert httpx.get(proxy.url + KNOBS_PATH, timeout=5).json()["stats"]["requests"] == 0


def test_the_product_client_sees_failures_as_failures(proxy: RpcProxy) -> None:
    async def chain_id() -> int:
        async with httpx.AsyncClient() as http:
            client = JsonRpcClient([proxy.url], chain="sx_rollup", http=http, timeout_s=2.0)
            return int(await client.call("eth_chainId"), 16)

    assert asyncio.run(chain_id()) == 4162
    proxy.set_knobs(error_rate=1.0, error_kind="rpc_error")
    with pytest.raises(RpcError):
        asyncio.run(chain_id())
