#!/usr/bin/env bash
# DIR/keeper.yaml, written by `scripts/devnet start`: `keeper check-config`
# accepts it as is, `keeper run --once` evaluates against the devnet with
# it, and `keeper run` becomes ready on the metrics port recorded in
# devnet.json. It names this devnet's endpoints, contracts and key file;
# an --alert-webhook becomes a webhook channel (inline on loopback, a
# 0600 file reference otherwise); the oracle's max_age outlasts the longest
# step of the started scenario, for every scenario.
. "$(dirname "$0")/lib.sh"

: "${KEEPER:?KEEPER must name the keeper binary}"
# lib.sh's load_devnet sets KEEPER to the keeper's address.
KBIN=$KEEPER
KEEPER_PID=

stop_keeper() {
    local i
    [ -n "$KEEPER_PID" ] || return 0
    kill "$KEEPER_PID" 2>/dev/null
    for i in $(seq 1 50); do
        kill -0 "$KEEPER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$KEEPER_PID" 2>/dev/null
    KEEPER_PID=
}
trap 'rc=$?; stop_keeper; (exit $rc); on_exit' EXIT

# wait_for SECONDS COMMAND...: until the command succeeds, or give up.
wait_for() {
    local limit=$1 i
    shift
    for i in $(seq 1 $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# quiet COMMAND...: its output only when it fails.
quiet() {
    "$@" >"$TMP/quiet.out" 2>&1 && return 0
    sed 's/^/    /' "$TMP/quiet.out" | head -n 10
    return 1
}

# yaml_value FILE KEY: the first "KEY: value" in FILE, comment stripped.
yaml_value() { sed -n "s/^ *$2: *\([^ #][^ #]*\).*/\1/p" "$1" | head -n 1; }

# The generator on its own, for a devnet.json and scenario NAME into DIR,
# with an optional webhook URL.
gen_config() {
    local dir=$1 name=$2 url=${3:-}
    mkdir -p "$dir"
    node -e '
        const [root, info, dir, name, url] = process.argv.slice(1);
        const { writeKeeperConfig } = require(root + "/scripts/devnet-lib/keeperconfig.js");
        const { loadScenario } = require(root + "/scripts/devnet-lib/scenario.js");
        const devnet = JSON.parse(require("fs").readFileSync(info, "utf8"));
        writeKeeperConfig(dir, devnet, loadScenario(root, name), url || undefined)
            .catch((e) => { console.error(e.message); process.exit(1); });' \
        "$ROOT" "$STATE/devnet.json" "$dir" "$name" "$url"
}

HOOK=http://127.0.0.1:9/hook/devnet-test
start_devnet "$STATE" --scenario black-thursday-2020 --alert-webhook "$HOOK" ||
    die "devnet start: $(tail -n 3 "$STATE.start.err")"
load_devnet "$STATE"
CFG=$STATE/keeper.yaml

# ---- what start wrote ----------------------------------------------------
check "start writes keeper.yaml" test -s "$CFG"
check "keeper check-config accepts it as is" quiet "$KBIN" check-config -c "$CFG"
MPORT=$(jq -r '.metrics_port // empty' "$STATE/devnet.json")
check "devnet.json records metrics_port ($MPORT)" grep -qE '^[0-9]+$' <<<"$MPORT"
check "start prints metrics_port too" test "$(jq -r .metrics_port "$STATE.start.out")" = "$MPORT"
check "metrics listen on loopback at metrics_port" test "$(yaml_value "$CFG" listen)" = "127.0.0.1:$MPORT"
check "metrics port is not the node's" test "$MPORT" != "${RPC##*:}"
check "rpc url is the devnet's" grep -qF "url: $RPC" "$CFG"
check "ws url is the devnet's" grep -qF "url: $WS" "$CFG"
check "chain id 31337" test "$(yaml_value "$CFG" chain_id)" = 31337
KEYFILE=$(jq -r .keeper_key_file "$STATE/devnet.json")
check "signer is the devnet's key file, absolute" test "$(yaml_value "$CFG" key_file)" = "$KEYFILE"
check "...an absolute path" grep -q '^/' <<<"$(yaml_value "$CFG" key_file)"
for pair in "address:$FEED" "reserve:$RESERVE" "clearinghouse:$CH" "backstop:$POOL"; do
    k=${pair%%:*}
    check "$k is the devnet's contract" test "$(yaml_value "$CFG" "$k" | tr A-F a-f)" = "$(tr A-F a-f <<<"${pair#*:}")"
done
check "protocol is named devnet" test "$(yaml_value "$CFG" name)" = devnet
check "oracle prices ETH/USD for Black Thursday" test "$(yaml_value "$CFG" asset)" = ETH/USD
check "max_age: the 2 h step + 1 h (3h)" test "$(yaml_value "$CFG" max_age)" = 3h
check "webhook channel to --alert-webhook, inline (loopback)" grep -qF "url: $HOOK" "$CFG"
check "one webhook channel" test "$(grep -c 'type: webhook' "$CFG")" = 1
check "inject enabled with the pool as epoch budget" test "$(yaml_value "$CFG" epoch_budget)" = 5000000e6
check "no secret inline: no key material in keeper.yaml" \
    bash -c "! grep -qiF \"\$(tr -d '\n' <'$KEYFILE' | sed 's/^0x//')\" '$CFG'"
"$KBIN" print-config -c "$CFG" >"$TMP/print.out" 2>&1
check "print-config accepts it" test $? -eq 0

# ---- the keeper runs on it -----------------------------------------------
"$KBIN" run -c "$CFG" --once >"$TMP/once.out" 2>"$TMP/once.err"
rc=$?
check "keeper run --once exits 0 (rc $rc)" test "$rc" -eq 0
check "...reports the devnet ok" grep -qE '^devnet: ok chain_id=31337 ' "$TMP/once.out"
check "...signing as the devnet's keeper" grep -qF "signer=$KEEPER" "$TMP/once.out"
[ "$rc" -eq 0 ] || sed 's/^/    /' "$TMP/once.err" | tail -n 5

"$KBIN" run -c "$CFG" --log-format json >"$TMP/run.log" 2>&1 &
KEEPER_PID=$!
ready() { [ "$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")" = 200 ]; }
check "keeper run is ready on metrics_port" wait_for 20 ready
curl -s --max-time 2 "http://127.0.0.1:$MPORT/status" >"$TMP/status.json"
check "/status shows protocol devnet, ready" \
    test "$(jq -r '.protocols[0].name + " " + (.protocols[0].ready | tostring)' "$TMP/status.json")" = "devnet true"
check "/status shows the keeper's address" test "$(jq -r .protocols[0].signer.address "$TMP/status.json")" = "$KEEPER"
stop_keeper
check "no error in the keeper's log" bash -c "! grep -q '\"level\":\"error\"' '$TMP/run.log'"

# ---- the generator on its own --------------------------------------------
# Without --alert-webhook: no channel, still valid.
gen_config "$TMP/nohook" black-thursday-2020
check "without a webhook: no alert channel" grep -q '^  channels: \[\]' "$TMP/nohook/keeper.yaml"
check "without a webhook: check-config OK" quiet "$KBIN" check-config -c "$TMP/nohook/keeper.yaml"

# A webhook off loopback carries a token: it goes to a 0600 file, referenced.
SECRET_URL=https://hooks.example.com/services/T000/B000/not-a-real-token
gen_config "$TMP/remote" black-thursday-2020 "$SECRET_URL"
check "remote webhook: URL not in keeper.yaml" bash -c "! grep -qF not-a-real-token '$TMP/remote/keeper.yaml'"
check "remote webhook: referenced from a file" grep -qF 'url: ${file:alert-webhook.url}' "$TMP/remote/keeper.yaml"
check "remote webhook: the file is 0600" test "$(stat -c %a "$TMP/remote/alert-webhook.url")" = 600
check "remote webhook: check-config OK (reference resolves)" quiet "$KBIN" check-config -c "$TMP/remote/keeper.yaml"
"$KBIN" print-config -c "$TMP/remote/keeper.yaml" >"$TMP/remote.print" 2>&1
check "remote webhook: print-config redacts it" bash -c "! grep -qF not-a-real-token '$TMP/remote.print'"

# Every scenario: a valid config whose max_age covers the replay.
for csv in "$ROOT"/tests/scenarios/*.csv; do
    name=$(basename "$csv" .csv)
    gen_config "$TMP/sc-$name" "$name" >/dev/null 2>&1
    step=$(awk -F, '/^[0-9]/ { if (p != "" && $1 - p > m) m = $1 - p; p = $1 } END { print m + 0 }' "$csv")
    age=$(yaml_value "$TMP/sc-$name/keeper.yaml" max_age)
    check "$name: check-config OK" quiet "$KBIN" check-config -c "$TMP/sc-$name/keeper.yaml"
    check "$name: max_age $age > the longest step (${step}s), >= 2h" \
        test $((${age%h} * 3600)) -gt "$step" -a "${age%h}" -ge 2
done
