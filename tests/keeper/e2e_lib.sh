# e2e_lib.sh - shared by the keeper's end-to-end tests on the devnet
# (backstop_e2e.test.sh, e2e_*.test.sh); sourced, not run:
#
#   . "$(dirname "$0")/e2e_lib.sh"
#   e2e_severe NAME SCENARIO SPEED
#
# Sourcing it starts the alert receiver (tests/keeper/alert_receiver.js) and
# sets an EXIT trap that stops every process started here (by pid), prints
# the tally and fails the test if a check failed. e2e_severe replays one
# severe scenario (tests/scenarios/SCENARIO.csv) on a fresh devnet in $T/NAME
# with the keeper running, and checks: an injection from the keeper within
# two blocks of every crossing of the critical threshold (counted from the
# end of the step's burst, tests/keeper/e2e_chain.js), no clawback while
# the backstop pool could cover, one transaction per idempotency key
# (chain, /status and the journal agree) and, if the tier was paged,
# PagerDuty's trigger then resolve with the same dedup_key. The keeper is
# left running (KEEPER_PID) so that a caller can check more.
# KP_E2E_KEEP=1 keeps the temporary directory (logs, configs, chain facts).
set -u

: "${KEEPER:?KEEPER must name the keeper binary}"
ROOT=${KP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH="$ROOT/node_modules/.bin:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/kp-e2e-${E2E_NAME:-run}-XXXXXX")
export KP_DEVNET_CACHE=${KP_DEVNET_CACHE:-${KP_BUILD_DIR:-$T}/devnet-cache}
# PagerDuty routing keys are 32 characters; a made-up one for the receiver.
export KP_E2E_PD_KEY=e2etestroutingkey0123456789abcde
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
RECV_PID=
KEEPER_PID=
DEVNETS=()

note() { echo "# $*"; }
jqe() { jq -e "$@" >/dev/null; }

on_exit() {
    local d
    stop_pid "$KEEPER_PID"
    for d in "${DEVNETS[@]}"; do
        "$ROOT/scripts/devnet" stop --state-dir "$d" >/dev/null 2>&1
    done
    exec 7>&- 2>/dev/null
    stop_pid "$RECV_PID"
    if [ -s "$T/curl.err" ]; then
        echo "# curl errors:"
        sed 's/^/# /' "$T/curl.err"
    fi
    if [ "$failed" -ne 0 ]; then
        for f in "$T"/*.err; do
            [ -f "$f" ] || continue
            echo "# ---- last lines of $f"
            tail -n 25 "$f" | sed 's/^/# /'
        done
    fi
    if [ -n "${KP_E2E_KEEP:-}" ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---- the alert receiver -----------------------------------------------------
mkfifo "$T/recv.in"
node "$ROOT/tests/keeper/alert_receiver.js" <"$T/recv.in" >"$T/alerts.jsonl" 2>"$T/recv.err" &
RECV_PID=$!
exec 7>"$T/recv.in" # the receiver exits when its stdin closes
recv_port() { head -n 1 "$T/alerts.jsonl" | awk '$1 == "PORT" { print $2 }'; }
wait_for 10 bash -c "head -n 1 '$T/alerts.jsonl' | grep -q '^PORT '" ||
    { not_ok "the alert receiver did not start"; exit 1; }
RPORT=$(recv_port)

# alerts PATH: the JSON bodies the receiver got on PATH, one per line.
alerts() { tail -n +2 "$T/alerts.jsonl" | jq -c --arg p "$1" 'select(.path == $p)'; }

# ---- a devnet and a keeper on it ------------------------------------------

# devnet_start NAME SCENARIO: a devnet in $T/NAME seeded for SCENARIO.
devnet_start() {
    local dir=$T/$1
    DEVNETS+=("$dir")
    "$ROOT/scripts/devnet" start --state-dir "$dir" --scenario "$2" \
        --alert-webhook "http://127.0.0.1:$RPORT/hook/$1" >"$T/$1-start.out" 2>"$T/$1-start.err"
}

# The alerts section of the test: PagerDuty (critical only, as an on-call
# rotation would take) and the generic webhook (everything).
alerts_yaml() { # NAME
    cat <<EOF
alerts:
  channels:
    - name: oncall
      type: pagerduty
      url: http://127.0.0.1:$RPORT/pd/$1
      routing_key: \${env:KP_E2E_PD_KEY}
      min_severity: critical
    - name: hook
      type: webhook
      url: http://127.0.0.1:$RPORT/hook/$1
      min_severity: info
EOF
}

# A config from devnet.json alone (examples/reference-protocol.yaml), for a
# devnet that does not write keeper.yaml.
config_from_json() { # DIR
    local j=$1/devnet.json
    cat <<EOF
protocol:
  name: devnet
chain:
  chain_id: $(jq -r .chain_id "$j")
  rpc:
    - name: anvil
      url: $(jq -r .rpc_http "$j")
  poll_interval: 250ms
  confirmations: 1
signer:
  key_file: $(jq -r .keeper_key_file "$j")
  min_balance: 1ether
oracles:
  - name: eth_usd
    address: $(jq -r .contracts.feed "$j")
    asset: ETH/USD
    max_age: 3h
    heartbeat: 10s
reserve:
  contracts:
    reserve: $(jq -r .contracts.reserve "$j")
    clearinghouse: $(jq -r .contracts.clearinghouse "$j")
    backstop: $(jq -r .contracts.backstop "$j")
  decimals: 6
strategies:
  inject:
    epoch_budget: 5000000e6
    cooldown: 1s
  clawback:
    enabled: true
    cooldown: 1s
    require_approval: false
tx:
  max_fee: 100gwei
metrics:
  listen: 127.0.0.1:0
EOF
}

# keeper_config NAME: $T/NAME.yaml, the devnet's own keeper.yaml (or one
# from devnet.json) with the test's alert channels.
keeper_config() {
    local dir=$T/$1 out=$T/$1.yaml
    if [ -f "$dir/keeper.yaml" ]; then
        # Drop the top-level alerts section; keep everything else as written.
        awk '/^[a-z]/ { skip = ($0 ~ /^alerts:/) } !skip' "$dir/keeper.yaml" >"$out"
    else
        note "$1: the devnet wrote no keeper.yaml; config from devnet.json"
        config_from_json "$dir" >"$out"
    fi
    alerts_yaml "$1" >>"$out"
    # A port picked now, not when the devnet started: other tests on the
    # machine pick ports too.
    MPORT=$(free_port)
    sed -i "s/^  listen: .*/  listen: 127.0.0.1:$MPORT/" "$out"
}

