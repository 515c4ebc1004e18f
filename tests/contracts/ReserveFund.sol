// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";
import {Roles} from "./Roles.sol";

/// @title ReserveFund
/// @notice The protocol's insurance fund (tier 1). It receives a share of
///         trading fees and liquidation penalties, and pays the bad debt of
///         positions liquidated past their bankruptcy price. What it cannot
///         pay is recorded as uncovered debt, owed to the clearinghouse's
///         vault; any later inflow settles that debt first.
/// @dev balance() is the fund's own USD holding. Thresholds are set by the
///      admin and read by the keeper: critical triggers a backstop injection,
///      depletion allows a clawback, target is where injections stop.
contract ReserveFund is Roles {
    IERC20 public immutable usd;
    address public clearinghouse;

    uint256 public targetBalance;
    uint256 public criticalThreshold;
    uint256 public depletionThreshold;
    uint256 public uncoveredDebt;

    event ClearinghouseSet(address clearinghouse);
    event ThresholdsUpdated(uint256 target, uint256 critical, uint256 depletion);
    event FeeAccrued(uint256 amount);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    /// @param amount the part of this shortfall the fund paid
    /// @param uncovered the part it could not pay (added to uncoveredDebt)
    event BadDebtCovered(uint256 amount, uint256 uncovered);
    /// @notice Uncovered debt paid out of a later inflow.
    event DebtSettled(uint256 amount, uint256 uncoveredAfter);
    /// @notice Uncovered debt recovered by a clawback of traders' profits.
    event DebtRecovered(uint256 amount, uint256 uncoveredAfter);

    modifier onlyClearinghouse() {
        require(msg.sender == clearinghouse, "caller is not clearinghouse");
        _;
    }

    constructor(address admin, IERC20 usd_, uint256 target, uint256 critical, uint256 depletion)
        Roles(admin)
    {
        usd = usd_;
        _setThresholds(target, critical, depletion);
    }

    /// @notice The fund's USD holding (6 decimals).
    function balance() public view returns (uint256) {
        return usd.balanceOf(address(this));
    }

    /// @notice Wire the clearinghouse, once (admin only).
    function setClearinghouse(address clearinghouse_) external onlyAdmin {
        require(clearinghouse == address(0), "clearinghouse already set");
        require(clearinghouse_ != address(0), "zero clearinghouse");
        clearinghouse = clearinghouse_;
        emit ClearinghouseSet(clearinghouse_);
    }

    /// @notice Set target, critical and depletion levels (admin only).
    function setThresholds(uint256 target, uint256 critical, uint256 depletion) external onlyAdmin {
        _setThresholds(target, critical, depletion);
    }

    /// @notice Add capital (backstop injections, stakers, recapitalisation).
    ///         Pulls `amount` from the caller, who must have approved it.
    function fund(uint256 amount) external {
        require(amount > 0, "zero amount");
        _pull(msg.sender, amount);
        emit Funded(msg.sender, amount);
        _settle();
    }

    /// @notice Governance withdrawal of fund capital (admin only), e.g. a
    ///         surplus moved to the treasury. Not while debt is uncovered.
    function withdraw(address to, uint256 amount) external onlyAdmin {
        require(uncoveredDebt == 0, "debt uncovered");
        require(usd.transfer(to, amount), "transfer failed");
        emit Withdrawn(to, amount);
    }

    /// @notice The clearinghouse's share of a fee, pulled from it.
    function accrueFee(uint256 amount) external onlyClearinghouse {
        _pull(msg.sender, amount);
        emit FeeAccrued(amount);
        _settle();
    }

    /// @notice Pay `shortfall` of bad debt to the clearinghouse, as far as
    ///         the balance goes; the rest becomes uncovered debt.
    /// @return paid the amount paid now
    function coverBadDebt(uint256 shortfall) external onlyClearinghouse returns (uint256 paid) {
        uint256 have = balance();
        paid = shortfall < have ? shortfall : have;
        uint256 uncovered = shortfall - paid;
        uncoveredDebt += uncovered;
        if (paid > 0) {
            require(usd.transfer(clearinghouse, paid), "transfer failed");
        }
        emit BadDebtCovered(paid, uncovered);
    }

    /// @notice Write off `amount` of uncovered debt that a clawback has
    ///         recovered from profitable traders.
    function recoverDebt(uint256 amount) external onlyClearinghouse {
        require(amount <= uncoveredDebt, "recovery exceeds debt");
        uncoveredDebt -= amount;
        emit DebtRecovered(amount, uncoveredDebt);
    }

    function _setThresholds(uint256 target, uint256 critical, uint256 depletion) private {
        require(depletion <= critical && critical <= target && target > 0, "bad thresholds");
        targetBalance = target;
        criticalThreshold = critical;
        depletionThreshold = depletion;
        emit ThresholdsUpdated(target, critical, depletion);
    }

    function _pull(address from, uint256 amount) private {
        require(usd.transferFrom(from, address(this), amount), "transfer failed");
    }

    /// @dev Debt first: the fund holds no balance while it owes the vault.
    function _settle() private {
        uint256 debt = uncoveredDebt;
        if (debt == 0) {
            return;
        }
        uint256 have = balance();
        uint256 pay = debt < have ? debt : have;
        if (pay == 0) {
            return;
        }
        uncoveredDebt = debt - pay;
        require(usd.transfer(clearinghouse, pay), "transfer failed");
        emit DebtSettled(pay, uncoveredDebt);
    }
}
