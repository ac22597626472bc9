"""Read-only chain access: the JSON-RPC client with a method allow-list, ABI helpers."""

from arbqos.chain.rpc import READ_ONLY_METHODS, JsonRpcClient, RpcFailure

__all__ = ["READ_ONLY_METHODS", "JsonRpcClient", "RpcFailure"]
