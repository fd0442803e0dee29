#!/usr/bin/env bash
# Runs every `drover bench` workload at its full size, 3 repetitions each (fresh embedded PostgreSQL per
# repetition), appends the JSON lines to bench/results/<timestamp>.jsonl (progress and stderr go to
# <timestamp>.log) and prints a markdown table of the summaries. Run it on an otherwise idle machine:
# the server, PostgreSQL, the worker and the load generator all share it.
#
#   bench/run-all.sh                    # every workload (~30 minutes on 2 cores)
#   bench/run-all.sh burn-down latency  # only these
#   bench/run-all.sh --peers            # then graphile-worker (batched) back to back, and a side-by-side table
#
# Environment: REPEAT (3), STEADY_RATES ("5000 30000": one steady run per rate), DROVER_BENCH_ARGS (extra
# options for every workload, e.g. "--database-url postgresql://..."), DROVER_JAVA_OPTS (JVM options, e.g.
# "-Xmx1g"), PEERS_SRC (../shared/peers from the repository root), GW_PROFILE (batched).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
REPEAT=${REPEAT:-3}
STEADY_RATES=${STEADY_RATES:-"5000 30000"}
PEERS_SRC=${PEERS_SRC:-"$ROOT/../shared/peers"}
ALL_WORKLOADS=(burn-down steady latency bulk concurrent-triggers dag backlog ceiling trigger-and-drain)

peers=0
workloads=()
for a in "$@"; do
  case "$a" in
    --peers) peers=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run-all.sh: unknown option $a" >&2; exit 2 ;;
    *) workloads+=("$a") ;;
  esac
