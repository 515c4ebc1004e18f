# Shared by tests/devnet/*.test.sh (sourced; not a test itself).
#
# Every test starts its own devnet in a temporary directory on a free port,
# and an EXIT trap stops it by pid whatever happens, then prints
# "N passed, M failed" and makes the exit status non-zero on any failure.
# Checks go through cast (an independent client), not the devnet's own code.

set -u

ROOT=${KP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PATH="$ROOT/node_modules/.bin:$PATH"
export PATH
DEVNET="$ROOT/scripts/devnet"
# One compiler cache for all tests of a build (compiling takes seconds).
if [ -n "${KP_BUILD_DIR:-}" ]; then
    export KP_DEVNET_CACHE="$KP_BUILD_DIR/devnet-cache"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kp-devnet-test.XXXXXX")
STATE=$TMP/devnet
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() {
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# A failure the rest of the test cannot go on from.
die() {
    not_ok "$*"
    exit 1
}

# Stop every devnet this test started (state dirs listed in $TMP/started),
# by pid; then SIGKILL, by pid, any anvil still logging under $TMP (one
# whose start was cut short). Never leaves anvil behind.
stop_all() {
    local dir pid
    if [ -f "$TMP/started" ]; then
        while read -r dir; do
            "$DEVNET" stop --state-dir "$dir" >/dev/null 2>&1
        done <"$TMP/started"
    fi
    for pid in $(anvils_of "$TMP"); do
        kill -9 "$pid" 2>/dev/null
    done
}

on_exit() {
    local rc=$?
    stop_all
    rm -rf "$TMP"
    echo "$passed passed, $failed failed"
    if [ "$failed" -gt 0 ]; then exit 1; fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# start_devnet DIR [options...]: start a devnet, remember it for cleanup.
start_devnet() {
    local dir=$1
    shift
    echo "$dir" >>"$TMP/started"
    "$DEVNET" start --state-dir "$dir" "$@" >"$dir.start.out" 2>"$dir.start.err"
}

# Load devnet.json of DIR into RPC, WS, USD, FEED, CH, RESERVE, POOL,
# KEEPER, ADMIN.
load_devnet() {
    local j=$1/devnet.json
    RPC=$(jq -r .rpc_http "$j")
    WS=$(jq -r .rpc_ws "$j")
    USD=$(jq -r .contracts.usd "$j")
    FEED=$(jq -r .contracts.feed "$j")
    CH=$(jq -r .contracts.clearinghouse "$j")
    RESERVE=$(jq -r .contracts.reserve "$j")
    POOL=$(jq -r .contracts.backstop "$j")
    KEEPER=$(jq -r .keeper_address "$j")
    ADMIN=$(jq -r .admin_address "$j")
}

# Anvil dev account 5: holds no role anywhere.
OUTSIDER=0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc

# call ADDRESS SIGNATURE [ARGS...]: one return value, first word only
# (cast appends "[1.2e3]" to big numbers).
call() {
    local to=$1 sig=$2
    shift 2
    cast call -r "$RPC" "$to" "$sig" "$@" | awk '{print $1; exit}'
}

# send FROM ADDRESS SIGNATURE [ARGS...]: from an unlocked dev account (or
# an impersonated trader); succeeds when the tx is mined with status 1.
send() {
    local from=$1 to=$2 sig=$3
    shift 3
    local status
    status=$(cast send -r "$RPC" --unlocked --from "$from" "$to" "$sig" "$@" --json 2>"$TMP/send.err" | jq -r .status)
    [ "$status" = "0x1" ]
}

# reverts REASON FROM ADDRESS SIGNATURE [ARGS...]: the call is refused with
# REASON in the error.
reverts() {
    local reason=$1 from=$2 to=$3 sig=$4
    shift 4
    local out
    if out=$(cast send -r "$RPC" --unlocked --from "$from" "$to" "$sig" "$@" 2>&1); then
        echo "    (succeeded, expected revert: $reason)"
        return 1
    fi
    if ! grep -qF -- "$reason" <<<"$out"; then
        echo "    (reverted without \"$reason\": $(tail -n 1 <<<"$out" | cut -c1-200))"
        return 1
    fi
}

# anvils_of DIR: pids of anvil processes logging into DIR (0 expected
# after a stop, whatever the pid file says).
anvils_of() {
    local p
    for p in $(pgrep -x anvil); do
        ls -l "/proc/$p/fd" 2>/dev/null | grep -qF "$1/anvil.log" && echo "$p"
    done
    return 0
}

head_block() { cast block-number -r "$RPC"; }

# sum_logs ADDRESS EVENT_SIGNATURE FIELD FROM_BLOCK [TO_BLOCK]: sum of the
# FIELD-th (0-based) non-indexed uint of matching logs; prints "count sum".
sum_logs() {
    local addr=$1 sig=$2 field=$3 from=$4 to=${5:-latest}
    cast logs -r "$RPC" --from-block "$from" --to-block "$to" --address "$addr" "$sig" --json |
        node -e '
            let s = "";
            process.stdin.on("data", (d) => { s += d; });
            process.stdin.on("end", () => {
                const logs = JSON.parse(s || "[]");
                const f = Number(process.argv[1]);
                let sum = 0n;
                for (const l of logs) sum += BigInt("0x" + l.data.slice(2 + 64 * f, 2 + 64 * (f + 1)));
                console.log(`${logs.length} ${sum}`);
            });' "$field"
}

# Big-integer comparisons on decimal strings.
bigcmp() { node -e 'const [a, op, b] = process.argv.slice(1); const x = BigInt(a), y = BigInt(b);
    process.exit({ lt: x < y, le: x <= y, gt: x > y, ge: x >= y, eq: x === y, ne: x !== y }[op] ? 0 : 1);' "$1" "$2" "$3"; }
# big EXPR: integer arithmetic (+ - * / and parentheses) on big numbers.
big() { node -e 'const e = process.argv[1]; if (!/^[0-9+*\/() -]+$/.test(e)) process.exit(2);
    console.log(String(eval(e.replace(/(\d+)/g, "$1n"))));' "$1"; }

# A field of the last scenario summary line of FILE: summary_field FILE KEY.
summary_field() { grep '^summary ' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# replay NAME: replay scenario NAME on $STATE into $TMP/NAME.out; sets
# FIRST (block of the first step's price update), STEPS.
replay() {
    local name=$1 from
    from=$(($(head_block) + 1))
    "$DEVNET" scenario "$name" --state-dir "$STATE" >"$TMP/$name.out" 2>"$TMP/$name.err" ||
        die "scenario $name: $(tail -n 2 "$TMP/$name.err")"
    STEPS=$(grep -c '^step=' "$TMP/$name.out")
    FIRST=$(cast logs -r "$RPC" --from-block "$from" --address "$FEED" "AnswerUpdated(int256,uint256,uint256)" --json |
        jq -r ".[-$STEPS].blockNumber" | xargs printf '%d')
}

# field_sum ADDRESS EVENT FIELD: sum of a log field since $FIRST.
field_sum() { sum_logs "$1" "$2" "$3" "$FIRST" | cut -d' ' -f2; }

# check_reserve_flows NAME: the reserve's books balance over the replay:
# balance moves only by fees, inflows, bad debt paid and debt settled;
# every liquidation shortfall was charged to the reserve (paid or left as
# uncovered debt), and the replay's printed figures match the chain.
check_reserve_flows() {
    local name=$1 b0 b1 u0 u1 fees funded paid unpaid settled withdrawn recovered shortfall nliq
    b0=$(cast call -r "$RPC" --block $((FIRST - 1)) "$RESERVE" "balance()(uint256)" | awk '{print $1}')
    u0=$(cast call -r "$RPC" --block $((FIRST - 1)) "$RESERVE" "uncoveredDebt()(uint256)" | awk '{print $1}')
    b1=$(call "$RESERVE" "balance()(uint256)")
    u1=$(call "$RESERVE" "uncoveredDebt()(uint256)")
    fees=$(field_sum "$RESERVE" "FeeAccrued(uint256)" 0)
    funded=$(field_sum "$RESERVE" "Funded(address,uint256)" 0)
    paid=$(field_sum "$RESERVE" "BadDebtCovered(uint256,uint256)" 0)
    unpaid=$(field_sum "$RESERVE" "BadDebtCovered(uint256,uint256)" 1)
    settled=$(field_sum "$RESERVE" "DebtSettled(uint256,uint256)" 0)
    withdrawn=$(field_sum "$RESERVE" "Withdrawn(address,uint256)" 0)
    recovered=$(field_sum "$RESERVE" "DebtRecovered(uint256,uint256)" 0)
    read -r nliq shortfall < <(sum_logs "$CH" "Liquidated(address,int256,uint256,uint256)" 2 "$FIRST")
    check "$name: reserve balance = start + fees + inflows - bad debt paid - debt settled" \
        test "$b1" = "$(big "$b0 + $fees + $funded - $paid - $settled - $withdrawn")"
    check "$name: uncovered debt = start + unpaid bad debt - settled - recovered" \
        test "$u1" = "$(big "$u0 + $unpaid - $settled - $recovered")"
    check "$name: every shortfall was charged to the reserve" test "$shortfall" = "$(big "$paid + $unpaid")"
    check "$name: printed liquidations match the chain ($nliq)" \
        test "$(summary_field "$TMP/$name.out" liquidations)" = "$nliq"
    check "$name: printed final reserve matches the chain" \
        bigcmp "$(summary_field "$TMP/$name.out" final_reserve | tr -d .)" eq "$(big "$b1 / 10000")"
    LIQUIDATIONS=$nliq SHORTFALL=$shortfall FEES=$fees
}

# Lowest reserve printed by the replay of NAME, in cents.
min_reserve_cents() { summary_field "$TMP/$1.out" min_reserve | tr -d .; }
