#!/usr/bin/env bash
# Market paths replayed with no keeper where the reserve survives: a calm
# market never brings the reserve near its critical threshold (fees only
# grow it); 19 May 2021, 10 Oct 2025 and a flash crash create bad debt
# that takes the reserve below critical without exhausting it.
. "$(dirname "$0")/lib.sh"

start_devnet "$STATE" || die "devnet start: $(tail -n 3 "$STATE.start.err")"
load_devnet "$STATE"
critical=$(call "$RESERVE" "criticalThreshold()(uint256)")

replay calm
echo "    $(grep '^summary' "$TMP/calm.out")"
check_reserve_flows calm
check "calm: no bad debt" test "$SHORTFALL" = 0
check "calm: fees accrued to the reserve" bigcmp "$FEES" gt 0
check "calm: the reserve never went below critical" bigcmp "$(min_reserve_cents calm)" ge "$(big "$critical / 10000")"
check "calm: every step reported state=ok" test "$(grep -c 'state=ok$' "$TMP/calm.out")" = "$STEPS"

for name in may-19-2021 oct-10-2025 flash-crash-recover; do
    replay "$name"
    echo "    $(grep '^summary' "$TMP/$name.out")"
    check_reserve_flows "$name"
    check "$name: positions were liquidated" test "$LIQUIDATIONS" -gt 10
    check "$name: bad debt appeared" bigcmp "$SHORTFALL" gt 0
    check "$name: the reserve fell below critical" bigcmp "$(min_reserve_cents "$name")" lt "$(big "$critical / 10000")"
    check "$name: the reserve was not exhausted" bigcmp "$(call "$RESERVE" "balance()(uint256)")" gt 0
    check "$name: no debt uncovered" test "$(call "$RESERVE" "uncoveredDebt()(uint256)")" = 0
    check "$name: a step reported state=critical" grep -q 'state=critical$' "$TMP/$name.out"
done