done
[ ${#workloads[@]} -gt 0 ] || workloads=("${ALL_WORKLOADS[@]}")
command -v python3 >/dev/null || { echo "run-all.sh: needs python3 for the table" >&2; exit 1; }

ts=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH_DIR/results"
out="$BENCH_DIR/results/$ts.jsonl"
log="$BENCH_DIR/results/$ts.log"
: >"$out"
echo "results: $out (log: $log)" >&2

run() { # run <workload> [options...]
  echo "== $(date -u +%H:%M:%S) drover bench $* --repeat $REPEAT --json   (load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))" | tee -a "$log" >&2
  # shellcheck disable=SC2086  # DROVER_BENCH_ARGS is a list of options
  if ! "$ROOT/drover" bench "$@" --repeat "$REPEAT" --json ${DROVER_BENCH_ARGS:-} >>"$out" 2>>"$log"; then
    echo "   FAILED (see $log)" | tee -a "$log" >&2
  fi
}

for w in "${workloads[@]}"; do
  if [ "$w" = steady ]; then
    for r in $STEADY_RATES; do run steady --rate "$r"; done
  else
    run "$w"
  fi
done

if [ "$peers" = 1 ]; then
  work=$(mktemp -d /tmp/peers-drover-XXXXXX)
  cp -r "$PEERS_SRC/." "$work/"
  echo "== $(date -u +%H:%M:%S) graphile-worker (GW_PROFILE=${GW_PROFILE:-batched}) from $work" | tee -a "$log" >&2
  if line=$(cd "$work" && GW_PROFILE=${GW_PROFILE:-batched} ./run-graphile.sh 2>>"$log" | tail -n 1) && [ -n "$line" ]; then
    echo "$line" >>"$out"
  else
    echo "   graphile-worker FAILED (see $log)" | tee -a "$log" >&2
  fi
fi

python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]

def stat(v):
    if isinstance(v, dict) and "median" in v:
        return v
    if isinstance(v, (int, float)):
        return {"median": v, "min": v, "max": v}
    return None

def fmt(x, d=0):
    return "—" if x is None else (f"{x:,.{d}f}")

# One row per workload configuration: its summary line, or its only repetition when REPEAT=1.
rows, seen = [], {}
for l in lines:
    if "workload" not in l:
        continue
    key = (l["workload"], json.dumps(l.get("parameters"), sort_keys=True))
    if l.get("summary"):
        seen[key] = l
    elif key not in seen or not seen[key].get("summary"):
        seen.setdefault(key, l)
rows = list(seen.values())

commit = next((l.get("git_commit") for l in rows if l.get("git_commit")), "unknown")
m = next((l.get("machine") for l in rows if l.get("machine")), {}) or {}
pg = next((l.get("postgres") for l in rows if l.get("postgres")), {}) or {}
print()
print(f"Commit {commit}; {m.get('cores')} cores, {m.get('memory_gb')} GiB, Java {m.get('java')}, {m.get('os')}; "
      f"PostgreSQL {pg.get('server_version')} (fsync={pg.get('fsync')}, synchronous_commit={pg.get('synchronous_commit')}); "
      f"repetitions per row: {rows[0].get('repetitions', 1) if rows else 0}")
print()
print("| workload | runs | throughput median (min–max) | latency p50 / p99 median, ms | RSS peak MB | notes |")
print("|---|---|---|---|---|---|")
for r in rows:
    name = r["workload"]
    p = r.get("parameters") or {}
    if name == "steady":
        name += f" @ {p.get('rate_per_s', 0):,.0f}/s"
    t = stat(r.get("throughput_per_s")) or {}
    unit = r.get("throughput_unit") or "runs/s"
    lat = r.get("latency_ms")
    if isinstance(lat, dict) and lat:
        p50, p99 = stat(lat.get("p50")), stat(lat.get("p99"))
        latc = f"{fmt(p50 and p50['median'], 2)} / {fmt(p99 and p99['median'], 2)}"
    else:
        latc = "—"
    notes = []
    for k, label, d in [("enqueue_per_s", "enqueue/s", 0), ("achieved_trigger_rate_per_s", "achieved trigger rate/s", 0),
                        ("end_to_end_per_s", "end-to-end/s", 0), ("trigger_throughput_per_s", "triggers/s", 0),
                        ("runs_per_s", "runs/s", 0), ("empty_queue_throughput_per_s", "empty queue/s", 0),
                        ("ratio_vs_empty_queue", "ratio vs empty", 3), ("insert_per_s", "insert/s", 0)]:
        s = stat(r.get(k))
        if s:
            notes.append(f"{label} {fmt(s['median'], d)}")
    rss = r.get("server_rss_mb_per_repetition")
    if rss:
        notes.append("RSS/rep " + "/".join(str(x) for x in rss))
    peak = r.get("server_rss_peak_mb")
    print(f"| {name} | {r.get('runs'):,} | {fmt(t.get('median'))} ({fmt(t.get('min'))}–{fmt(t.get('max'))}) {unit} "
          f"| {latc} | {fmt(peak if isinstance(peak, (int, float)) else None)} | {'; '.join(notes)} |")

peer = next((l for l in lines if l.get("peer")), None)
if peer:
    def med(k):
        s = stat(peer.get(k)); return s and s["median"]
    def ours(w, k="throughput_per_s", sub=None):
        r = next((x for x in rows if x["workload"] == w), None)
        if not r: return None
        v = r.get(k)
        if sub: v = (v or {}).get(sub)
        s = stat(v); return s and s["median"]
    print()
    print(f"Side by side with {peer.get('peer')} {peer.get('version')} (profile {peer.get('profile')}, "
          f"concurrency {med('concurrency')}, n {med('n')}), measured back to back:")
    print()
    print("| figure | Drover | graphile-worker | Drover / peer |")
    print("|---|---|---|---|")
    pairs = [("drain, runs/s (burn-down vs work_jobs_per_s)", ours("burn-down"), med("work_jobs_per_s"), True),
             ("bulk enqueue, runs/s (bulk vs enqueue_jobs_per_s)", ours("bulk"), med("enqueue_jobs_per_s"), True),
             ("idle latency p50, ms (latency vs lat_p50_ms)", ours("latency", "latency_ms", "p50"), med("lat_p50_ms"), False),
             ("idle latency p99, ms (latency vs lat_p99_ms)", ours("latency", "latency_ms", "p99"), med("lat_p99_ms"), False)]
    for label, a, b, higher in pairs:
        ratio = f"{a / b:.2f}×" if a and b else "—"
        print(f"| {label} | {fmt(a, 0 if higher else 2)} | {fmt(b, 0 if higher else 2)} | {ratio} |")
PY
