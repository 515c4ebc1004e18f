#!/usr/bin/env bash
# Two protocols on one chain that sign with the same key would take the
# same nonces: `keeper run` refuses to start, naming both. The same key
# on different chains, or with --dry-run (nothing is sent), starts (each
# run is stopped once it is past start-up). Needs no node: the check
# comes before any connection.
set -u
. "$KP_SOURCE_DIR/tests/keeper/harness.sh"
T=$(mktemp -d)
pid=""
trap 'stop_pid "$pid"; rm -rf "$T"; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ] || exit 1' EXIT

# anvil's first well-known development key
export KEEPER_PRIVATE_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
port=$(free_port)
mport=$(free_port)

config() { # NAME CHAIN_ID: examples/minimal.yaml renamed, on its own chain
    sed -e "s/name: minimal/name: $1/" -e "s/chain_id: 31337/chain_id: $2/" \
        -e "s|http://127.0.0.1:8545|http://127.0.0.1:$port|" \
        "$KP_SOURCE_DIR/examples/minimal.yaml"
    printf 'metrics:\n  listen: 127.0.0.1:%s\n' "$mport"
}

mkdir "$T/same" "$T/apart"
config alpha 31337 >"$T/same/alpha.yaml"
config beta 31337 >"$T/same/beta.yaml"
config alpha 31337 >"$T/apart/alpha.yaml"
config beta 1 >"$T/apart/beta.yaml"

check "the configurations are valid" "$KEEPER" check-config -c "$T/same"

"$KEEPER" run -c "$T/same" >"$T/same.out" 2>&1
rc=$?
check "same key on one chain: exit status 1 (got $rc)" test "$rc" -eq 1
check "the error names both protocols and the chain" \
    grep -q "protocols alpha and beta sign with the same key (0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266) on chain 31337" "$T/same.out"
check "the key itself is not printed" \
    sh -c "! grep -q ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 '$T/same.out'"

started() { # OUT: past start-up, both keys loaded, no clash
    grep -q "following heads" "$1" && grep -q "protocol=beta" "$1" &&
        ! grep -q "same nonces" "$1"
}
starts() { # NAME DIR [ARGS...]
    local name=$1 dir=$2
    shift 2
    "$KEEPER" run -c "$dir" "$@" >"$T/$name.out" 2>&1 &
    pid=$!
    check "$name: the daemon starts" wait_for 20 started "$T/$name.out"
    check "$name: ... and is still running" kill -0 "$pid"
    stop_pid "$pid"
    pid=""
}
starts apart "$T/apart"
starts dry-run "$T/same" --dry-run
