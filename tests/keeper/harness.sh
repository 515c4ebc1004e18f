# harness.sh - what the keeper's script tests share: pass/fail counters and
# checks, stopping a process by pid, a free loopback port, and bounded
# polling for a condition. Sourced, not run; the caller prints
# "$passed passed, $failed failed" from its own EXIT trap.

passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # DESCRIPTION COMMAND...
    local desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

stop_pid() { # PID: TERM, then KILL if it lingers
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
}

free_port() {
    node -e 'const s=require("net").createServer();
             s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # SECONDS COMMAND...: until the command succeeds, or give up
    local limit=$1 i
    shift
    for i in $(seq 1 $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
