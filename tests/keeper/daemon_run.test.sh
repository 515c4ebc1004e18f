#!/usr/bin/env bash
# keeper run against anvil: config errors, --once, the HTTP endpoints
# (/healthz, /readyz, /metrics checked by promtool, /status), SIGHUP with a
# broken and with a changed config, a moved metrics address, a dead and a
# restarted node, and SIGTERM. Every process is started here and stopped
# by pid; conditions are waited for with bounded polls, never fixed sleeps.
set -u

: "${KEEPER:?KEEPER must name the keeper binary}"
ROOT=${KP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PATH="$ROOT/node_modules/.bin:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/kp-daemon-XXXXXX")
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
ANVIL_PID=
KEEPER_PID=

on_exit() {
    stop_pid "$KEEPER_PID"
    stop_pid "$ANVIL_PID"
    rm -rf "$T"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# http PORT PATH: body in $T/body, status code on stdout.
http() {
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

log_has() { grep -qF -- "$1" "$T/keeper.err"; }
alive() { kill -0 "$KEEPER_PID" 2>/dev/null; }

ANVIL_PORT=$(free_port)
MPORT=$(free_port)
# Anvil's well-known dev account #1 (public test key, never a real one).
KEY_HEX=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
KEY_ADDR=0x70997970C51812dc3A010C7d01b50e0d17dc79C8
(umask 077 && echo "$KEY_HEX" >"$T/key")

# ---- configuration errors: FILE:LINE:COL lines, exit 1 --------------------
write_config "$T/bad.yaml"
sed -i -e 's/^  chain_id: 31337/  chain_id: 0/' -e 's/^  poll_interval:/  poll_intervall:/' "$T/bad.yaml"
"$KEEPER" run -c "$T/bad.yaml" >"$T/bad.out" 2>"$T/bad.err"
check "run with a bad config exits 1" [ $? -eq 1 ]
check "bad config: an error line for chain_id" \
    grep -qE "^$T/bad.yaml:4:[0-9]+: chain.chain_id: " "$T/bad.err"
check "bad config: an error line for the unknown key" \
    grep -qE "^$T/bad.yaml:8:[0-9]+: .*unknown key 'poll_intervall'" "$T/bad.err"
"$KEEPER" run >/dev/null 2>&1
check "run without -c is a usage error (2)" [ $? -eq 2 ]
"$KEEPER" run -c "$T/bad.yaml" --log-level loud >/dev/null 2>&1
check "run with a bad --log-level is a usage error (2)" [ $? -eq 2 ]

# ---- the node -------------------------------------------------------------
start_anvil || { not_ok "anvil did not start"; exit 1; }
write_config "$T/keeper.yaml"
cp "$T/keeper.yaml" "$T/keeper.good"

# ---- --once ---------------------------------------------------------------
"$KEEPER" run -c "$T/keeper.yaml" --once --dry-run >"$T/once.out" 2>"$T/once.err"
check "--once exits 0" [ $? -eq 0 ]
check "--once prints the head" \
    grep -qE "^test: ok chain_id=31337 head=[0-9]+ hash=0x[0-9a-f]{64} .*endpoint=anvil signer=$KEY_ADDR$" "$T/once.out"
check "--dry-run is logged" grep -qF "dry run: no transaction will be sent" "$T/once.err"
check "the signer address and source are logged" \
    grep -qE "signing key loaded .*address=$KEY_ADDR source=key_file" "$T/once.err"

"$KEEPER" run -c "$T/keeper.yaml" --once --log-format json >"$T/json.out" 2>"$T/json.err"
check "--once --log-format json exits 0" [ $? -eq 0 ]
check "--log-format json writes JSON lines" \
    jq -e -s 'length > 0 and all(.[]; .level and .module and .msg)' "$T/json.err" >/dev/null

CHAIN_ID=1 write_config "$T/wrongchain.yaml"
"$KEEPER" run -c "$T/wrongchain.yaml" --once >"$T/wrong.out" 2>"$T/wrong.err"
check "--once against the wrong chain exits 1" [ $? -eq 1 ]
check "--once reports the chain id mismatch" grep -qF "test: failed: chain id mismatch" "$T/wrong.out"

# -c DIR: one protocol per file, each reported; one failure fails the run.
mkdir -p "$T/dir"
cp "$T/key" "$T/dir/key"
PROTO_NAME=alpha write_config "$T/dir/a.yaml"
PROTO_NAME=beta write_config "$T/dir/b.yaml"
"$KEEPER" run -c "$T/dir" --once >"$T/dir.out" 2>"$T/dir.err"
check "--once -c DIR exits 0" [ $? -eq 0 ]
check "--once -c DIR reports each protocol" \
    bash -c "grep -q '^alpha: ok ' '$T/dir.out' && grep -q '^beta: ok ' '$T/dir.out'"
CHAIN_ID=5 PROTO_NAME=beta write_config "$T/dir/b.yaml"
"$KEEPER" run -c "$T/dir" --once >"$T/dir2.out" 2>"$T/dir2.err"
check "--once -c DIR with one failing protocol exits 1" [ $? -eq 1 ]
check "... and still reports the other one" \
    bash -c "grep -q '^alpha: ok ' '$T/dir2.out' && grep -q '^beta: failed: chain id mismatch' '$T/dir2.out'"

sed 's/^  key_file: key/  key_env: KP_TEST_KEY/' "$T/keeper.yaml" >"$T/envkey.yaml"
KP_TEST_KEY=$KEY_HEX "$KEEPER" run -c "$T/envkey.yaml" --once >"$T/env.out" 2>"$T/env.err"
check "--once with a key from the environment exits 0" [ $? -eq 0 ]
check "a key from the environment is warned about" \
    grep -qE "WARN .*signing key taken from the environment" "$T/env.err"

# ---- the daemon -----------------------------------------------------------
"$KEEPER" run -c "$T/keeper.yaml" >"$T/keeper.out" 2>"$T/keeper.err" &
KEEPER_PID=$!

check "/healthz answers 200" wait_for 10 http_is "$MPORT" /healthz 200
check "/readyz becomes 200 once a head arrives" wait_for 10 http_is "$MPORT" /readyz 200
check "becoming ready is logged" wait_for 5 log_has "INFO  keeper: ready"

# rpc counters are copied into the registry every second: wait for them.
scrape() { curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"; }
scraped() { scrape && grep -qE "$1" "$T/metrics.txt"; }
check "/metrics counts requests per endpoint name" \
    wait_for 5 scraped '^keeper_rpc_requests_total\{endpoint="anvil",method="all"\} [1-9][0-9]*$'
check "/metrics passes promtool check metrics" promtool check metrics <"$T/metrics.txt"
check "/metrics has the head block" grep -qE '^keeper_head_block\{chain="31337"\} [0-9]+$' "$T/metrics.txt"
check "/metrics has the head age" grep -qE '^keeper_head_age_seconds\{chain="31337"\} [0-9]+$' "$T/metrics.txt"
check "/metrics has the latency histogram" \
    grep -qE '^keeper_rpc_latency_seconds_count\{endpoint="anvil"\} [1-9][0-9]*$' "$T/metrics.txt"
check "/metrics has error counters by class" \
    grep -qE '^keeper_rpc_errors_total\{endpoint="anvil",class="transport"\} 0$' "$T/metrics.txt"
check "/metrics never shows the endpoint URL" bash -c "! grep -qF ':$ANVIL_PORT' '$T/metrics.txt'"

head_block() {
    curl -s --max-time 2 "http://127.0.0.1:$MPORT/metrics" |
        awk '/^keeper_head_block\{/ {print $2}'
}
first=$(head_block)
head_moved() { [ "$(head_block)" -gt "${first:-0}" ] 2>/dev/null; }
check "the head follows the chain (block time 1s)" wait_for 10 head_moved

http "$MPORT" /status >/dev/null
cp "$T/body" "$T/status.json"
check "/status is JSON with the head" \
    jq -e '.protocols[0].head.number >= 0 and (.protocols[0].head.hash | test("^0x[0-9a-f]{64}$")) and (.protocols[0].head.age_s >= 0)' "$T/status.json" >/dev/null
check "/status has version, uptime and readiness" \
    jq -e '(.version | length > 0) and .uptime_s >= 0 and .ready == true and .dry_run == false' "$T/status.json" >/dev/null
check "/status has the protocol, chain id and signer" \
    jq -e --arg a "$KEY_ADDR" '.protocols[0].name == "test" and .protocols[0].chain_id == 31337 and .protocols[0].signer.address == $a' "$T/status.json" >/dev/null
check "/status lists the endpoint by name, healthy" \
    jq -e '.protocols[0].endpoints[0] | .name == "anvil" and .healthy == true and .lagging == false and .head >= 0 and .latency_ms >= 0 and .errors == 0' "$T/status.json" >/dev/null
check "/status has the evaluation placeholder" \
    jq -e '.protocols[0] | has("last_evaluation")' "$T/status.json" >/dev/null

# ---- SIGHUP with a broken config: logged, old config kept -----------------
sed -i 's/^  chain_id: 31337/  chain_id: 0/' "$T/keeper.yaml"
kill -HUP "$KEEPER_PID"
check "SIGHUP with a broken config logs that it keeps the old one" \
    wait_for 10 log_has "reload failed; keeping the current configuration"
check "... with the FILE:LINE:COL error line" \
    grep -qE "ERROR config: configuration error error=\"$T/keeper.yaml:4:[0-9]+: chain.chain_id: " "$T/keeper.err"
check "... and keeps running" alive
check "... and stays ready" http_is "$MPORT" /readyz 200

# ---- SIGHUP with a changed valid config -----------------------------------
write_config "$T/keeper.yaml" "log:
  level: debug"
kill -HUP "$KEEPER_PID"
check "SIGHUP with a valid config logs the reload" wait_for 10 log_has "configuration reloaded"
check "... and applies it (debug lines now)" wait_for 10 grep -qE "DEBUG .*new head" "$T/keeper.err"
check "... and becomes ready again" wait_for 10 http_is "$MPORT" /readyz 200
check "... and /status counts the reload" \
    bash -c "curl -s --max-time 2 http://127.0.0.1:$MPORT/status | jq -e '.reloads == 1' >/dev/null"

# ---- SIGHUP with a new metrics address: the server moves ------------------
MPORT2=$(free_port)
LISTEN_PORT=$MPORT2 write_config "$T/keeper.yaml"
kill -HUP "$KEEPER_PID"
check "SIGHUP with a new listen address serves there" wait_for 10 http_is "$MPORT2" /healthz 200
check "... and no longer on the old one" wait_for 10 http_is "$MPORT" /healthz 000
MPORT=$MPORT2

# ---- the node dies, then comes back ---------------------------------------
stop_pid "$ANVIL_PID"
wait "$ANVIL_PID" 2>/dev/null
ANVIL_PID=
check "/readyz turns 503 when the node is gone" wait_for 20 http_is "$MPORT" /readyz 503
check "... with a one-line reason naming the protocol" \
    bash -c "[ \$(wc -l <'$T/body') -eq 1 ] && grep -qE '^test: ' '$T/body'"
check "... while /healthz stays 200" http_is "$MPORT" /healthz 200
check "... and the failure is logged" wait_for 10 log_has "cannot get the latest head"
check "... and so is the loss of readiness, with its reason" \
    wait_for 5 grep -qE "WARN  keeper: not ready reason=\"test: " "$T/keeper.err"
check "... and counted as transport errors" \
    wait_for 5 scraped '^keeper_rpc_errors_total\{endpoint="anvil",class="transport"\} [1-9]'
check "... in metrics that still pass promtool" promtool check metrics <"$T/metrics.txt"
start_anvil || not_ok "anvil did not restart"
check "/readyz is 200 again once the node is back" wait_for 30 http_is "$MPORT" /readyz 200

# ---- SIGTERM --------------------------------------------------------------
kill -TERM "$KEEPER_PID"
stopped() { ! alive; }
check "SIGTERM stops the daemon within 5s" wait_for 5 stopped
wait "$KEEPER_PID"
check "... with exit status 0" [ $? -eq 0 ]
KEEPER_PID=
check "... after logging the stop" log_has "stopped"

# ---- secrets --------------------------------------------------------------
check "the private key appears in no output" \
    bash -c "! cat '$T'/*.out '$T'/*.err | grep -qi '$KEY_HEX'"
