# Shell functions the benches/run-* scripts share. Sourced, not run: set `bench` (the
# script's name, for messages) and `ready_timeout` (seconds) before calling them.

# Prints a message on stderr, prefixed with the script's name.
say() {
    echo "$bench: $*" >&2
}

# The machine, its load, the date and the commit, for the record of a run.
describe_machine() {
    local model load
    model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    say "$(nproc) cores ($model), load average $load, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
}

# The path of release binary $1 (in CARGO_TARGET_DIR when that is set).
release_bin() {
    echo "${CARGO_TARGET_DIR:-target}/release/$1"
}

# A free loopback port: a random one nothing answers on, other than those given.
free_port() {
    local port taken
    for _ in {1..100}; do
        # Below the ephemeral range (32768+), where a client connection may take it first.
        port=$((20000 + RANDOM % 12000))
        for taken in "$@"; do
            [[ $port == "$taken" ]] && continue 2
        done
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    say "found no free port"
    return 1
}

# Waits until http://$2$4 answers 200 ($4 default /readyz), as long as process $1 lives;
# $3 names it.
wait_ready() {
    local pid=$1 addr=$2 name=$3 path=${4:-/readyz} i
    for ((i = 0; i < ready_timeout * 5; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$name exited before it was ready"
            return 1
        fi
        if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$addr$path" || true) == 200 ]]; then
            return 0
        fi
        sleep 0.2
    done
    say "$name's $path did not answer 200 within ${ready_timeout}s"
    return 1
}

# Stops process $1 (if one was started) and waits for it.
stop_process() {
    local pid=$1
    [[ -n $pid ]] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# After a failed run (status $1 non-zero) prints the last lines of log $2; else removes it.
show_log_on_failure() {
    local status=$1 log=$2
    if [[ $status -ne 0 && -s $log ]]; then
        say "last lines of $log:"
        tail -n 20 "$log" >&2 || true
    else
        rm -f "$log"
    fi
}

# Creates database $2 on the server at $1.
create_database() {
    psql "$1/postgres" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$2\""
}

# Drops database $2 on the server at $1, closing its connections.
drop_database() {
    psql "$1/postgres" -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS \"$2\" WITH (FORCE)" >/dev/null ||
        say "could not drop database $2"
}

# 32 random bytes in hex: a JWT secret for one run.
random_secret() {
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}
