#!/usr/bin/env bash
# The keeper end to end on the devnet: luna-2022,
# which exhausts the reserve without a keeper.
# e2e_severe (e2e_lib.sh) replays it with the keeper running, paced at 28800
# scenario seconds per wall second (37 4-hour steps, two a second), and checks
# an injection within two blocks of each critical crossing, no clawback
# while the pool could cover, one transaction per idempotency key and,
# if the tier was paged, PagerDuty's trigger then resolve (same dedup_key).
E2E_NAME=luna
. "$(dirname "$0")/e2e_lib.sh"

e2e_severe luna luna-2022 28800
