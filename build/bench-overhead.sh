#!/usr/bin/env bash
# Measures the engine's own cost, from source, in a generated pipeline (median of N runs, default 5):
#   1. the cost of hits: fully cached runs of S/10 and S independent steps (default 50) against an empty target,
#      giving the fixed cost of a cached run and the marginal cost of one more cached step;
#   2. restores: the S-step pipeline with every output deleted before each run (all restored from objects/);
#   3. big inputs are not hashed again: a step reading a G MiB file (default 1024), first run vs cached run.
#   build/bench-overhead.sh [runs] [steps] [input-MiB]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5} steps=${2:-50} mib=${3:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
seconds() { local start end; start=$(date +%s.%N); "$@" > "$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }; end=$(date +%s.%N); awk -v s="$start" -v e="$end" 'BEGIN { print e - s }'; }
repeat() { for _ in $(seq "$runs"); do seconds "$@"; done | median; }

project() { # $1 = file, then the Step lines on stdin
  { echo "<Project><Import Project=\"$repo/samples/FromSource/Sdk.props\" /><ItemGroup>"; cat; echo "</ItemGroup><Target Name=\"Empty\" /><Import Project=\"$repo/samples/FromSource/Sdk.targets\" /></Project>"; } > "$1"
}

cached_run() { # $1 = number of steps; prints the median time of a fully cached run
  local dir="$work/many$1" i
  mkdir -p "$dir/in" "$dir/out"
  for i in $(seq -w 1 "$1"); do echo "input $i" > "$dir/in/$i.txt"; done
  for i in $(seq -w 1 "$1"); do echo "<Step Include=\"s$i\" Command=\"cp in/$i.txt out/$i.txt\" Inputs=\"in/$i.txt\" Outputs=\"out/$i.txt\" />"; done | project "$dir/many.proj"
  dotnet msbuild "$dir/many.proj" -t:RunPipeline -nr:false > /dev/null
  dotnet msbuild "$dir/many.proj" -t:RunPipeline -nr:false > /dev/null # past the racy window: stamps are kept from here on
  repeat dotnet msbuild "$dir/many.proj" -t:RunPipeline -nr:false -tl:off
  grep -q "hit rate 100%" "$work/last.log" || { echo "not fully cached" >&2; cat "$work/last.log" >&2; exit 1; }
}
few=$((steps / 10))
cached_few=$(cached_run "$few")
cached=$(cached_run "$steps")
empty=$(repeat dotnet msbuild "$work/many$steps/many.proj" -t:Empty -nr:false -tl:off)
restore=$(repeat sh -c "rm -f '$work/many$steps'/out/*.txt && dotnet msbuild '$work/many$steps/many.proj' -t:RunPipeline -nr:false -tl:off")
grep -q "Restored 1 output file of s$steps" "$work/last.log" || { echo "outputs not restored" >&2; cat "$work/last.log" >&2; exit 1; }

mkdir -p "$work/big/data"
head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/big/data/big.bin"
echo '<Step Include="count" Command="wc -c data/big.bin > size.txt" Inputs="data/big.bin" Outputs="size.txt" />' | project "$work/big/big.proj"
sleep 3 # past the racy-timestamp window, so the first run may keep the file's stamp
first=$(seconds dotnet msbuild "$work/big/big.proj" -t:RunPipeline -nr:false -tl:off -v:n)
read_first=$(grep -o '[0-9]* files were read' "$work/last.log")
big_cached=$(repeat dotnet msbuild "$work/big/big.proj" -t:RunPipeline -nr:false -tl:off -v:n)
read_cached=$(grep -o '[0-9]* files were read' "$work/last.log")
grep -q "Using cached version of count" "$work/last.log" || { echo "big input step not cached"; cat "$work/last.log"; exit 1; }

printf 'median of %s runs (dotnet msbuild, from source)\n' "$runs"
printf '  empty target: %.2fs   %s cached steps: %.2fs   %s cached steps: %.2fs\n' "$empty" "$few" "$cached_few" "$steps" "$cached"
printf '  %s steps, every output deleted and restored: %.2fs\n' "$steps" "$restore"
awk -v e="$empty" -v a="$cached_few" -v b="$cached" -v m="$few" -v n="$steps" \
  'BEGIN { per = (b - a) / (n - m); printf "  fixed cost of a cached run: %.0f ms; each further cached step: %.1f ms\n", (a - e - per * m) * 1000, per * 1000 }'
printf '  %s MiB input: first run %.2fs (%s), cached run %.2fs (%s: stamp unchanged, no read)\n' "$mib" "$first" "$read_first" "$big_cached" "$read_cached"
