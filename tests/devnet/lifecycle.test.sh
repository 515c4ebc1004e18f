#!/usr/bin/env bash
# scripts/devnet start / scenario / stop: what start writes and prints, the
# endpoints, the seeded market, refusals (second start, busy port, bad
# input), --speed pacing, and that nothing is left running, even when the
# test using the devnet fails.
. "$(dirname "$0")/lib.sh"

start_devnet "$STATE" || die "devnet start: $(tail -n 3 "$STATE.start.err")"
load_devnet "$STATE"

# ---- devnet.json and the key file ----------------------------------------
check "start prints devnet.json" cmp -s <(jq -S . "$STATE.start.out") <(jq -S . "$STATE/devnet.json")
for k in rpc_http rpc_ws chain_id keeper_address keeper_key_file \
    contracts.usd contracts.feed contracts.clearinghouse contracts.reserve contracts.backstop; do
    check "devnet.json has $k" test "$(jq -r ".$k // empty" "$STATE/devnet.json")" != ""
done
check "chain_id is 31337" test "$(jq -r .chain_id "$STATE/devnet.json")" = 31337
check "rpc_http on loopback" grep -qE '^http://127\.0\.0\.1:[0-9]+$' <<<"$RPC"
check "rpc_ws on the same port" test "$WS" = "ws://${RPC#http://}"
check "HTTP endpoint answers" test "$(cast chain-id -r "$RPC")" = 31337
check "WebSocket endpoint answers" test "$(cast block-number -r "$WS")" -ge 1
for c in USD FEED CH RESERVE POOL; do
    check "contract $c has code" test "$(cast code -r "$RPC" "${!c}" | wc -c)" -gt 100
