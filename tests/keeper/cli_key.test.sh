#!/usr/bin/env bash
# The key options the subcommands share (keeper/cli_key.h): `keeper tx
# sign` and `keeper address` take the key from a keystore (password file
# or variable), a key file, a named variable or KEEPER_PRIVATE_KEY, and
# every source gives the same signed transaction and address for the same
# key; conflicting options are refused with the same texts as
# `keeper signer-address` (exit 2, nothing on stdout); a wrong password or
# an open key file is refused; no key or password ever reaches the output.
# Keys: public test vectors and anvil's well-known dev key #0.
set -u
: "${KEEPER:?KEEPER must point to the keeper binary}"
: "${KP_SOURCE_DIR:?KP_SOURCE_DIR must point to the source tree}"
. "$KP_SOURCE_DIR/tests/keeper/harness.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/kp-cli-key.XXXXXX")
trap 'rm -rf "$T"; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ] || exit 1' EXIT
umask 077
unset KEEPER_PRIVATE_KEY
command -v cast >/dev/null || { not_ok "cast not on PATH"; exit 1; }

vec="$KP_SOURCE_DIR/tests/chain/vectors/keystore"
secrets=() # every key and password used: none may appear in any output

# run NAME ARGS...: keeper's exit status in $rc, output in $T/NAME.{out,err}
run() {
    local name=$1
    shift
    "$KEEPER" "$@" >"$T/$name.out" 2>"$T/$name.err"
    rc=$?
}

# One transaction of each kind of data (plain, ABI call after "--").
SIGN=(tx sign --chain-id 31337 --nonce 7 --gas-limit 60000
      --max-fee 3gwei --priority-fee 1gwei
      --to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --value 1wei)
CALL=(-- 'transfer(address,uint256)'
      0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359 1000)
LEGACY=(tx sign --type legacy --chain-id 1 --nonce 0 --gas-limit 21000
        --gas-price 2gwei --to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed)

# sign_all NAME KEY-OPTIONS...: sign the three transactions and ask the
# address with these key options; $T/NAME.all gets the four lines.
# Returns: 0 if all four succeeded.
sign_all() {
    local name=$1 n=0
    shift
    run "$name.a" "${SIGN[@]}" "$@"
    [ "$rc" -eq 0 ] && n=$((n + 1))
    run "$name.b" "${SIGN[@]}" "$@" "${CALL[@]}"
    [ "$rc" -eq 0 ] && n=$((n + 1))
    run "$name.c" "${LEGACY[@]}" "$@"
    [ "$rc" -eq 0 ] && n=$((n + 1))
    run "$name.d" address "$@"
    [ "$rc" -eq 0 ] && n=$((n + 1))
    cat "$T/$name".[abcd].out >"$T/$name.all"
    [ "$n" -eq 4 ]
}

# same_tx NAME WANT_FILE KEY-OPTIONS...: the same four lines as WANT_FILE.
same_tx() {
    local name=$1 want=$2
    shift 2
    if sign_all "$name" "$@" && cmp -s "$T/$name.all" "$want"; then
        ok "$name: same transactions and address as the key file"
    else
        not_ok "$name: $(cat "$T/$name".[abcd].err)"
        diff "$want" "$T/$name.all" | sed 's/^/  /'
    fi
}

# reference KEYHEX NAME: sign with a 0600 key file into $T/NAME.all.
reference() {
    printf '%s\n' "$1" >"$T/$2.key"
    chmod 600 "$T/$2.key"
    secrets+=("${1#0x}")
    if sign_all "$2" --key-file "$T/$2.key" &&
       [ "$(grep -c '^0x' "$T/$2.all")" -eq 4 ]; then
        ok "$2: key file signs"
    else
        not_ok "$2: key file reference failed: $(cat "$T/$2".?.err)"
        exit 1
    fi
}

# --- the Web3 spec's PBKDF2 vector and geth's 31-byte key ----------------
speckey=7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d
reference "$speckey" spec
printf 'testpassword' >"$T/spec.pw"
secrets+=(testpassword)
check "spec: the key file signs as 0x008A…786b" \
    grep -qx 0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b "$T/spec.all"
same_tx spec-keystore-file "$T/spec.all" \
    --keystore "$vec/spec_pbkdf2.json" --password-file "$T/spec.pw"
KP_TEST_PW=testpassword same_tx spec-keystore-env "$T/spec.all" \
    --password-env KP_TEST_PW --keystore "$vec/spec_pbkdf2.json"

key31=00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35
reference "$key31" k31
printf 'foo' >"$T/k31.pw"
same_tx k31-keystore "$T/k31.all" \
    --keystore "$vec/geth_31_byte_key.json" --password-file "$T/k31.pw"

