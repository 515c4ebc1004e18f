// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "./IERC20.sol";
import {Roles} from "./Roles.sol";
import {ReserveFund} from "./ReserveFund.sol";

/// @notice The part of Chainlink's AggregatorV3Interface the protocol reads.
interface IPriceFeed {
    function decimals() external view returns (uint8);
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80);
}

/// @title Clearinghouse
/// @notice A small perpetuals venue: one leveraged long or short position
///         per trader, margined in the 6-decimal stablecoin and marked to
///         the price feed. The clearinghouse's vault (its USD beyond traders'
///         margin) is the counterparty of every position, as in GMX or
///         Hyperliquid's HLP: a trader's loss is the vault's gain and a
///         trader's profit is paid by the vault.
/// @dev Money flow. A position whose equity falls below the maintenance
///      margin is liquidated by anyone at the feed price. With equity left,
///      the trader keeps it minus a penalty (shared by the liquidator and
///      the reserve fund). Past the bankruptcy price (equity < 0) the vault
///      is owed more than the margin: that shortfall is bad debt, charged to
///      the reserve fund; what the fund cannot pay stays as its uncovered
///      debt. A clawback (keeper only, reserve below depletion) haircuts the
///      open positive PnL pro rata to recover that debt and to refill the
///      reserve up to its depletion threshold.
///      Units: sizes have 18 decimals, prices the feed's decimals, USD 6.
contract Clearinghouse is Roles {
    uint256 private constant BPS = 10_000;
    /// @notice Cap on open positions, so that every loop stays within a block.
    uint256 public constant MAX_TRADERS = 400;

    struct Position {
        int256 size; // base units (18 decimals), > 0 long, < 0 short
        uint256 margin; // USD deposited
        uint256 entryPrice; // feed units
        uint256 haircut; // profit already taken by clawbacks, USD
    }

    IERC20 public immutable usd;
    IPriceFeed public immutable feed;
    ReserveFund public immutable reserve;
    /// @dev notional(USD) = |size| * price / scale.
    uint256 private immutable _scale;

    uint256 public initialMarginBps = 200; // 50x at most
    uint256 public maintenanceMarginBps = 100;
    uint256 public tradingFeeBps = 5;
    uint256 public liquidationFeeBps = 50; // of notional, capped at equity
    uint256 public liquidatorShareBps = 5000; // of the liquidation penalty
    uint256 public reserveFeeShareBps = 3000; // of trading fees

    mapping(address => Position) public positions;
    address[] private _traders;
    mapping(address => uint256) private _slot; // index in _traders, plus one
    /// @notice Open size on each side, base units.
    uint256 public longSize;
    uint256 public shortSize;

    event PositionOpened(address indexed trader, int256 size, uint256 margin, uint256 price, uint256 fee);
    event PositionClosed(address indexed trader, int256 size, uint256 price, int256 pnl, uint256 payout);
    event Liquidated(address indexed trader, int256 size, uint256 price, uint256 shortfall);
    event PositionHaircut(address indexed trader, uint256 amount);
    event ClawbackTriggered(uint256 amount, uint256 haircutBps);
    event VolumeRecorded(uint256 notional, uint256 fee);
    event ParametersUpdated(
        uint256 initialMarginBps,
        uint256 maintenanceMarginBps,
        uint256 tradingFeeBps,
        uint256 liquidationFeeBps,
        uint256 liquidatorShareBps,
        uint256 reserveFeeShareBps
    );

    constructor(address admin, IERC20 usd_, IPriceFeed feed_, ReserveFund reserve_) Roles(admin) {
        usd = usd_;
        feed = feed_;
        reserve = reserve_;
        _scale = 10 ** (18 + uint256(feed_.decimals()) - 6);
        require(usd_.approve(address(reserve_), type(uint256).max), "approve failed");
    }

    // ---- trading -------------------------------------------------------

    /// @notice Open a position of `size` base units (negative: short) with
    ///         `margin` USD. The caller must approve margin plus the trading
    ///         fee. One position per trader: close it before opening another.
    function openPosition(int256 size, uint256 margin) external {
        require(size != 0, "zero size");
        require(positions[msg.sender].size == 0, "position exists");
        require(_traders.length < MAX_TRADERS, "too many traders");
        uint256 price = _price();
        uint256 n = _notional(size, price);
        require(n > 0, "position too small");
        require(margin * BPS >= n * initialMarginBps, "insufficient margin");
        uint256 fee = n * tradingFeeBps / BPS;
        _pull(msg.sender, margin + fee);
        positions[msg.sender] = Position(size, margin, price, 0);
        _traders.push(msg.sender);
        _slot[msg.sender] = _traders.length;
        if (size > 0) longSize += uint256(size);
        else shortSize += uint256(-size);
        _distributeFee(fee);
        emit PositionOpened(msg.sender, size, margin, price, fee);
    }

    /// @notice Close the caller's position at the feed price and withdraw
    ///         its equity less the trading fee. A liquidatable position
    ///         cannot be closed: it must be liquidated.
    function closePosition() external {
        Position memory p = positions[msg.sender];
        require(p.size != 0, "no position");
        uint256 price = _price();
        require(!_liquidatable(p, price), "liquidatable");
        uint256 equity = uint256(_equity(p, price));
        uint256 fee = _notional(p.size, price) * tradingFeeBps / BPS;
        if (fee > equity) fee = equity;
        _remove(msg.sender, p.size);
        _pay(msg.sender, equity - fee);
        _distributeFee(fee);
        emit PositionClosed(msg.sender, p.size, price, _pnl(p, price), equity - fee);
    }

    /// @notice Liquidate `trader` at the feed price (anyone may call). The
    ///         caller earns a share of the penalty when equity remains; bad
    ///         debt (negative equity) is charged to the reserve fund.
    function liquidate(address trader) external {
        Position memory p = positions[trader];
        require(p.size != 0, "no position");
        uint256 price = _price();
        require(_liquidatable(p, price), "not liquidatable");
        int256 equity = _equity(p, price);
        _remove(trader, p.size);
        uint256 shortfall;
        if (equity >= 0) {
            _settlePenalty(trader, uint256(equity), _notional(p.size, price));
        } else {
            shortfall = uint256(-equity);
            reserve.coverBadDebt(shortfall);
        }
        emit Liquidated(trader, p.size, price, shortfall);
    }

    // ---- keeper and admin ----------------------------------------------

    /// @notice Haircut open positive PnL pro rata by `amount` USD (keeper
    ///         only, and only while the reserve is below its depletion
    ///         threshold). The proceeds first write off the reserve's
    ///         uncovered debt, then refill the reserve, never above the
    ///         depletion threshold.
    function clawback(uint256 amount) external onlyKeeper {
        uint256 have = reserve.balance();
        uint256 depletion = reserve.depletionThreshold();
        require(have < depletion, "reserve above depletion");
        require(amount > 0, "zero amount");
        uint256 debt = reserve.uncoveredDebt();
        require(amount <= debt + (depletion - have), "exceeds shortfall");
        uint256 price = _price();
        uint256 profits = _totalProfit(price);
        require(amount <= profits, "exceeds positive pnl");
        uint256 applied = _haircutAll(amount, profits, price);
        uint256 toDebt = applied < debt ? applied : debt;
        if (toDebt > 0) reserve.recoverDebt(toDebt);
        if (applied > toDebt) reserve.fund(applied - toDebt);
        emit ClawbackTriggered(applied, (applied * BPS + profits - 1) / profits);
    }

    /// @notice Charge the trading fee on `notional` USD of volume matched
    ///         off this contract's book (admin as fee collector; the devnet's
    ///         scenario driver uses it for synthetic volume). Pulls the fee
    ///         from the caller and shares it with the reserve fund.
    function recordVolume(uint256 notional) external onlyAdmin {
        uint256 fee = notional * tradingFeeBps / BPS;
        require(fee > 0, "volume too small");
        _pull(msg.sender, fee);
        _distributeFee(fee);
        emit VolumeRecorded(notional, fee);
    }

    /// @notice Set the risk and fee parameters (admin only), in basis points.
    function setParameters(
        uint256 initialMarginBps_,
        uint256 maintenanceMarginBps_,
        uint256 tradingFeeBps_,
        uint256 liquidationFeeBps_,
        uint256 liquidatorShareBps_,
        uint256 reserveFeeShareBps_
    ) external onlyAdmin {
        require(maintenanceMarginBps_ > 0 && maintenanceMarginBps_ < initialMarginBps_, "bad margins");
        require(initialMarginBps_ <= BPS && tradingFeeBps_ <= 100 && liquidationFeeBps_ <= 1000, "bad fees");
        require(liquidatorShareBps_ <= BPS && reserveFeeShareBps_ <= BPS, "bad shares");
        initialMarginBps = initialMarginBps_;
        maintenanceMarginBps = maintenanceMarginBps_;
        tradingFeeBps = tradingFeeBps_;
        liquidationFeeBps = liquidationFeeBps_;
        liquidatorShareBps = liquidatorShareBps_;
        reserveFeeShareBps = reserveFeeShareBps_;
        emit ParametersUpdated(
            initialMarginBps_,
            maintenanceMarginBps_,
            tradingFeeBps_,
            liquidationFeeBps_,
            liquidatorShareBps_,
            reserveFeeShareBps_
        );
    }

    // ---- views ---------------------------------------------------------

    /// @notice The feed price the clearinghouse marks to.
    function markPrice() external view returns (uint256) {
        return _price();
    }

    /// @notice Open interest: notional of all open positions, both sides,
    ///         in USD at the feed price.
    function openInterest() external view returns (uint256) {
        return (longSize + shortSize) * _price() / _scale;
    }

    /// @notice Whether `trader`'s equity is below the maintenance margin.
    function isLiquidatable(address trader) external view returns (bool) {
        Position memory p = positions[trader];
        return p.size != 0 && _liquidatable(p, _price());
    }

    /// @notice Margin plus PnL less haircuts, USD (0 without a position).
    function equityOf(address trader) external view returns (int256) {
        Position memory p = positions[trader];
        return p.size == 0 ? int256(0) : _equity(p, _price());
    }

    /// @notice Every trader with an open position.
    function traders() external view returns (address[] memory) {
        return _traders;
    }

    function traderCount() external view returns (uint256) {
        return _traders.length;
    }

    /// @notice Every trader that can be liquidated now (for liquidation bots).
    function liquidatableTraders() external view returns (address[] memory out) {
        uint256 price = _price();
        uint256 count;
        out = new address[](_traders.length);
        for (uint256 i = 0; i < _traders.length; i++) {
            if (_liquidatable(positions[_traders[i]], price)) out[count++] = _traders[i];
        }
        assembly {
            mstore(out, count)
        }
    }

    /// @notice Sum of open positive PnL net of haircuts: what a clawback can take.
    function totalPositivePnl() external view returns (uint256) {
        return _totalProfit(_price());
    }

    // ---- internals -----------------------------------------------------

    function _price() private view returns (uint256) {
        (, int256 answer,,,) = feed.latestRoundData();
        require(answer > 0, "bad price");
        return uint256(answer);
    }

    function _notional(int256 size, uint256 price) private view returns (uint256) {
        uint256 abs = size > 0 ? uint256(size) : uint256(-size);
        return abs * price / _scale;
    }

    function _pnl(Position memory p, uint256 price) private view returns (int256) {
        return p.size * (int256(price) - int256(p.entryPrice)) / int256(_scale);
    }

    function _equity(Position memory p, uint256 price) private view returns (int256) {
        return int256(p.margin) + _pnl(p, price) - int256(p.haircut);
    }

    function _liquidatable(Position memory p, uint256 price) private view returns (bool) {
        if (p.size == 0) return false;
        uint256 maintenance = _notional(p.size, price) * maintenanceMarginBps / BPS;
        return _equity(p, price) < int256(maintenance);
    }

    function _settlePenalty(address trader, uint256 equity, uint256 notional) private {
        uint256 penalty = notional * liquidationFeeBps / BPS;
        if (penalty > equity) penalty = equity;
        uint256 reward = penalty * liquidatorShareBps / BPS;
        _pay(msg.sender, reward);
        _pay(trader, equity - penalty);
        if (penalty > reward) reserve.accrueFee(penalty - reward);
    }

    function _totalProfit(uint256 price) private view returns (uint256 total) {
        for (uint256 i = 0; i < _traders.length; i++) {
            total += _profit(positions[_traders[i]], price);
        }
    }

    function _profit(Position memory p, uint256 price) private view returns (uint256) {
        int256 net = _pnl(p, price) - int256(p.haircut);
        return net > 0 ? uint256(net) : 0;
    }

    /// @dev Pro rata, rounded down; the rounding remainder (less than one
    ///      unit per position) then goes to the first positions with profit
    ///      left, so that exactly `amount` is taken.
    function _haircutAll(uint256 amount, uint256 profits, uint256 price) private returns (uint256 applied) {
        uint256 n = _traders.length;
        uint256[] memory cuts = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 cut = amount * _profit(positions[_traders[i]], price) / profits;
            if (cut > 0) {
                cuts[i] = cut;
                positions[_traders[i]].haircut += cut;
                applied += cut;
            }
        }
        for (uint256 i = 0; i < n && applied < amount; i++) {
            uint256 left = _profit(positions[_traders[i]], price);
            uint256 extra = amount - applied < left ? amount - applied : left;
            if (extra == 0) continue;
            cuts[i] += extra;
            positions[_traders[i]].haircut += extra;
            applied += extra;
        }
        for (uint256 i = 0; i < n; i++) {
            if (cuts[i] > 0) emit PositionHaircut(_traders[i], cuts[i]);
        }
    }

    function _distributeFee(uint256 fee) private {
        uint256 share = fee * reserveFeeShareBps / BPS;
        if (share > 0) reserve.accrueFee(share);
    }

    function _remove(address trader, int256 size) private {
        if (size > 0) longSize -= uint256(size);
        else shortSize -= uint256(-size);
        delete positions[trader];
        uint256 i = _slot[trader] - 1;
        address last = _traders[_traders.length - 1];
        _traders[i] = last;
        _slot[last] = i + 1;
        _traders.pop();
        delete _slot[trader];
    }

    function _pull(address from, uint256 amount) private {
        require(usd.transferFrom(from, address(this), amount), "transfer failed");
    }

    function _pay(address to, uint256 amount) private {
        if (amount > 0) require(usd.transfer(to, amount), "transfer failed");
    }
}
