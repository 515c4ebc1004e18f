#!/usr/bin/env bash
# The keeper end to end on the devnet (docs/devnet.md):
#
#   1. Black Thursday: the keeper runs on a devnet seeded for the crash while
#      the scenario is replayed (paced, one 2-hour step per second). It must
#      inject (BackstopInjected, sent by the keeper's address) within two
#      blocks of every crossing of the critical threshold, never claw back
#      while the backstop pool could cover, never send two transactions for
#      one idempotency key (chain, /status and the journal agree), and page:
#      the PagerDuty receiver sees the tier trigger and, once the reserve is
#      restored, the resolve with the same dedup_key.
#   2. The same crash with the backstop pool emptied by its LP first: no
#      injection; clawbacks, each while the pool is empty, recover the debt.
#   3. A calm day on a fresh devnet: nothing sent, nobody paged.
#
# The per-scenario checks of 1 are e2e_severe in e2e_lib.sh, shared with
# e2e_*.test.sh (the other severe scenarios). Alerts go to
# tests/keeper/alert_receiver.js (a real HTTP receiver that
# checks each API's request shape). Every process is started here and
# stopped by pid; conditions are waited for, not slept on. KP_E2E_KEEP=1
# keeps the temporary directory (logs, configs, chain facts).
E2E_NAME=backstop
. "$(dirname "$0")/e2e_lib.sh"

# ============================================================================
# 1. Black Thursday
# ============================================================================
e2e_severe bt black-thursday-2020 7200 # one 2-hour step per second
C=$T/bt-chain.json
S=$T/bt-status.json
check "after the replay the reserve is restored (not T2/T3)" \
    jqe '.protocols[0].last_evaluation | (.tier == "T1" or .tier == "amber") and (.reserve | tonumber) >= (.critical | tonumber)' "$S"

# Logs and metrics of the decisions.
check "each decision is logged with its inputs and reason" \
    grep -qE 'INFO  policy: decision protocol=devnet block=[0-9]+ reserve=[0-9.]+ target=[0-9.]+ critical=[0-9.]+ depletion=[0-9.]+ uncovered=[0-9.]+ oi=[0-9.]+ health=[0-9.e+-]+ tier=T2 price=[0-9.]+ price_state=fresh action=inject amount=[0-9.]+ reason=".*" key=devnet:inject:' "$T/bt-keeper.err"
check "metrics count evaluations, decisions, actions, tier and reserve" \
    bash -c "grep -qE '^keeper_evaluations_total\{protocol=\"devnet\"\} [1-9]' '$T/bt-metrics.txt' &&
             grep -qE '^keeper_decisions_total\{protocol=\"devnet\",action=\"inject\"\} [1-9]' '$T/bt-metrics.txt' &&
             grep -qE '^keeper_actions_total\{protocol=\"devnet\",action=\"inject\",outcome=\"confirmed\"\} [1-9]' '$T/bt-metrics.txt' &&
             grep -qE '^# HELP keeper_tier ' '$T/bt-metrics.txt' && grep -qE '^keeper_tier\{protocol=\"devnet\"\} [01]$' '$T/bt-metrics.txt' &&
             grep -qE '^keeper_reserve_balance\{protocol=\"devnet\"\} [0-9]' '$T/bt-metrics.txt'"
if command -v promtool >/dev/null; then
    check "/metrics passes promtool check metrics" bash -c "promtool check metrics <'$T/bt-metrics.txt' >/dev/null 2>&1"
fi

# Paging: trigger, then resolve, same dedup_key.
alerts /pd/bt >"$T/bt-pd.jsonl"
alerts /hook/bt >"$T/bt-hook.jsonl"
check "every request to the receivers had the documented shape" \
    bash -c "[ -s '$T/bt-pd.jsonl' ] && jq -se 'all(.[]; .errors == [] and .status < 300)' '$T/bt-pd.jsonl' '$T/bt-hook.jsonl' >/dev/null"
check "PagerDuty got the tier trigger" \
    jqe -s 'any(.[]; .body.event_action == "trigger" and .body.dedup_key == "devnet/tier" and .body.payload.severity == "critical")' "$T/bt-pd.jsonl"
check "... then its resolve with the same dedup_key, after the recovery" \
    jqe -s '([.[] | select(.body.dedup_key == "devnet/tier")] | (map(.body.event_action) | index("trigger")) as $t |
             (map(.body.event_action) | rindex("resolve")) as $r | $t != null and $r != null and $r > $t)' "$T/bt-pd.jsonl"
