#!/usr/bin/env bash
# Measures the engine's own cost, from source, in a generated pipeline (median of N runs, default 5):
#   1. per-step overhead of a hit: a fully cached run of S independent steps (default 50) against an empty target;
#   2. big inputs are not hashed again: a step reading a G MiB file (default 1024), first run vs cached run.
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

mkdir -p "$work/many/in"
for i in $(seq -w 1 "$steps"); do echo "input $i" > "$work/many/in/$i.txt"; done
for i in $(seq -w 1 "$steps"); do echo "<Step Include=\"s$i\" Command=\"cp in/$i.txt out/$i.txt\" Inputs=\"in/$i.txt\" Outputs=\"out/$i.txt\" WorkingDirectory=\".\" />"; done | project "$work/many/many.proj"
mkdir -p "$work/many/out"
dotnet msbuild "$work/many/many.proj" -t:RunPipeline -nr:false > /dev/null
cached=$(repeat dotnet msbuild "$work/many/many.proj" -t:RunPipeline -nr:false -tl:off)
grep -q "hit rate 100%" "$work/last.log" || { echo "not fully cached"; cat "$work/last.log"; exit 1; }
empty=$(repeat dotnet msbuild "$work/many/many.proj" -t:Empty -nr:false -tl:off)

mkdir -p "$work/big/data"
head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/big/data/big.bin"
echo '<Step Include="count" Command="wc -c data/big.bin > size.txt" Inputs="data/big.bin" Outputs="size.txt" />' | project "$work/big/big.proj"
first=$(seconds dotnet msbuild "$work/big/big.proj" -t:RunPipeline -nr:false -tl:off)
sleep 3 # past the racy-timestamp window, so the file's stamp is kept for later runs
second=$(seconds dotnet msbuild "$work/big/big.proj" -t:RunPipeline -nr:false -tl:off)
big_cached=$(repeat dotnet msbuild "$work/big/big.proj" -t:RunPipeline -nr:false -tl:off)
grep -q "Using cached version of count" "$work/last.log" || { echo "big input step not cached"; cat "$work/last.log"; exit 1; }

printf 'median of %s runs (dotnet msbuild, from source)\n' "$runs"
printf '  %3s cached steps: %6.2fs   empty target: %6.2fs   per step: %5.1f ms\n' "$steps" "$cached" "$empty" \
  "$(awk -v c="$cached" -v e="$empty" -v n="$steps" 'BEGIN { print (c - e) * 1000 / n }')"
printf '  %s MiB input: first run %6.2fs (hashes it), second %6.2fs, cached %6.2fs (size+mtime stamp, no read)\n' "$mib" "$first" "$second" "$big_cached"