status() { curl -sS --max-time 2 "http://127.0.0.1:$MPORT/status" 2>>"$T/curl.err"; }
metrics() { curl -sS --max-time 2 "http://127.0.0.1:$MPORT/metrics" 2>>"$T/curl.err"; }
evaluated() { status | jq -e '.protocols[0].last_evaluation.block >= 0' >/dev/null 2>&1; }
head_of() { cast block-number -r "$(jq -r .rpc_http "$T/$1/devnet.json")"; }

alive() { kill -0 "$KEEPER_PID" 2>/dev/null; }
# Our keeper (not another one on the port) is serving: it logged the bind.
listening() { # NAME
    alive && grep -qF "httpd: listening address=127.0.0.1 port=$MPORT" "$T/$1-keeper.err"
}

keeper_start() { # NAME
    "$KEEPER" run -c "$T/$1.yaml" --state-dir "$T/$1-state" >"$T/$1-keeper.out" 2>"$T/$1-keeper.err" &
    KEEPER_PID=$!
    wait_for 20 listening "$1" && wait_for 20 evaluated
}

# The keeper has evaluated the chain's head and has nothing in flight.
settled() { # NAME
    local head
    head=$(head_of "$1") || return 1
    status | jq -e --argjson h "$head" '.protocols[0] |
        .last_evaluation.block >= $h and
        ([.actions[] | select(.state == "sent" or .state == "replaced")] | length == 0)' >/dev/null 2>&1
}