check "the webhook got the injection sent and confirmed" \
    jqe -s 'any(.[]; .body.status == "event" and (.body.key | test("^action/devnet:inject:.*/sent$"))) and
            any(.[]; .body.status == "event" and (.body.key | test("^action/devnet:inject:.*/confirmed$")) and .body.details.tx_hash != null)' "$T/bt-hook.jsonl"
check "no stale-oracle alert during the replay" \
    jqe -s 'all(.[]; (.body.key // "" | startswith("stale_oracle")) | not)' "$T/bt-hook.jsonl"

# Figures.
note "head->decision ms (max over decisions): $(grep -oE 'eval_ms=[0-9.]+' "$T/bt-keeper.err" | cut -d= -f2 | sort -g | tail -n 1)"
note "decision->wire us (each injection): $(grep -oE 'decision_to_wire_us=[0-9.]+' "$T/bt-keeper.err" | cut -d= -f2 | tr '\n' ' ')"

# A reload keeps what the keeper knows: its actions, its last decision and
# its open alerts (the webhook gets no second "tier" trigger).
TIER_FIRINGS=$(alerts /hook/bt | jq -s '[.[] | select(.body.key == "tier" and .body.status == "firing")] | length')
kill -HUP "$KEEPER_PID"
check "SIGHUP reloads" wait_for 10 grep -qF "configuration reloaded" "$T/bt-keeper.err"
check "... keeping the actions and the last decision in /status" \
    bash -c "diff <(jq -c '.protocols[0].actions' '$S') <(curl -s --max-time 2 http://127.0.0.1:$MPORT/status | jq -c '.protocols[0].actions') >/dev/null"
cast rpc -r "$(jq -r .rpc_http "$T/bt/devnet.json")" evm_mine >/dev/null
check "... and evaluates the next block" wait_for 10 settled bt
check "... without paging again for the open tier condition" \
    [ "$(alerts /hook/bt | jq -s '[.[] | select(.body.key == "tier" and .body.status == "firing")] | length')" = "$TIER_FIRINGS" ]

stop_pid "$KEEPER_PID"
wait "$KEEPER_PID" 2>/dev/null
check "the keeper stops cleanly on SIGTERM" [ $? -eq 0 ]
KEEPER_PID=

# --once: one evaluation at the head, the decision printed, nothing sent.
"$KEEPER" run -c "$T/bt.yaml" --once >"$T/once.out" 2>"$T/once.err"
check "--once exits 0" [ $? -eq 0 ]
check "--once prints the head and then the decision" \
    bash -c "grep -qE '^devnet: ok chain_id=31337 head=[0-9]+ ' '$T/once.out' &&
             grep -qE '^devnet: decision block=[0-9]+ tier=(T1|amber) reserve=[0-9.]+ critical=1000000 health=[0-9.e+-]+ price=130 price_state=fresh action=none ' '$T/once.out'"
"$ROOT/scripts/devnet" stop --state-dir "$T/bt" >/dev/null 2>&1

# ============================================================================
# 2. Black Thursday with an empty backstop pool: claw back
# ============================================================================
devnet_start empty black-thursday-2020 || { not_ok "devnet start (empty pool)"; exit 1; }
E_RPC=$(jq -r .rpc_http "$T/empty/devnet.json")
E_POOL=$(jq -r .contracts.backstop "$T/empty/devnet.json")
LP=0x90F79bf6EB2c4f870365E785982E1f101E93b906 # dev account 3, the pool's LP
SHARES=$(cast call -r "$E_RPC" "$E_POOL" "sharesOf(address)(uint256)" "$LP" | awk '{print $1}')
cast send -r "$E_RPC" --unlocked --from "$LP" "$E_POOL" "withdraw(uint256)" "$SHARES" >/dev/null
check "the pool's LP withdrew everything" [ "$(cast call -r "$E_RPC" "$E_POOL" "available()(uint256)")" = 0 ]
keeper_config empty
FROM=$(head_of empty)
keeper_start empty || { not_ok "the keeper did not evaluate the empty-pool devnet"; exit 1; }
"$ROOT/scripts/devnet" scenario black-thursday-2020 --state-dir "$T/empty" --speed 7200 \
    >"$T/empty-replay.out" 2>"$T/empty-replay.err"