done
KEYFILE=$(jq -r .keeper_key_file "$STATE/devnet.json")
check "key file is mode 0600" test "$(stat -c %a "$KEYFILE")" = 600
derived=$(node -e '
    const crypto = require("crypto");
    const { keccak256 } = require(process.argv[2] + "/scripts/devnet-lib/keccak.js");
    const hex = require("fs").readFileSync(process.argv[1], "utf8").trim().replace(/^0x/, "");
    const ecdh = crypto.createECDH("secp256k1");
    ecdh.setPrivateKey(Buffer.from(hex, "hex"));
    console.log("0x" + keccak256(ecdh.getPublicKey().subarray(1)).slice(-40));' "$KEYFILE" "$ROOT")
check "key file holds the keeper address's key" test "$derived" = "$(tr A-F a-f <<<"$KEEPER")"
check "keeper differs from deployer" test "$KEEPER" != "$ADMIN"
KEEPER_ROLE=$(cast keccak KEEPER_ROLE)
check "keeper has KEEPER_ROLE on clearinghouse" test "$(call "$CH" "hasRole(bytes32,address)(bool)" "$KEEPER_ROLE" "$KEEPER")" = true
check "keeper has KEEPER_ROLE on backstop" test "$(call "$POOL" "hasRole(bytes32,address)(bool)" "$KEEPER_ROLE" "$KEEPER")" = true
check "reserve knows the clearinghouse" test "$(call "$RESERVE" "clearinghouse()(address)")" = "$(cast to-check-sum-address "$CH")"

# ---- the seeded market ---------------------------------------------------
traders=$(call "$CH" "traderCount()(uint256)")
check "at least 100 traders seeded ($traders)" test "$traders" -ge 100
check "longs open" bigcmp "$(call "$CH" "longSize()(uint256)")" gt 0
check "shorts open" bigcmp "$(call "$CH" "shortSize()(uint256)")" gt 0
check "backstop pool funded" bigcmp "$(call "$POOL" "available()(uint256)")" gt 0
# Leverage = notional / margin at the opening price, for every trader.
price=$(call "$FEED" "latestAnswer()(int256)")
cast call -r "$RPC" "$CH" "traders()(address[])" | tr -d '[],' | tr ' ' '\n' | grep . >"$TMP/traders"
# One JSON-RPC batch (plain fetch) rather than a cast call per trader.
node -e '
    const [rpc, ch, sel, file] = process.argv.slice(1);
    const traders = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean);
    const body = traders.map((t, i) => ({ jsonrpc: "2.0", id: i, method: "eth_call",
        params: [{ to: ch, data: sel + t.slice(2).toLowerCase().padStart(64, "0") }, "latest"] }));
    fetch(rpc, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
        .then((r) => r.json()).then((replies) => {
            for (const r of replies.sort((a, b) => a.id - b.id)) {
                const w = (i) => BigInt("0x" + r.result.slice(2 + 64 * i, 66 + 64 * i));
                let size = w(0);
                if (size >= 1n << 255n) size -= 1n << 256n;
                console.log(`${size} ${w(1)}`);
            }
        });' "$RPC" "$CH" "$(cast sig 'positions(address)')" "$TMP/traders" >"$TMP/positions"
check "read every position" test "$(wc -l <"$TMP/positions")" -eq "$traders"
lev=$(awk -v p="$price" '{ s = $1 < 0 ? -$1 : $1; l = s * p / 1e20 / $2; if (min == "" || l < min) min = l; if (l > max) max = l }
    END { printf "%.1f %.1f", min, max }' "$TMP/positions")
echo "    leverage spread: $lev"
check "leverage spread from <= 3x" awk -v l="${lev% *}" 'BEGIN { exit !(l >= 1.9 && l <= 3) }'
check "leverage spread up to >= 30x" awk -v l="${lev#* }" 'BEGIN { exit !(l >= 30 && l <= 50.01) }'

# ---- refusals ------------------------------------------------------------
start_devnet "$STATE"
check "second start on a running state dir fails" test $? -ne 0
check "...saying it is running" grep -q "already running" "$STATE.start.err"
port=${RPC##*:}
start_devnet "$TMP/busy" --port "$port"
check "start on a busy port fails" test $? -ne 0
check "...and leaves no pid file" test ! -e "$TMP/busy/anvil.pid"
check "...nor an anvil" test -z "$(anvils_of "$TMP/busy")"
"$DEVNET" start >/dev/null 2>&1
check "start without --state-dir is a usage error (2)" test $? -eq 2
"$DEVNET" scenario no-such-scenario --state-dir "$STATE" >/dev/null 2>"$TMP/err"
check "unknown scenario fails" test $? -eq 1
check "...listing the known ones" grep -q "black-thursday-2020" "$TMP/err"
printf 't_seconds,price\n0,100\n0,101\n' >"$TMP/bad.csv"
"$DEVNET" scenario "$TMP/bad.csv" --state-dir "$STATE" >/dev/null 2>"$TMP/err"
check "non-increasing time is refused with file:line" grep -q "bad.csv:3: t_seconds must increase" "$TMP/err"
printf 't_seconds,price\n0,-5\n' >"$TMP/bad.csv"
"$DEVNET" scenario "$TMP/bad.csv" --state-dir "$STATE" >/dev/null 2>"$TMP/err"
check "a negative price is refused" grep -q "bad.csv:2: bad price" "$TMP/err"

# ---- scenario files ------------------------------------------------------------
node "$ROOT/tests/scenarios/generate.js" "$TMP/gen"
check "scenario CSVs are what generate.js makes" diff -r -x '*.md' -x '*.js' "$TMP/gen" "$ROOT/tests/scenarios"
for s in black-thursday-2020 may-19-2021 luna-2022 ftx-2022 oct-10-2025 calm flash-crash-recover; do
    check "scenario $s is listed" grep -qx "$s" <("$DEVNET" list)
done

# ---- a custom scenario file, paced -----------------------------------------
cat >"$TMP/mini.csv" <<'EOF'
# params: traders=20 notional=1000000 long_share=0.5
t_seconds,price
0,1000
60,1010
120,990
EOF
ts_before=$(cast block -r "$RPC" latest -f timestamp)
t0=$(date +%s%N)
"$DEVNET" scenario "$TMP/mini.csv" --state-dir "$STATE" --speed 100 >"$TMP/mini.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "custom scenario file replays" test $rc -eq 0
check "one line per step" test "$(grep -c '^step=' "$TMP/mini.out")" -eq 3
check "step lines carry time, price, reserve, uncovered debt, open interest" \
    grep -qE '^step=3 t=120 price=990 reserve=[0-9.]+ uncovered=[0-9.]+ oi=[0-9.]+ ' "$TMP/mini.out"
check "its params line took effect (20 traders)" test "$(call "$CH" "traderCount()(uint256)")" -eq 20
check "--speed 100 paces 120 s of scenario to >= 1.2 s (took ${ms} ms)" test "$ms" -ge 1200
chain_dt=$(($(cast block -r "$RPC" latest -f timestamp) - ts_before))
check "chain time advanced with the scenario ($chain_dt s)" test "$chain_dt" -ge 120

# ---- stop ----------------------------------------------------------------
pid=$(cat "$STATE/anvil.pid")
"$DEVNET" stop --state-dir "$STATE" >/dev/null
check "stop succeeds" test $? -eq 0
check "anvil process is gone" bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
check "no anvil of this state dir left" test -z "$(anvils_of "$STATE")"
check "endpoint no longer answers" bash -c "! cast chain-id -r '$RPC' >/dev/null 2>&1"
"$DEVNET" stop --state-dir "$STATE" >/dev/null
check "stop again is harmless" test $? -eq 0

# ---- an explicit port --------------------------------------------------------
free=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
start_devnet "$TMP/fixed" --port "$free" || not_ok "start --port $free: $(tail -n 2 "$TMP/fixed.start.err")"
check "--port is honoured" test "$(jq -r .rpc_http "$TMP/fixed/devnet.json")" = "http://127.0.0.1:$free"
"$DEVNET" stop --state-dir "$TMP/fixed" >/dev/null

# ---- interrupting start stops what it started ---------------------------------
echo "$TMP/intr" >>"$TMP/started"
"$DEVNET" start --state-dir "$TMP/intr" >/dev/null 2>&1 &
spid=$!
for _ in $(seq 1 400); do [ -s "$TMP/intr/anvil.pid" ] && break; sleep 0.05; done
ipid=$(cat "$TMP/intr/anvil.pid" 2>/dev/null)
kill -INT "$spid"
wait "$spid"
check "start interrupted by SIGINT exits 130" test $? -eq 130
check "...after stopping its anvil" bash -c "[ -n '$ipid' ] && { ! kill -0 $ipid 2>/dev/null || grep -q '^State:.*Z' /proc/$ipid/status; }"
check "...and removing its pid file" test ! -e "$TMP/intr/anvil.pid"
check "...leaving no anvil of its own" test -z "$(anvils_of "$TMP/intr")"

# ---- a failing test still stops its devnet -----------------------------------
child_tmp_file=$TMP/child.state
bash -c '
    . "$1/lib.sh"
    start_devnet "$STATE" || exit 3
    cp "$STATE/anvil.pid" "$2"
    false_check() { return 1; }
    check "deliberate failure" false_check
' child "$(dirname "$0")" "$child_tmp_file" >"$TMP/child.out" 2>&1
rc=$?
check "a failing test exits non-zero" test $rc -ne 0
check "...and prints its tally" grep -q "^0 passed, 1 failed$" "$TMP/child.out"
cpid=$(cat "$child_tmp_file" 2>/dev/null)
check "...and its anvil is gone" bash -c "[ -n '$cpid' ] && { ! kill -0 $cpid 2>/dev/null || grep -q '^State:.*Z' /proc/$cpid/status; }"