# --- anvil's dev key #0: cast's keystore, a named variable, the default ---
devkey=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
reference "$devkey" dev
pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
secrets+=("$pw")
printf '%s\n' "$pw" >"$T/dev.pw"
mkdir "$T/ks"
CAST_UNSAFE_PASSWORD="$pw" cast wallet import -k "$T/ks" dev \
    --private-key "$devkey" >/dev/null
same_tx dev-cast-keystore "$T/dev.all" \
    --keystore "$T/ks/dev" --password-file "$T/dev.pw"
KP_TEST_KEY=$devkey same_tx dev-key-env "$T/dev.all" --key-env KP_TEST_KEY
check "dev-key-env: warned that the key came from KP_TEST_KEY" \
    grep -q 'warning: signer: key taken from environment variable KP_TEST_KEY' \
    "$T/dev-key-env.a.err"
KEEPER_PRIVATE_KEY=$devkey same_tx dev-default-env "$T/dev.all"
check "dev-default-env: warned about KEEPER_PRIVATE_KEY" \
    grep -q 'environment variable KEEPER_PRIVATE_KEY' "$T/dev-default-env.a.err"
check "spec and dev keys sign differently" \
    bash -c "! cmp -s '$T/spec.all' '$T/dev.all'"

# --- conflicting or incomplete key options: exit 2, the exact text -------
# usage CMD WANT-TEXT ARGS...: for tx sign and signer-address alike
usage() {
    local want=$1 cmd
    shift
    for cmd in "tx sign" signer-address; do
        if [ "$cmd" = "tx sign" ]; then
            run usage "${SIGN[@]}" "$@"
        else
            run usage signer-address "$@"
        fi
        if [ "$rc" -eq 2 ] && [ ! -s "$T/usage.out" ] &&
           [ "$(cat "$T/usage.err")" = "keeper: error: $cmd: $want" ]; then
            ok "$cmd $*: refused"
        else
            not_ok "$cmd $*: rc=$rc stderr=$(cat "$T/usage.err")"
        fi
    done
}
one="give one of --keystore, --key-file, --key-env"
KP_TEST_KEY=$devkey usage "$one" --key-file "$T/dev.key" --key-env KP_TEST_KEY
usage "$one" --keystore "$T/ks/dev" --password-file "$T/dev.pw" \
    --key-file "$T/dev.key"
usage "$one" --key-env A --keystore "$T/ks/dev" --password-env B
usage "a password needs --keystore" --password-file "$T/dev.pw"
usage "a password needs --keystore" --key-file "$T/dev.key" --password-env B
both="--keystore needs exactly one of --password-file, --password-env"
usage "$both" --keystore "$T/ks/dev"
usage "$both" --keystore "$T/ks/dev" --password-file "$T/dev.pw" \
    --password-env B

run twice "${SIGN[@]}" --key-file "$T/dev.key" --key-file "$T/dev.key"
check "tx sign: --key-file twice refused" \
    test "$rc" -eq 2 -a ! -s "$T/twice.out"
run addr-bad address --key-file "$T/dev.key" --key-env X
check "address: conflicting key options refused (exit 2)" \
    grep -qx "keeper: error: address: $one" "$T/addr-bad.err"

# --- keys that cannot be loaded: exit 2, the reason, no transaction ------
printf '%s\n' "${pw}x" >"$T/bad.pw"
run badpw "${SIGN[@]}" --keystore "$T/ks/dev" --password-file "$T/bad.pw"
check "tx sign: wrong keystore password refused" \
    test "$rc" -eq 2 -a ! -s "$T/badpw.out"
check "tx sign: wrong password says MAC mismatch" \
    grep -q '^keeper: error: tx sign: .*MAC mismatch' "$T/badpw.err"
cp "$T/dev.key" "$T/open.key"
chmod 644 "$T/open.key"
run open "${SIGN[@]}" --key-file "$T/open.key"
check "tx sign: key file readable by others refused" \
    test "$rc" -eq 2 -a ! -s "$T/open.out"
run unset "${SIGN[@]}" --key-env KP_TEST_UNSET_KEY
check "tx sign: unset key variable named" \
    grep -q 'KP_TEST_UNSET_KEY is not set' "$T/unset.err"

# --- nothing secret in any output ----------------------------------------
leaks=0
for s in "${secrets[@]}"; do
    if grep -rqiF -- "$s" "$T"/*.out "$T"/*.err; then
        leaks=$((leaks + 1))
    fi
done
check "no key or password in any output" test "$leaks" -eq 0
