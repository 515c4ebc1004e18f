// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";
import {Roles} from "./Roles.sol";
import {ReserveFund} from "./ReserveFund.sol";

/// @title BackstopPool
/// @notice Secondary liquidity (tier 2): LPs deposit USD for shares; the
///         keeper injects pool capital into the reserve fund when the reserve
///         runs low. Injected capital is gone from the pool, so LP shares
///         lose value pro rata (the LPs are paid for that risk off-devnet).
contract BackstopPool is Roles {
    IERC20 public immutable usd;
    ReserveFund public immutable reserve;

    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;

    event Deposited(address indexed lp, uint256 amount, uint256 shares);
    event Withdrawn(address indexed lp, uint256 amount, uint256 shares);
    event BackstopInjected(uint256 amount, uint256 reserveAfter);

    constructor(address admin, IERC20 usd_, ReserveFund reserve_) Roles(admin) {
        usd = usd_;
        reserve = reserve_;
        require(usd_.approve(address(reserve_), type(uint256).max), "approve failed");
    }

    /// @notice USD the pool can inject now.
    function available() public view returns (uint256) {
        return usd.balanceOf(address(this));
    }

    /// @notice Deposit `amount` USD (approved beforehand) for pool shares.
    function deposit(uint256 amount) external returns (uint256 shares) {
        require(amount > 0, "zero amount");
        uint256 avail = available();
        if (totalShares == 0) {
            shares = amount;
        } else {
            require(avail > 0, "pool wiped out");
            shares = amount * totalShares / avail;
        }
        require(shares > 0, "deposit too small");
        require(usd.transferFrom(msg.sender, address(this), amount), "transfer failed");
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        emit Deposited(msg.sender, amount, shares);
    }

    /// @notice Redeem `shares` for their part of what the pool still holds.
    function withdraw(uint256 shares) external returns (uint256 amount) {
        require(shares > 0 && shares <= sharesOf[msg.sender], "bad shares");
        amount = shares * available() / totalShares;
        sharesOf[msg.sender] -= shares;
        totalShares -= shares;
        require(usd.transfer(msg.sender, amount), "transfer failed");
        emit Withdrawn(msg.sender, amount, shares);
    }

    /// @notice Move `amount` into the reserve fund (keeper only). Reverts when
    ///         the reserve already holds its target: injections restore the
    ///         reserve, they do not grow it. Uncovered debt is settled first
    ///         by the fund itself.
    function inject(uint256 amount) external onlyKeeper {
        require(amount > 0, "zero amount");
        require(amount <= available(), "exceeds pool");
        require(reserve.balance() < reserve.targetBalance(), "reserve at target");
        reserve.fund(amount);
        emit BackstopInjected(amount, reserve.balance());
    }
}
