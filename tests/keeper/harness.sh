# harness.sh - what the keeper's script tests share: pass/fail counters and
# checks, stopping a process by pid, a free loopback port, bounded
# polling for a condition, and a keeper config for a local anvil.
# Sourced, not run; the caller prints
# "$passed passed, $failed failed" from its own EXIT trap.

passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

stop_pid() { # PID: TERM, then KILL if it lingers
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
}

free_port() {
    node -e 'const s=require("net").createServer();
             s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # SECONDS COMMAND...: until the command succeeds, or give up
    local limit=$1 i
    shift
    for i in $(seq 1 $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# write_config FILE [EXTRA YAML LINES]: the minimal example pointed at the
# test's anvil ($ANVIL_PORT) and metrics port ($LISTEN_PORT, else $MPORT),
# signing with the key file "key" beside FILE. Optional: PROTO_NAME,
# CHAIN_ID, POLL_INTERVAL (default 200ms), WS_URL (adds a chain.ws
# endpoint named anvil-ws).
write_config() {
    local f=$1 ws=""
    if [ -n "${WS_URL:-}" ]; then
        ws="  ws:
    - name: anvil-ws
      url: $WS_URL
"
    fi
    cat >"$f" <<EOF
protocol:
  name: ${PROTO_NAME:-test}
chain:
  chain_id: ${CHAIN_ID:-31337}
  rpc:
    - name: anvil
      url: http://127.0.0.1:$ANVIL_PORT
${ws}  poll_interval: ${POLL_INTERVAL:-200ms}
  request_timeout: 1s
signer:
  key_file: key
  min_balance: 0.1ether
oracles:
  - name: eth_usd
    address: 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512
    asset: ETH/USD
    max_age: 2h
    heartbeat: 1h
reserve:
  contracts:
    reserve: 0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0
    clearinghouse: 0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9
    backstop: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9
strategies:
  inject:
    epoch_budget: 100000e6
metrics:
  listen: 127.0.0.1:${LISTEN_PORT:-$MPORT}
${2:-}
EOF
}
