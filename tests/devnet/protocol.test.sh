#!/usr/bin/env bash
# The reference protocol on a fresh devnet: roles (inject and clawback only
# by the keeper, parameters and the oracle only by the admin), the
# injection and clawback guards, the price feed, and the money flow of
# single trades worked out by hand: fees to the reserve, a liquidation with
# equity left (penalty shared) and one past bankruptcy (bad debt charged to
# the reserve).
. "$(dirname "$0")/lib.sh"

start_devnet "$STATE" || die "devnet start: $(tail -n 3 "$STATE.start.err")"
load_devnet "$STATE"

E6=1000000
TRADER_A=0x976EA74026E726554dB657fA54763abd0C3a0aa9 # dev account 6
TRADER_B=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 # dev account 7
KEEPER_ROLE=$(cast keccak KEEPER_ROLE)
reserve() { call "$RESERVE" "balance()(uint256)"; }

target=$(call "$RESERVE" "targetBalance()(uint256)")
critical=$(call "$RESERVE" "criticalThreshold()(uint256)")
depletion=$(call "$RESERVE" "depletionThreshold()(uint256)")
bal0=$(reserve)
check "thresholds ordered: depletion < critical < target" \
    bash -c "[ $depletion -lt $critical ] && [ $critical -lt $target ]"
check "reserve starts between critical and target" bash -c "[ $bal0 -ge $critical ] && [ $bal0 -lt $target ]"
check "no uncovered debt at start" test "$(call "$RESERVE" "uncoveredDebt()(uint256)")" = 0

# ---- roles ---------------------------------------------------------------
check "inject by an outsider reverts" reverts "caller is not keeper" "$OUTSIDER" "$POOL" "inject(uint256)" "$E6"
check "inject by the admin reverts" reverts "caller is not keeper" "$ADMIN" "$POOL" "inject(uint256)" "$E6"
check "clawback by an outsider reverts" reverts "caller is not keeper" "$OUTSIDER" "$CH" "clawback(uint256)" "$E6"
check "clawback by the admin reverts" reverts "caller is not keeper" "$ADMIN" "$CH" "clawback(uint256)" "$E6"
check "clawback by the keeper reverts while the reserve is above depletion" \
    reverts "reserve above depletion" "$KEEPER" "$CH" "clawback(uint256)" "$E6"
check "updateAnswer by the keeper reverts" reverts "caller is not admin" "$KEEPER" "$FEED" "updateAnswer(int256)" 1
check "recordVolume by an outsider reverts" reverts "caller is not admin" "$OUTSIDER" "$CH" "recordVolume(uint256)" "$E6"
check "setParameters by the keeper reverts" reverts "caller is not admin" "$KEEPER" "$CH" \
    "setParameters(uint256,uint256,uint256,uint256,uint256,uint256)" 200 100 5 50 5000 3000
check "setThresholds by the keeper reverts" reverts "caller is not admin" "$KEEPER" "$RESERVE" \
    "setThresholds(uint256,uint256,uint256)" 3 2 1
check "reserve withdraw by an outsider reverts" reverts "caller is not admin" "$OUTSIDER" "$RESERVE" \
    "withdraw(address,uint256)" "$OUTSIDER" 1
check "mint by an outsider reverts" reverts "caller is not admin" "$OUTSIDER" "$USD" "mint(address,uint256)" "$OUTSIDER" 1
check "coverBadDebt from outside the clearinghouse reverts" \
    reverts "caller is not clearinghouse" "$OUTSIDER" "$RESERVE" "coverBadDebt(uint256)" 1
check "recoverDebt from outside the clearinghouse reverts" \
    reverts "caller is not clearinghouse" "$ADMIN" "$RESERVE" "recoverDebt(uint256)" 0
check "grantRole by the keeper reverts" reverts "caller is not admin" "$KEEPER" "$POOL" \
    "grantRole(bytes32,address)" "$KEEPER_ROLE" "$OUTSIDER"
check "outsider has no keeper role" test "$(call "$POOL" "hasRole(bytes32,address)(bool)" "$KEEPER_ROLE" "$OUTSIDER")" = false

