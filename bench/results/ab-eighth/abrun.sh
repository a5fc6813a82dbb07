#!/bin/bash
# abrun.sh OLDREV NEWREV ROUNDS: each commit in a worktree under /tmp, the rounds, their medians
HERE="$(cd "$HERE" && pwd)"
for r in $1 $2; do [ -d /tmp/wt-$r ] || (cd /work/main && git worktree add -f /tmp/wt-$r $r -q && ln -sf /work/main/.venv /tmp/wt-$r/.venv); done
cd /work/main && timeout 1200 .venv/bin/python "$HERE/ab2.py" $3 /tmp/wt-$1 /tmp/wt-$2 2>&1 | grep "^[0-9]" > "$HERE/ab-$1-$2.out"
python3 - "$HERE/ab-$1-$2.out" <<'PY'
import re, statistics, sys
d={"old":{"p50":[],"cpu":[]},"new":{"p50":[],"cpu":[]}}
for l in open(sys.argv[1]):
    m=re.match(r"\d+ (\w+) p50 ([\d.]+) p99 ([\d.]+) cpu/click ([\d.]+)",l)
    d[m[1]]["p50"].append(float(m[2])); d[m[1]]["cpu"].append(float(m[4]))
for k,v in d.items(): print(k, "p50 median %.2f cpu median %.3f n=%d" % (statistics.median(v["p50"]), statistics.median(v["cpu"]), len(v["p50"])))
PY
