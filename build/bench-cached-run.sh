#!/usr/bin/env bash
# Measures what a fully cached pipeline costs: `dotnet build -t:RunPipeline` of the iris sample after a warm-up run,
# next to an empty target of the same project (the MSBuild floor). Median of N runs (default 5) each.
#   build/bench-cached-run.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
project=samples/iris
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

time_runs() {
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" > /tmp/mlp-bench.log 2>&1 || { cat /tmp/mlp-bench.log; exit 1; }
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { print e - s }'
  done
}

echo "warm-up: one full run of $project"
dotnet build "$project" -t:RunPipeline -nr:false -tl:off > /tmp/mlp-bench.log 2>&1 || { cat /tmp/mlp-bench.log; exit 1; }

cached=$(time_runs dotnet build "$project" -t:RunPipeline -nr:false -tl:off | median)
grep -q "hit rate 100%" /tmp/mlp-bench.log || { echo "the measured runs were not fully cached:"; cat /tmp/mlp-bench.log; exit 1; }
empty=$(time_runs dotnet build "$project" -t:_MLPipelinesCheckHost -nr:false -tl:off | median)
msbuild_empty=$(time_runs dotnet msbuild "$project" -t:_MLPipelinesCheckHost -nr:false -tl:off | median)

printf 'median of %s runs\n' "$runs"
printf '  dotnet build -t:RunPipeline (fully cached)   %6.2fs\n' "$cached"
printf '  dotnet build -t:<empty target>              %6.2fs\n' "$empty"
printf '  dotnet msbuild -t:<empty target>            %6.2fs\n' "$msbuild_empty"
