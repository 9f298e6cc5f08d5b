# Shared helpers for the benchmark scripts (bench-*.sh; not part of
# make check).  Source it after `set -euo pipefail`.
#
# Each tool is timed in rounds: every round runs every tool once, one after
# the other, so that a slow spell of the machine hits all of them alike, and
# the best round of each tool is kept.  Before each timed run:
#
#   drop_caches        the page caches are emptied (reads start cold);
#   settle_memory MIB  MIB of memory is written and freed again.  A virtual
#                      machine hands guest pages that were free for a while
#                      back to its host; the next first touch of such a page
#                      costs more than copying into it.  Whichever run came
#                      first after a pause paid for it (up to 5x the time of
#                      the same run a moment later).  Touching the memory
#                      first gives every run the same, recently used pages.

drop_caches ()
{
    sync
    echo 3 > /proc/sys/vm/drop_caches
}

settle_memory ()
{
    local scratch
    scratch=$(mktemp /dev/shm/bench-settle.XXXXXX)
    dd if=/dev/zero of="$scratch" bs=1M count="$1" status=none
    rm -f "$scratch"
}

# now: seconds since the epoch, with nanoseconds.
now () { date +%s.%N; }

# seconds_since T0: wall seconds from T0 (a `now`) to now.
seconds_since () { echo "$(now) - $1" | bc -l; }

# kernel_worker_ns: nanoseconds on a CPU so far, summed over the kernel's
# worker threads (kworker/*): the loop driver writes into its backing file
# in one of them, so this is the device's share of a copy.
kernel_worker_ns ()
{
    local sum=0 task name ns
    for task in /proc/[0-9]*; do
        read -r name < "$task/comm" 2>/dev/null || continue
        case $name in
            kworker*) read -r ns _ < "$task/schedstat" 2>/dev/null &&
                          sum=$(( sum + ns )) ;;
        esac
    done
    echo "$sum"
}

# children_cpu: user + system seconds of the calling shell's waited-for
# children so far, in $children.  `times` must run in the shell that ran
# the tools, not in $(...), which has no children of its own: it writes to
# a file in the script's $work folder.
children_cpu ()
{
    times > "$work/times"
    children=$(tail -1 "$work/times" |
               awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
                      print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}

# is_less A B: A < B, as decimal numbers.
is_less () { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }

# ratio A B: A / B with two decimals.
ratio () { echo "scale=2; $1 / $2" | bc -l; }

# fresh_target: a loop device over a new, empty backing file $work/target
# of $size bytes (a fresh thin volume), the same for every tool; the
# previous one ($loop) is detached.  Runs in the script's shell, not in
# $(...): $loop is kept for its cleanup.
fresh_target ()
{
    [ -z "$loop" ] || losetup -d "$loop"
    rm -f "$work/target"
    truncate -s "$size" "$work/target"
    loop=$(losetup -f --show "$work/target")
}