# e2e_severe NAME SCENARIO SPEED: replay SCENARIO at SPEED (scenario seconds
# per wall second; one step per second is the step's length in seconds) on
# a devnet in $T/NAME with the keeper on it, and check what it did. Leaves
# $T/NAME-{status,metrics,chain,pd,hook}.* for further checks.
e2e_severe() {
    local n=$1 sc=$2 speed=$3 start from c s journal
    devnet_start "$n" "$sc" || { not_ok "devnet start ($sc)"; exit 1; }
    ok "devnet started for $sc"
    keeper_config "$n"
    check "keeper.yaml with the test's alert channels passes check-config" \
        bash -c "'$KEEPER' check-config -c '$T/$n.yaml' >/dev/null"
    from=$(head_of "$n")
    keeper_start "$n" || { not_ok "the keeper did not evaluate the devnet"; exit 1; }
    ok "the keeper evaluates the devnet"
    status >"$T/$n-status0.json"
    check "before the crash: no action, reserve above critical" \
        jqe '.protocols[0].last_evaluation | .decision.action == "none" and (.tier == "T1" or .tier == "amber")' "$T/$n-status0.json" ||
        note "status: $(cat "$T/$n-status0.json")"

    start=$SECONDS
    "$ROOT/scripts/devnet" scenario "$sc" --state-dir "$T/$n" --speed "$speed" \
        >"$T/$n-replay.out" 2>"$T/$n-replay.err"
    check "the replay ran" [ $? -eq 0 ]
    note "replay: $(tail -n 1 "$T/$n-replay.out") (wall $((SECONDS - start))s)"
    check "the keeper caught up with the chain, nothing in flight" wait_for 30 settled "$n"
    status >"$T/$n-status.json"
    metrics >"$T/$n-metrics.txt"
    node "$ROOT/tests/keeper/e2e_chain.js" "$T/$n/devnet.json" "$from" >"$T/$n-chain.json" 2>"$T/$n-chain.err"
    check "the chain was read" [ -s "$T/$n-chain.json" ]

    c=$T/$n-chain.json
    s=$T/$n-status.json
    check "the reserve crossed below critical during the replay" \
        jqe '.crossings | length >= 1' "$c"
    check "the keeper injected (BackstopInjected events)" \
        jqe '.injections | length >= 1' "$c"
    check "every injection was sent by the keeper's address" \
        jqe '.keeper as $k | all(.injections[]; .from == $k)' "$c"
    check "every crossing below critical got an injection within two blocks" \
        jqe 'all(.crossings[]; .wait_blocks != null and .wait_blocks <= 2)' "$c"
    note "crossings (block, end of the step's burst, inject block, wait): $(jq -c '[.crossings[] | [.block, .burst_end, .inject_block, .wait_blocks]]' "$c")"
    check "no clawback while the backstop pool could cover" \
        jqe 'all(.clawbacks[]; .pool_before == "0")' "$c"
    note "clawbacks: $(jq -c '.clawbacks' "$c")"
    check "every keeper transaction was mined successfully" \
        jqe 'all(.keeper_txs[]; .status == 1)' "$c"
    check "one keeper transaction per nonce (no replacement was needed)" \
        jqe '[.keeper_txs[].nonce] | length == (unique | length)' "$c"
    check "/status lists each action once, every one confirmed" \
        jqe '.protocols[0].actions | length >= 1 and ([.[].key] | length == (unique | length)) and all(.[]; .state == "confirmed")' "$s"
    check "every mined keeper transaction belongs to exactly one /status key" \
        jqe --slurpfile st "$s" '
            ([$st[0].protocols[0].actions[] | {key: .key, h: .tx_hash}]) as $acts |
            all(.keeper_txs[]; .hash as $h | [$acts[] | select(.h == $h)] | length == 1) and
            (.keeper_txs | length) == ($acts | length)' "$c"
    journal=$T/$n-state/devnet.journal
    check "the journal holds one nonce per idempotency key" \
        bash -c "[ -s '$journal' ] && awk '{ n[\$2 \" \" \$3]++; k[\$2]++ } END { for (x in k) c++; for (y in n) d++; exit !(c == d) }' '$journal'"
    check "the journal matches /status (same keys)" \
        bash -c "diff <(awk '{print \$2}' '$journal' | sort -u) <(jq -r '.protocols[0].actions[].key' '$s' | sort -u)"

    # Paging: a tier trigger (if one was raised), then its resolve with the
    # same dedup_key. The resolve follows the evaluation that saw the
    # reserve restored; wait for it rather than assume it was delivered.
    alerts "/pd/$n" >"$T/$n-pd.jsonl"
    if jqe -s 'any(.[]; .body.event_action == "trigger" and .body.dedup_key == "devnet/tier")' "$T/$n-pd.jsonl"; then
        check "PagerDuty: the tier trigger, then its resolve with the same dedup_key" \
            wait_for 10 e2e_pd_resolved "$n"
    else
        note "$sc: no tier page was raised"
    fi
    alerts "/pd/$n" >"$T/$n-pd.jsonl"
    alerts "/hook/$n" >"$T/$n-hook.jsonl"
    check "every request to the receivers had the documented shape" \
        jqe -s 'all(.[]; .errors == [] and .status < 300)' "$T/$n-pd.jsonl" "$T/$n-hook.jsonl"
    note "injections: $(jq -c '[.injections[] | {block, amount}]' "$c")"
}

# e2e_pd_resolved NAME: PagerDuty got "devnet/tier" triggered and, after
# the trigger, resolved.
e2e_pd_resolved() {
    alerts "/pd/$1" | jq -se '[.[] | select(.body.dedup_key == "devnet/tier") | .body.event_action] |
        index("trigger") as $t | rindex("resolve") as $r | $t != null and $r != null and $r > $t' >/dev/null
}