# ---- backstop injection ----------------------------------------------------
pool0=$(call "$POOL" "available()(uint256)")
from=$(head_block)
check "inject of zero reverts" reverts "zero amount" "$KEEPER" "$POOL" "inject(uint256)" 0
check "inject above what the pool holds reverts" reverts "exceeds pool" "$KEEPER" "$POOL" "inject(uint256)" "$(big "$pool0 + 1")"
amount=$((100000 * E6))
check "inject by the keeper succeeds" send "$KEEPER" "$POOL" "inject(uint256)" "$amount"
bal1=$(reserve)
check "inject raised the reserve by the amount" test "$bal1" = "$(big "$bal0 + $amount")"
check "inject took the amount from the pool" test "$(call "$POOL" "available()(uint256)")" = "$(big "$pool0 - $amount")"
read -r n sum < <(sum_logs "$POOL" "BackstopInjected(uint256,uint256)" 0 "$from")
check "BackstopInjected emitted with the amount" test "$n $sum" = "1 $amount"
read -r n after < <(sum_logs "$POOL" "BackstopInjected(uint256,uint256)" 1 "$from")
check "BackstopInjected carries the reserve after" test "$after" = "$bal1"
read -r n sum < <(sum_logs "$RESERVE" "Funded(address,uint256)" 0 "$from")
check "reserve logged the inflow (Funded)" test "$sum" = "$amount"
check "inject up to target succeeds" send "$KEEPER" "$POOL" "inject(uint256)" "$(big "$target - $bal1")"
check "reserve now at target" test "$(reserve)" = "$target"
check "inject at target reverts" reverts "reserve at target" "$KEEPER" "$POOL" "inject(uint256)" 1
check "clawback still reverts above depletion" reverts "reserve above depletion" "$KEEPER" "$CH" "clawback(uint256)" 1

# ---- the price feed ----------------------------------------------------------
check "feed has 8 decimals" test "$(call "$FEED" "decimals()(uint8)")" = 8
check "feed version" test "$(call "$FEED" "version()(uint256)")" = 4
p0=$(call "$FEED" "latestAnswer()(int256)")
round0=$(call "$FEED" "latestRound()(uint80)")
from=$(head_block)
check "admin updates the answer" send "$ADMIN" "$FEED" "updateAnswer(int256)" "$p0"
round1=$(call "$FEED" "latestRound()(uint80)")
check "a new round" test "$round1" = $((round0 + 1))
lrd=$(cast call -r "$RPC" "$FEED" "latestRoundData()(uint80,int256,uint256,uint256,uint80)" | awk '{print $1}' | paste -sd' ')
ts=$(cast block -r "$RPC" latest -f timestamp)
check "latestRoundData: round, answer, started, updated, answeredIn" test "$lrd" = "$round1 $p0 $ts $ts $round1"
topics=$(cast logs -r "$RPC" --from-block "$from" --address "$FEED" "AnswerUpdated(int256,uint256,uint256)" --json | jq -r '.[0].topics[1:] | join(" ")')
check "AnswerUpdated indexes the answer and the round" \
    test "$topics" = "$(cast to-uint256 "$p0") $(cast to-uint256 "$round1")"
check "getRoundData of a missing round reverts" bash -c "! cast call -r '$RPC' '$FEED' 'getRoundData(uint80)' 999 >/dev/null 2>&1"

