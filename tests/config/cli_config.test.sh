#!/usr/bin/env bash
# keeper check-config / print-config: exit codes, the exact error lines,
# redaction of secrets, and that printed output validates again.
set -u

: "${KEEPER:?KEEPER must name the keeper binary}"
: "${KP_SOURCE_DIR:?KP_SOURCE_DIR must name the source tree}"
EX="$KP_SOURCE_DIR/examples"
T=$(mktemp -d /tmp/kp-cli-config-XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# run NAME WANT_STATUS CMD... : runs CMD, keeps stdout/stderr in $T/NAME.*
run() {
    local name=$1 want=$2
    shift 2
    "$@" >"$T/$name.out" 2>"$T/$name.err"
    local got=$?
    [ "$got" -eq "$want" ] || fail "$name: exit status $got, want $want ($(head -c 300 "$T/$name.err"))"
}

expect_file() { # NAME FILE WANT_TEXT
    local want
    want=$(printf '%s' "$3")
    [ "$(cat "$2")" = "$want" ] || {
        fail "$1: got:"
        cat "$2" >&2
        echo "--- want:" >&2
        echo "$want" >&2
    }
}

export KEEPER_KEYSTORE_PASSWORD='S3CRET-pw-value'
export PAGERDUTY_ROUTING_KEY='S3CRET-routing-value'
export SLACK_WEBHOOK_URL='https://hooks.slack.com/services/S3CRET-url-value'

# Valid files and the examples directory.
run ok_ref 0 "$KEEPER" check-config -c "$EX/reference-protocol.yaml"
expect_file ok_ref "$T/ok_ref.out" "configuration OK"
expect_file ok_ref_err "$T/ok_ref.err" ""
run ok_min 0 "$KEEPER" check-config -c "$EX/minimal.yaml"
expect_file ok_min "$T/ok_min.out" "configuration OK"
run ok_dir 0 "$KEEPER" check-config --config "$EX"
expect_file ok_dir "$T/ok_dir.out" "configuration OK"

# Missing secrets: one line per error on stderr, nothing on stdout.
run nosecret 1 env -u KEEPER_KEYSTORE_PASSWORD -u SLACK_WEBHOOK_URL \
    "$KEEPER" check-config -c "$EX/reference-protocol.yaml"
expect_file nosecret_out "$T/nosecret.out" ""
expect_file nosecret "$T/nosecret.err" \
"$EX/reference-protocol.yaml:36:15: signer.keystore.password: environment variable 'KEEPER_KEYSTORE_PASSWORD' is not set
$EX/reference-protocol.yaml:93:12: alerts.channels[1].url: environment variable 'SLACK_WEBHOOK_URL' is not set"
# ... which --no-secrets does not resolve.
run nosecret_ok 0 env -u KEEPER_KEYSTORE_PASSWORD \
    "$KEEPER" check-config --no-secrets -c "$EX/reference-protocol.yaml"
expect_file nosecret_ok "$T/nosecret_ok.out" "configuration OK"

# Several errors in one file, all reported, in file order.
sed -e 's/^  chain_id: 31337/  chain_id: 0/' \
    -e 's/^    max_age: 2h/    max_agee: 2h/' \
    -e 's/^  poll_interval: 2s/  poll_interval: 2/' \
    "$EX/reference-protocol.yaml" >"$T/bad.yaml"
run bad 1 "$KEEPER" check-config -c "$T/bad.yaml"
expect_file bad "$T/bad.err" \
"$T/bad.yaml:18:13: chain.chain_id: must be between 1 and 9223372036854775771 (got '0')
$T/bad.yaml:28:18: chain.poll_interval: missing unit: write e.g. 30s (units: ms, s, m, h, d) (got '2')
$T/bad.yaml:40:5: oracles[0]: missing required key 'max_age'
$T/bad.yaml:44:5: oracles[0]: unknown key 'max_agee' (did you mean 'max_age'?)"
run bad_print 1 "$KEEPER" print-config -c "$T/bad.yaml"
expect_file bad_print "$T/bad_print.out" ""
[ "$(wc -l <"$T/bad_print.err")" -eq 4 ] || fail "print-config: want the 4 errors"

run missing 1 "$KEEPER" check-config -c "$T/nope.yaml"
expect_file missing "$T/missing.err" "$T/nope.yaml: cannot read: No such file or directory"

# Usage errors exit 2.
run usage_noc 2 "$KEEPER" check-config
run usage_opt 2 "$KEEPER" check-config -c "$EX" --bogus
run usage_arg 2 "$KEEPER" print-config -c "$EX" extra
grep -q "missing -c" "$T/usage_noc.err" || fail "usage: no hint about -c"

# print-config: normalized, secrets redacted, never their values.
run print 0 "$KEEPER" print-config -c "$EX/reference-protocol.yaml"
if grep -q S3CRET "$T/print.out" "$T/print.err"; then
    fail "print-config shows a secret value"
fi
grep -q 'password: "<redacted: env:KEEPER_KEYSTORE_PASSWORD>"' "$T/print.out" ||
    fail "print-config: password not shown as redacted reference"
grep -q 'routing_key: "<redacted: env:PAGERDUTY_ROUTING_KEY>"' "$T/print.out" ||
    fail "print-config: routing key not redacted"
grep -q '^  request_timeout: 5s$' "$T/print.out" || fail "print-config: durations"
grep -q '^    epoch_budget: 250000e6$' "$T/print.out" || fail "print-config: token amount"

# The printed form, with references restored, validates and prints the
# same (paths in it are absolute already).
sed -e 's/"<redacted: \([^>]*\)>"/"${\1}"/' "$T/print.out" >"$T/again.yaml"
run again 0 "$KEEPER" check-config -c "$T/again.yaml"
run again_print 0 "$KEEPER" print-config -c "$T/again.yaml"
diff <(tail -n +2 "$T/print.out") <(tail -n +2 "$T/again_print.out") >/dev/null ||
    fail "print-config output does not read back to the same configuration"

# Two files, one protocol name: an error naming both.
mkdir "$T/dir"
cp "$EX/minimal.yaml" "$T/dir/a.yaml"
cp "$EX/minimal.yaml" "$T/dir/b.yaml"
run dup 1 "$KEEPER" check-config -c "$T/dir"
expect_file dup "$T/dup.err" \
"$T/dir/b.yaml:4:9: protocol.name: protocol 'minimal' is already defined in $T/dir/a.yaml"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "cli_config: all checks passed"
