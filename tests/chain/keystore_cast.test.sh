#!/usr/bin/env bash
# Keystores written by cast (`cast wallet new`, `cast wallet import`) load
# in the keeper with the address cast reports; every vector file that cast
# can read gives the same address in both; wrong passwords, open key file
# modes and env keys behave as documented. Needs KEEPER (the built
# binary) and cast on PATH (ctest sets both).
set -euo pipefail

: "${KEEPER:?KEEPER must point to the keeper binary}"
: "${KP_SOURCE_DIR:?KP_SOURCE_DIR must point to the source tree}"
command -v cast >/dev/null || { echo "FAIL: cast not on PATH" >&2; exit 1; }

if ! "$KEEPER" signer-address --help >/dev/null 2>&1; then
    echo "FAIL: '$KEEPER signer-address' is not available" \
         "(cli_signer_address not wired into keeper/main.c?)" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kp-keystore-cast.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
umask 077
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect_addr WANT DESCRIPTION -- KEEPER-ARGS...
expect_addr() {
    local want=$1 what=$2 got
    shift 3
    if ! got=$("$KEEPER" signer-address "$@" 2>"$tmp/stderr"); then
        fail "$what: keeper failed: $(cat "$tmp/stderr")"
        return
    fi
    if [ "$got" = "$want" ]; then ok "$what -> $got"; else
        fail "$what: keeper says $got, cast says $want"; fi
}

# A fresh random password (never printed).
pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$pw" > "$tmp/pw"

# --- cast wallet new -------------------------------------------------------
mkdir "$tmp/new"
CAST_PASSWORD="$pw" cast wallet new "$tmp/new" > "$tmp/new.out"
ksnew=$(find "$tmp/new" -type f | head -n1)
[ -n "$ksnew" ] || { echo "FAIL: cast wallet new wrote no keystore" >&2; exit 1; }
want=$(cast wallet address --keystore "$ksnew" --password-file "$tmp/pw")
grep -q "$want" "$tmp/new.out" || fail "cast wallet new reported another address"
expect_addr "$want" "cast wallet new, --password-file" -- \
    --keystore "$ksnew" --password-file "$tmp/pw"
KP_TEST_PW="$pw" expect_addr "$want" "cast wallet new, --password-env" -- \
    --keystore "$ksnew" --password-env KP_TEST_PW

# --- cast wallet import (anvil's public dev key #0) ------------------------
devkey=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
devaddr=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
mkdir "$tmp/imp"
CAST_UNSAFE_PASSWORD="$pw" cast wallet import -k "$tmp/imp" dev \
    --private-key "$devkey" > /dev/null
want=$(cast wallet address --keystore "$tmp/imp/dev" --password-file "$tmp/pw")
[ "$want" = "$devaddr" ] || fail "cast imported key has address $want"
expect_addr "$devaddr" "cast wallet import" -- \
    --keystore "$tmp/imp/dev" --password-file "$tmp/pw"

# --- wrong password: exit 1, a MAC message, no secret echoed ---------------
printf '%s\n' "${pw}x" > "$tmp/badpw"
set +e
"$KEEPER" signer-address --keystore "$tmp/imp/dev" \
    --password-file "$tmp/badpw" > "$tmp/out" 2> "$tmp/stderr"
rc=$?
set -e
if [ $rc -eq 1 ] && grep -q 'MAC mismatch' "$tmp/stderr" &&
   ! grep -q "$pw" "$tmp/stderr" "$tmp/out" && [ ! -s "$tmp/out" ]; then
    ok "wrong password refused"
else
    fail "wrong password: rc=$rc stderr=$(cat "$tmp/stderr")"
fi

# --- raw key file and environment ----------------------------------------
printf '%s\n' "$devkey" > "$tmp/key"
chmod 600 "$tmp/key"
expect_addr "$devaddr" "key file 0600" -- --key-file "$tmp/key"
chmod 644 "$tmp/key"
set +e
"$KEEPER" signer-address --key-file "$tmp/key" > "$tmp/out" 2> "$tmp/stderr"
rc=$?
set -e
if [ $rc -eq 1 ] && grep -q 'chmod 600' "$tmp/stderr" &&
   ! grep -q "${devkey#0x}" "$tmp/stderr" "$tmp/out"; then
    ok "key file 0644 refused"
else
    fail "key file 0644: rc=$rc stderr=$(cat "$tmp/stderr")"
fi
got=$(KP_TEST_KEY="$devkey" "$KEEPER" signer-address --key-env KP_TEST_KEY \
      2> "$tmp/stderr")
if [ "$got" = "$devaddr" ] && grep -q 'warning: .*environment' "$tmp/stderr"
then ok "env key (warned)"; else fail "env key: $got $(cat "$tmp/stderr")"; fi

# --- usage errors: exit 2 --------------------------------------------------
for args in "--keystore $tmp/imp/dev" "--key-file $tmp/key --key-env X" \
            "--password-file $tmp/pw" "--bogus"; do
    set +e
    # shellcheck disable=SC2086
    "$KEEPER" signer-address $args > /dev/null 2>&1
    rc=$?
    set -e
    [ $rc -eq 2 ] && ok "usage error: $args" ||
        fail "usage error '$args' exited $rc"
done

# --- every vector cast can read: same address in both ---------------------
# (spec_scrypt.json is left out: cast, like OpenSSL, refuses its n=2^18 with
# r=1; geth_zero_address.json is one the keeper must refuse.)
vec="$KP_SOURCE_DIR/tests/chain/vectors/keystore"
while read -r file password; do
    printf '%s' "$password" > "$tmp/vpw"
    want=$(cast wallet address --keystore "$vec/$file" --password-file "$tmp/vpw")
    expect_addr "$want" "vector $file" -- \
        --keystore "$vec/$file" --password-file "$tmp/vpw"
done <<'LIST'
spec_pbkdf2.json testpassword
geth_31_byte_key.json foo
geth_30_byte_key.json foo
geth_very_light_scrypt.json
geth_aaa.json foobar
geth_zzz.json foobar
standard_n262144_r8.json keeper-standard-vector
LIST
# The spec's scrypt vector, which only the keeper (like geth) reads.
printf 'testpassword' > "$tmp/vpw"
expect_addr 0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b "vector spec_scrypt.json" \
    -- --keystore "$vec/spec_scrypt.json" --password-file "$tmp/vpw"
printf 'foobar' > "$tmp/vpw"
if "$KEEPER" signer-address --keystore "$vec/geth_zero_address.json" \
    --password-file "$tmp/vpw" > /dev/null 2>&1; then
    fail "geth_zero_address.json accepted"
else
    ok "address field mismatch refused"
fi

if [ $fails -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "all keystore/cast checks passed"
