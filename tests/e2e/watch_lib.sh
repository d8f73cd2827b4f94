# watch_lib.sh - what watch.sh and watch-restart.sh share to look at what the watcher of `stack serve` wrote.
# Source it after lib.sh, with D (the docker client) and LOG (the daemon's log) set.
#   db SQL                      the answer of the store's index (sqlite3)
#   run_id SLUG                 the id of SLUG's run
#   wait_db SQL WANT SECONDS WHAT   until db SQL answers WANT, else fail naming WHAT
#   container SLUG              the ids of the containers of SLUG's compose project
db() { sqlite3 "$STACK_HOME/index.db" "$1"; }
run_id() { db "SELECT id FROM runs WHERE slug = '$1'"; }
wait_db() {
  local got=""
  for _ in $(seq 1 $(($3 * 10))); do
    got=$(db "$1" 2>/dev/null || true)
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  die "$4: wanted [$2], got [$got] ($1); serve log: $(tail -8 "$LOG")"
}
container() { "$D" ps -aq --filter "label=com.docker.compose.project=stack-$1"; }
