#!/usr/bin/env bash
# keeper run against anvil with a WebSocket endpoint: heads come over
# eth_subscribe (/status events.transport "ws", live), readiness, the head
# follows the chain; the node dies and comes back on the same port: the
# WebSocket reconnects (keeper_ws_reconnects_total grows) and readiness
# returns. Every process is started here and stopped by pid; conditions are
# waited for with bounded polls.
set -u

: "${KEEPER:?KEEPER must name the keeper binary}"
ROOT=${KP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH="$ROOT/node_modules/.bin:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/kp-daemon-ws-XXXXXX")
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
ANVIL_PID=
KEEPER_PID=

on_exit() {
    stop_pid "$KEEPER_PID"
    stop_pid "$ANVIL_PID"
    if [ "$failed" -ne 0 ] && [ -f "$T/keeper.err" ]; then
        echo "# keeper log (tail):"
        tail -n 40 "$T/keeper.err" | sed 's/^/# /'
    fi
    rm -rf "$T"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

http() { # PORT PATH: body in $T/body, status code on stdout
    curl -s --max-time 2 -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$1$2"
}
http_is() { [ "$(http "$1" "$2")" = "$3" ]; }

start_anvil() {
    anvil --host 127.0.0.1 --port "$ANVIL_PORT" --block-time 1 --silent \
        >"$T/anvil.log" 2>&1 &
    ANVIL_PID=$!
    wait_for 20 curl -s --max-time 1 -o /dev/null -H 'Content-Type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
        "http://127.0.0.1:$ANVIL_PORT"
}

ANVIL_PORT=$(free_port)
MPORT=$(free_port)
# Anvil's well-known dev account #1 (public test key, never a real one).
KEY_HEX=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
(umask 077 && echo "$KEY_HEX" >"$T/key")

# Polling is slow on purpose: heads that keep up with the 1 s block time
# can only have come over the WebSocket.
WS_URL=ws://127.0.0.1:$ANVIL_PORT POLL_INTERVAL=5s write_config "$T/keeper.yaml"

start_anvil || { not_ok "anvil did not start"; exit 1; }

"$KEEPER" run -c "$T/keeper.yaml" >"$T/keeper.out" 2>"$T/keeper.err" &
KEEPER_PID=$!

status_is() { # JQ-EXPRESSION: /status satisfies it
    curl -s --max-time 2 "http://127.0.0.1:$MPORT/status" >"$T/status.json" &&
        jq -e "$1" "$T/status.json" >/dev/null
}
scrape() { curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"; }
scraped() { scrape && grep -qE "$1" "$T/metrics.txt"; }
reconnects() {
    scrape && awk '/^keeper_ws_reconnects_total\{endpoint="anvil-ws"\}/ {print $2}' "$T/metrics.txt"
}
head_block() {
    curl -s --max-time 2 "http://127.0.0.1:$MPORT/status" | jq -r '.protocols[0].head.number // 0'
}
head_moved_by() { [ "$(head_block)" -ge $((first + $1)) ] 2>/dev/null; }

check "/readyz becomes 200 with heads over the WebSocket" \
    wait_for 15 http_is "$MPORT" /readyz 200
check "/status: events over ws, live" \
    wait_for 10 status_is '.protocols[0].events | .transport == "ws" and .live == true and .reconnects == 0 and .backfilled_logs >= 0 and .reorgs >= 0'
check "/status: the head names the WebSocket endpoint, never its path" \
    status_is ".protocols[0].head.endpoint == \"ws://127.0.0.1:$ANVIL_PORT\""
# Sampled for 4 s: polling every 5 s shows at most two distinct heads in
# that time, the WebSocket one per block (block time 1 s).
distinct_heads() {
    local i
    for i in $(seq 1 20); do
        head_block
        sleep 0.2
    done | sort -u | wc -l
}
check "the head follows the chain block by block" [ "$(distinct_heads)" -ge 3 ]
check "/metrics has keeper_ws_reconnects_total for the ws endpoint" \
    wait_for 5 scraped '^keeper_ws_reconnects_total\{endpoint="anvil-ws"\} 0$'
check "/metrics has keeper_backfilled_logs_total for the chain" \
    grep -qE '^keeper_backfilled_logs_total\{chain="31337"\} [0-9]+$' "$T/metrics.txt"
check "/metrics passes promtool check metrics" promtool check metrics <"$T/metrics.txt"
check "the log says heads come over ws" \
    grep -qE 'following heads and logs .*transport=ws' "$T/keeper.err"

# ---- the node dies, then comes back on the same port ----------------------
stop_pid "$ANVIL_PID"
wait "$ANVIL_PID" 2>/dev/null
ANVIL_PID=
check "/status: events no longer live once the node is gone" \
    wait_for 20 status_is '.protocols[0].events.live == false'
check "/readyz turns 503 while the node is gone" wait_for 50 http_is "$MPORT" /readyz 503
start_anvil || not_ok "anvil did not restart"
reconnected() { [ "$(reconnects)" -ge 1 ] 2>/dev/null; }
check "keeper_ws_reconnects_total grows after the node is back" wait_for 30 reconnected
check "/status: live again, with the reconnect counted" \
    wait_for 20 status_is '.protocols[0].events | .transport == "ws" and .live == true and .reconnects >= 1'
check "/readyz is 200 again" wait_for 30 http_is "$MPORT" /readyz 200
first=$(head_block)
check "the head follows the new chain" wait_for 10 head_moved_by 2

# ---- SIGTERM --------------------------------------------------------------
kill -TERM "$KEEPER_PID"
stopped() { ! kill -0 "$KEEPER_PID" 2>/dev/null; }
check "SIGTERM stops the daemon within 5s" wait_for 5 stopped
wait "$KEEPER_PID"
check "... with exit status 0" [ $? -eq 0 ]
KEEPER_PID=
check "the private key appears in no output" \
    bash -c "! cat '$T'/*.out '$T'/*.err | grep -qi '$KEY_HEX'"
