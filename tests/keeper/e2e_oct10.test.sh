#!/usr/bin/env bash
# The keeper end to end on the devnet: oct-10-2025,
# which takes the reserve below critical without exhausting it.
# e2e_severe (e2e_lib.sh) replays it with the keeper running, paced at 1200
# scenario seconds per wall second (73 10-minute steps, two a second), and checks
# an injection within two blocks of each critical crossing, no clawback
# while the pool could cover, one transaction per idempotency key and,
# if the tier was paged, PagerDuty's trigger then resolve (same dedup_key).
E2E_NAME=oct10
. "$(dirname "$0")/e2e_lib.sh"

e2e_severe oct10 oct-10-2025 1200
