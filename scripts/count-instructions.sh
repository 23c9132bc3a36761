#!/bin/bash
# Instructions per call of one mode of the micro-benchmark, on the main thread (see bench/micro-count.ts):
#   scripts/count-instructions.sh OUTDIR MODE CALLS QUERY [WARMUP]
# e.g. scripts/count-instructions.sh /tmp/cg sessionHit 300 findUnique 600
set -e
out=$1; mkdir -p "$out"; name=cg.$2.$4
valgrind --tool=callgrind --separate-threads=yes --dump-before=uv_os_getpriority --callgrind-out-file="$out/$name" \
  node --single-threaded --import tsx bench/micro-count.ts "$2" "$3" "$4" "${5:-600}" > "$out/log.$2.$4" 2>&1
ir=$(callgrind_annotate "$out/$name.2-01" 2>/dev/null | grep -m1 'PROGRAM TOTALS' | awk '{gsub(",","",$1); print $1}')
echo "$4 $2 calls=$3 instructions/call=$((ir / $3))"
