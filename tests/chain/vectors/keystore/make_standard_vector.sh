#!/usr/bin/env bash
# Regenerate standard_n262144_r8.json: a keystore with geth's "standard"
# scrypt cost (n=2^18, r=8, p=1: 256 MiB, the figure the keeper's scrypt
# memory cap must admit), built with tools independent of the keeper:
# OpenSSL for scrypt and AES-128-CTR, cast for Keccak-256 and the address.
# The key is anvil's public dev account #1; the password is in
# KNOWN_ANSWERS.md. Run from this directory; needs openssl 3 and cast.
set -euo pipefail
key=59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
pw=keeper-standard-vector
salt=$(cast keccak "keeper keystore salt" | cut -c3-)
iv=$(cast keccak "keeper keystore iv" | cut -c3-34)
dk=$(openssl kdf -keylen 32 -kdfopt "pass:$pw" -kdfopt "hexsalt:$salt" \
    -kdfopt n:262144 -kdfopt r:8 -kdfopt p:1 \
    -kdfopt maxmem_bytes:300000000 SCRYPT | tr -d ':\n' |
    tr 'A-F' 'a-f')
ct=$(printf '%s' "$key" | xxd -r -p |
    openssl enc -aes-128-ctr -K "${dk:0:32}" -iv "$iv" | xxd -p -c 64)
mac=$(cast keccak "0x${dk:32:32}$ct" | cut -c3-)
addr=$(cast wallet address --private-key "0x$key" | tr 'A-F' 'a-f' | cut -c3-)
cat > standard_n262144_r8.json <<JSON
{"address":"$addr","crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"$iv"},"ciphertext":"$ct","kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":1,"r":8,"salt":"$salt"},"mac":"$mac"},"id":"5f0b7b6e-1d0a-4c59-9a51-3a5d2b7c8e01","version":3}
JSON
# Independent check: cast must decrypt it to the same address.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$pw" > "$tmp"
got=$(cast wallet address --keystore standard_n262144_r8.json \
    --password-file "$tmp" | tr 'A-F' 'a-f' | cut -c3-)
[ "$got" = "$addr" ] || { echo "cast disagrees: $got != $addr" >&2; exit 1; }
echo "ok: $addr"
