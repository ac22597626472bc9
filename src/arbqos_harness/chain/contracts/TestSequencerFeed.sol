// SPDX-License-Identifier: Apache-2.0
// A Chainlink-style L2 sequencer uptime feed for local chains: answer 0 = up, 1 = down.
pragma solidity ^0.8.20;

contract TestSequencerFeed {
    address public immutable owner;
    uint8 public constant decimals = 0;
    string public constant description = "L2 Sequencer Uptime Status Feed (local)";
    uint256 public constant version = 1;

    uint80 private roundId;
    int256 private answer;
    uint256 private startedAt;
    uint256 private updatedAt;

    event StatusSet(uint80 indexed roundId, int256 answer, uint256 startedAt);

    constructor(int256 answer_, uint256 startedAt_) {
        owner = msg.sender;
        _set(answer_, startedAt_);
    }

    function setStatus(int256 answer_, uint256 startedAt_) external {
        require(msg.sender == owner, "only the deployer sets the status");
        _set(answer_, startedAt_);
    }

    function latestRoundData()
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        return (roundId, answer, startedAt, updatedAt, roundId);
    }

    function _set(int256 answer_, uint256 startedAt_) private {
        roundId += 1;
        answer = answer_;
        startedAt = startedAt_;
        updatedAt = block.timestamp;
        emit StatusSet(roundId, answer_, startedAt_);
    }
}
