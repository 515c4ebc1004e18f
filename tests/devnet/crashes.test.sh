#!/usr/bin/env bash
# Severe crashes replayed with no keeper: positions are liquidated past
# their bankruptcy price, the bad debt is charged to the reserve fund, which
# falls below its critical threshold and is exhausted (uncovered debt).
# Then the keeper's tools restore solvency: a clawback recovers the
# uncovered debt from profitable positions, an injection refills the
# reserve, and every remaining position can be closed and paid.
. "$(dirname "$0")/lib.sh"

start_devnet "$STATE" --scenario ftx-2022 || die "devnet start: $(tail -n 3 "$STATE.start.err")"
load_devnet "$STATE"
critical=$(call "$RESERVE" "criticalThreshold()(uint256)")
depletion=$(call "$RESERVE" "depletionThreshold()(uint256)")
target=$(call "$RESERVE" "targetBalance()(uint256)")

for name in black-thursday-2020 luna-2022 ftx-2022; do
    replay "$name"
    echo "    $(grep '^summary' "$TMP/$name.out")"
    check_reserve_flows "$name"
    check "$name: positions were liquidated" test "$LIQUIDATIONS" -gt 10
    check "$name: bad debt appeared" bigcmp "$SHORTFALL" gt 0
    check "$name: the reserve fell below critical" bigcmp "$(min_reserve_cents "$name")" lt "$(big "$critical / 10000")"
    check "$name: the reserve is exhausted" test "$(call "$RESERVE" "balance()(uint256)")" = 0
    check "$name: debt is left uncovered" bigcmp "$(call "$RESERVE" "uncoveredDebt()(uint256)")" gt 0
done

# ---- the keeper restores solvency (state after ftx-2022) ----------------------
debt=$(call "$RESERVE" "uncoveredDebt()(uint256)")
profits=$(call "$CH" "totalPositivePnl()(uint256)")
check "open profits can cover the debt" bigcmp "$profits" ge "$debt"
check "clawback by an outsider reverts" reverts "caller is not keeper" "$OUTSIDER" "$CH" "clawback(uint256)" "$debt"
check "clawback beyond debt + depletion gap reverts" \
    reverts "exceeds shortfall" "$KEEPER" "$CH" "clawback(uint256)" "$(big "$debt + $depletion + 1")"
from=$(head_block)
check "keeper claws back the uncovered debt" send "$KEEPER" "$CH" "clawback(uint256)" "$debt"
check "no debt left uncovered" test "$(call "$RESERVE" "uncoveredDebt()(uint256)")" = 0
check "open profits fell by exactly the clawback" test "$(call "$CH" "totalPositivePnl()(uint256)")" = "$(big "$profits - $debt")"
read -r n amount < <(sum_logs "$CH" "ClawbackTriggered(uint256,uint256)" 0 "$from")
check "ClawbackTriggered carries the amount" test "$n $amount" = "1 $debt"
read -r n bps < <(sum_logs "$CH" "ClawbackTriggered(uint256,uint256)" 1 "$from")
check "haircut is debt / positive PnL, in bps, rounded up ($bps)" \
    test "$bps" = "$(big "($debt * 10000 + $profits - 1) / $profits")"
read -r n cuts < <(sum_logs "$CH" "PositionHaircut(address,uint256)" 0 "$from")
check "per-position haircuts add up to the amount ($n positions)" test "$cuts" = "$debt"
read -r n rec < <(sum_logs "$RESERVE" "DebtRecovered(uint256,uint256)" 0 "$from")
check "reserve logged the recovery" test "$rec" = "$debt"

refill=$(big "$depletion / 2")
check "a second clawback refills the reserve below depletion" send "$KEEPER" "$CH" "clawback(uint256)" "$refill"
check "reserve holds the refill" test "$(call "$RESERVE" "balance()(uint256)")" = "$refill"
check "clawback above the depletion gap reverts" \
    reverts "exceeds shortfall" "$KEEPER" "$CH" "clawback(uint256)" "$(big "$depletion - $refill + 1")"

bal=$(call "$RESERVE" "balance()(uint256)")
check "keeper injects up to target" send "$KEEPER" "$POOL" "inject(uint256)" "$(big "$target - $bal")"
check "reserve back at target" test "$(call "$RESERVE" "balance()(uint256)")" = "$target"
check "further injection reverts" reverts "reserve at target" "$KEEPER" "$POOL" "inject(uint256)" 1
check "clawback reverts once the reserve is healthy" \
    reverts "reserve above depletion" "$KEEPER" "$CH" "clawback(uint256)" 1

# Solvent again: every remaining position is closed and paid in full.
cast call -r "$RPC" "$CH" "traders()(address[])" | tr -d '[],' | tr ' ' '\n' | grep . >"$TMP/left"
closed=0
while read -r t; do
    if [ "$(call "$CH" "isLiquidatable(address)(bool)" "$t")" = true ]; then
        send "$OUTSIDER" "$CH" "liquidate(address)" "$t" && closed=$((closed + 1))
    else
        send "$t" "$CH" "closePosition()" && closed=$((closed + 1))
    fi
done <"$TMP/left"
check "all $(wc -l <"$TMP/left") remaining positions closed or liquidated" test "$closed" -eq "$(wc -l <"$TMP/left")"
check "no position left" test "$(call "$CH" "traderCount()(uint256)")" = 0
check "still no uncovered debt" test "$(call "$RESERVE" "uncoveredDebt()(uint256)")" = 0