check "the replay ran (empty pool)" [ $? -eq 0 ]
check "the keeper caught up, nothing in flight" wait_for 30 settled empty
status >"$T/empty-status.json"
node "$ROOT/tests/keeper/e2e_chain.js" "$T/empty/devnet.json" "$FROM" >"$T/empty-chain.json" 2>"$T/empty-chain.err"
C=$T/empty-chain.json
check "no injection from an empty pool" jqe '.injections == []' "$C"
check "the keeper clawed back (ClawbackTriggered, from the keeper)" \
    jqe '.keeper as $k | (.clawbacks | length >= 1) and all(.clawbacks[]; .from == $k)' "$C"
check "... only while the pool was empty" jqe 'all(.clawbacks[]; .pool_before == "0")' "$C"
check "... and recovered the uncovered debt" \
    jqe '.protocols[0].last_evaluation.uncovered_debt == "0"' "$T/empty-status.json"
check "one transaction per key, all mined" \
    jqe --slurpfile st "$T/empty-status.json" '
        ($st[0].protocols[0].actions | map(.tx_hash)) as $h |
        (.keeper_txs | length) == ($h | length) and all(.keeper_txs[]; .status == 1 and (.hash as $x | $h | index($x)))' "$C"
note "clawbacks (block, amount): $(jq -c '[.clawbacks[] | [.block, .amount]]' "$C")"
check "PagerDuty got the pool-empty condition" \
    bash -c "tail -n +2 '$T/alerts.jsonl' | jq -se 'any(.[]; .path == \"/pd/empty\" and .body.dedup_key == \"devnet/policy/pool_empty\" and .body.event_action == \"trigger\")' >/dev/null"
stop_pid "$KEEPER_PID"
KEEPER_PID=
"$ROOT/scripts/devnet" stop --state-dir "$T/empty" >/dev/null 2>&1

# ============================================================================
# 3. A calm day
# ============================================================================
devnet_start calm calm || { not_ok "devnet start (calm)"; exit 1; }
keeper_config calm
FROM=$(head_of calm)
keeper_start calm || { not_ok "the keeper did not evaluate the calm devnet"; exit 1; }
metrics >"$T/calm-metrics0.txt"
EVALS0=$(sed -n 's/^keeper_evaluations_total{protocol="devnet"} //p' "$T/calm-metrics0.txt")
[ -n "$EVALS0" ] || note "metrics: $(head -c 600 "$T/calm-metrics0.txt")"
"$ROOT/scripts/devnet" scenario calm --state-dir "$T/calm" --speed 18000 \
    >"$T/calm-replay.out" 2>"$T/calm-replay.err"
check "the calm replay ran" [ $? -eq 0 ]
check "the keeper caught up with the calm chain" wait_for 30 settled calm
EVALS1=$(metrics | sed -n 's/^keeper_evaluations_total{protocol="devnet"} //p')
note "evaluations: ${EVALS0:-?} before the calm replay, ${EVALS1:-?} after"
check "it kept evaluating during the calm day" [ "${EVALS1:-0}" -gt "${EVALS0:-0}" ]
node "$ROOT/tests/keeper/e2e_chain.js" "$T/calm/devnet.json" "$FROM" >"$T/calm-chain.json" 2>"$T/calm-chain.err"
check "calm: the keeper sent nothing (chain)" jqe '.keeper_txs == [] and .injections == [] and .clawbacks == []' "$T/calm-chain.json"
check "calm: no action in /status" bash -c "curl -s --max-time 2 http://127.0.0.1:$MPORT/status | jq -e '.protocols[0].actions == []' >/dev/null"
check "calm: the reserve stayed above critical (tier T1 or amber)" \
    bash -c "curl -s --max-time 2 http://127.0.0.1:$MPORT/status | jq -e '.protocols[0].last_evaluation.tier == \"T1\" or .protocols[0].last_evaluation.tier == \"amber\"' >/dev/null"
alerts /pd/calm >"$T/calm-pd.jsonl"
alerts /hook/calm >"$T/calm-hook.jsonl"
check "calm: nobody paged (PagerDuty got nothing)" [ ! -s "$T/calm-pd.jsonl" ]
check "calm: no critical alert and no action notice on the webhook" \
    jqe -s 'all(.[]; .body.severity != "critical" and .body.severity != "error" and (.body.key | startswith("action/") | not))' "$T/calm-hook.jsonl"
note "calm alerts on the webhook: $(jq -sc '[.[] | {status: .body.status, key: .body.key, severity: .body.severity}]' "$T/calm-hook.jsonl")"