# ---- trades by hand ------------------------------------------------------------
# At 2,000: A goes long 10 units at 20x, B long 10 units at 10x.
check "the calm session opens at 2000" test "$p0" = 200000000000
size=10000000000000000000 # 10 units
fee=$((10 * E6))          # 5 bps of 20,000
for t in "$TRADER_A:$((1000 * E6))" "$TRADER_B:$((2000 * E6))"; do
    who=${t%%:*} margin=${t#*:}
    send "$ADMIN" "$USD" "mint(address,uint256)" "$who" $((margin + fee)) || die "mint to $who"
    send "$who" "$USD" "approve(address,uint256)" "$CH" $((margin + fee)) || die "approve by $who"
done
check "opening below initial margin reverts" reverts "insufficient margin" "$TRADER_A" "$CH" "openPosition(int256,uint256)" "$size" $((300 * E6))
bal=$(reserve)
check "A opens 10 long at 20x" send "$TRADER_A" "$CH" "openPosition(int256,uint256)" "$size" $((1000 * E6))
check "B opens 10 long at 10x" send "$TRADER_B" "$CH" "openPosition(int256,uint256)" "$size" $((2000 * E6))
check "30% of the two opening fees went to the reserve" test "$(reserve)" = "$(big "$bal + 2 * $fee * 3 / 10")"
check "a second position for A reverts" reverts "position exists" "$TRADER_A" "$CH" "openPosition(int256,uint256)" 1 1
check "A is healthy" test "$(call "$CH" "isLiquidatable(address)(bool)" "$TRADER_A")" = false
check "liquidating a healthy position reverts" reverts "not liquidatable" "$OUTSIDER" "$CH" "liquidate(address)" "$TRADER_A"

# A gap to 1,810 (-9.5%): A's equity 1000 - 1900 = -900 (past bankruptcy);
# B's 2000 - 1900 = 100, under maintenance (1% of 18,100 = 181).
check "gap the price to 1810" send "$ADMIN" "$FEED" "updateAnswer(int256)" 181000000000
check "A is liquidatable" test "$(call "$CH" "isLiquidatable(address)(bool)" "$TRADER_A")" = true
check "A's equity is -900" test "$(call "$CH" "equityOf(address)(int256)" "$TRADER_A")" = "-$((900 * E6))"
check "A cannot close" reverts "liquidatable" "$TRADER_A" "$CH" "closePosition()"
bal=$(reserve)
from=$(head_block)
check "anyone liquidates A" send "$OUTSIDER" "$CH" "liquidate(address)" "$TRADER_A"
check "A's 900 shortfall was charged to the reserve" test "$(reserve)" = "$(big "$bal - 900 * $E6")"
read -r n sum < <(sum_logs "$CH" "Liquidated(address,int256,uint256,uint256)" 2 "$from")
check "Liquidated reports the 900 shortfall" test "$n $sum" = "1 $((900 * E6))"
read -r n sum < <(sum_logs "$RESERVE" "BadDebtCovered(uint256,uint256)" 0 "$from")
check "BadDebtCovered(900, 0)" test "$n $sum $(sum_logs "$RESERVE" "BadDebtCovered(uint256,uint256)" 1 "$from" | cut -d' ' -f2)" = "1 $((900 * E6)) 0"
check "A's position is gone" test "$(call "$CH" "positions(address)(int256,uint256,uint256,uint256)" "$TRADER_A")" = 0

bal=$(reserve)
liq0=$(call "$USD" "balanceOf(address)(uint256)" "$OUTSIDER")
b0=$(call "$USD" "balanceOf(address)(uint256)" "$TRADER_B")
check "anyone liquidates B" send "$OUTSIDER" "$CH" "liquidate(address)" "$TRADER_B"
# Penalty min(100, 0.5% of 18,100 = 90.5): half to the liquidator, half to
# the reserve; B keeps 9.5.
check "liquidator earned 45.25" test "$(call "$USD" "balanceOf(address)(uint256)" "$OUTSIDER")" = "$(big "$liq0 + 45250000")"
check "reserve earned 45.25" test "$(reserve)" = "$(big "$bal + 45250000")"
check "B kept 9.5" test "$(call "$USD" "balanceOf(address)(uint256)" "$TRADER_B")" = "$(big "$b0 + 9500000")"

# ---- closing a healthy position pays margin + PnL - fee ------------------------
shorter=$(cast call -r "$RPC" "$CH" "traders()(address[])" | tr -d '[],' | tr ' ' '\n' | grep . | while read -r t; do
    s=$(call "$CH" "positions(address)(int256,uint256,uint256,uint256)" "$t")
    if [ "${s:0:1}" = "-" ] && [ "$(call "$CH" "isLiquidatable(address)(bool)" "$t")" = false ]; then echo "$t"; break; fi
done)
[ -n "$shorter" ] || die "no healthy short found"
eq=$(call "$CH" "equityOf(address)(int256)" "$shorter")
w0=$(call "$USD" "balanceOf(address)(uint256)" "$shorter")
n0=$(call "$CH" "traderCount()(uint256)")
check "a short in profit closes" send "$shorter" "$CH" "closePosition()"
got=$(big "$(call "$USD" "balanceOf(address)(uint256)" "$shorter") - $w0")
check "it was paid its equity less the trading fee ($got of $eq)" bash -c "[ $got -lt $eq ] && [ $got -gt \$(( $eq - $eq / 10 )) ]"
check "trader count went down" test "$(call "$CH" "traderCount()(uint256)")" = $((n0 - 1))
