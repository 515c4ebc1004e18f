// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Roles} from "./Roles.sol";

/// @title PriceFeed
/// @notice A Chainlink AggregatorV3-compatible price feed whose answer the
///         admin sets (the MockV3Aggregator shape). The devnet's scenario
///         driver plays the oracle network through updateAnswer.
/// @dev Like Chainlink, the feed stores any int256: consumers must reject
///      non-positive or stale answers themselves.
contract PriceFeed is Roles {
    struct Round {
        int256 answer;
        uint256 startedAt;
        uint256 updatedAt;
    }

    uint8 public immutable decimals;
    uint256 public constant version = 4;
    string public description;

    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    /// @notice Chainlink AggregatorInterface events.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    constructor(address admin, uint8 decimals_, string memory description_, int256 initialAnswer)
        Roles(admin)
    {
        decimals = decimals_;
        description = description_;
        _record(initialAnswer);
    }

    /// @notice Publish a new answer as a new round (admin only).
    function updateAnswer(int256 answer) external onlyAdmin {
        _record(answer);
    }

    /// @notice The latest round, in AggregatorV3Interface form.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(latestRound);
    }

    /// @notice A past round; reverts for a round that does not exist.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        require(roundId != 0 && roundId <= latestRound, "no data present");
        return _round(roundId);
    }

    /// @notice AggregatorInterface (v2) accessors.
    function latestAnswer() external view returns (int256) {
        return _rounds[latestRound].answer;
    }

    function latestTimestamp() external view returns (uint256) {
        return _rounds[latestRound].updatedAt;
    }

    function _round(uint80 id) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round storage r = _rounds[id];
        return (id, r.answer, r.startedAt, r.updatedAt, id);
    }

    function _record(int256 answer) private {
        uint80 id = latestRound + 1;
        latestRound = id;
        _rounds[id] = Round(answer, block.timestamp, block.timestamp);
        emit NewRound(id, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, id, block.timestamp);
    }
}
