#!/usr/bin/env bash
# Crash soak: kill -9 a build's whole process group at a random moment, then build again undisturbed and check the
# result against what running the steps gives. Repeated R times (default 100) on a three-step pipeline whose first
# step writes a folder, with a random parameter each time so killed builds execute, store or restore, and rebuilds
# both repeat the killed value and switch to another entry.
#   build/soak-kill.sh [runs] [seed]
# Prints one line per run and a closing line: "soak: R runs, W wrong outputs, S stray files, F failed rebuilds".
# Exits non-zero when any of W, S, F is not 0. Runs from source (samples/FromSource).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-100} seed=${2:-$RANDOM}
RANDOM=$seed
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
parts=6

cat > "$work/soak.proj" <<EOF
<Project>
  <Import Project="$repo/samples/FromSource/Sdk.props" />
  <PropertyGroup><V Condition="'\$(V)' == ''">a</V></PropertyGroup>
  <ItemGroup>
    <Step Include="gen" Parameters="V=\$(V)" Outputs="data/"
          Command="mkdir -p data &amp;&amp; for i in $(seq -s ' ' 1 $parts); do echo \$PARAM_V-\$i > data/\$PARAM_V\$i.txt; sleep 0.05; done &amp;&amp; mkdir -p data/empty" />
    <Step Include="train" Inputs="data/" Outputs="model/" Parameters="V=\$(V)"
          Command="mkdir -p model &amp;&amp; cat data/*.txt | sha256sum > model/weights.txt &amp;&amp; cp data/\${PARAM_V}1.txt model/first.txt &amp;&amp; ln -sf weights.txt model/latest" />
    <Step Include="report" Inputs="model/" Outputs="report.txt" Command="cat model/weights.txt model/first.txt > report.txt" />
  </ItemGroup>
  <Import Project="$repo/samples/FromSource/Sdk.targets" />
</Project>
EOF

cd "$work"
dotnet msbuild soak.proj -t:RunPipeline -nr:false -tl:off > "$work/warmup.log" 2>&1 || { cat "$work/warmup.log"; exit 1; }

source "$repo/build/soak-common.sh"

wrong=0 stray=0 failed=0
for run in $(seq 1 "$runs"); do
  # Half the killed builds use a value never seen (they execute, so the kill lands while steps run or store), half
  # one of a, b, c (mostly cached: the kill lands while outputs are restored).
  if [ $((RANDOM % 2)) -eq 0 ]; then v=n$run; else v=$(printf '%s' abc | cut -c$((RANDOM % 3 + 1))); fi
  killed_v=$v
  delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.2 + (r % 180) / 100 }')
  setsid dotnet msbuild soak.proj -t:RunPipeline -nr:false -tl:off -p:V=$v > "$work/killed.log" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true

  # The rebuild repeats the killed build's value half the time: whatever the kill left must not be served.
  if [ $((RANDOM % 2)) -eq 0 ]; then v=$killed_v; else v=$(printf '%s' abc | cut -c$((RANDOM % 3 + 1))); fi
  if ! dotnet msbuild soak.proj -t:RunPipeline -nr:false -tl:off -p:V=$v > "$work/rebuild.log" 2>&1; then
    failed=$((failed + 1)); echo "run $run: rebuild FAILED (V=$v, killed after ${delay}s)"; tail -20 "$work/rebuild.log"; continue
  fi

  rm -rf "$work/expected"; expected "$v" "$work/expected" with-empty
  if ! diff <(shape "$work") <(shape "$work/expected") > "$work/diff.txt"; then
    if grep -q '^<' "$work/diff.txt" && ! grep -q '^>' "$work/diff.txt"; then stray=$((stray + 1)); else wrong=$((wrong + 1)); fi
    echo "run $run: outputs differ from running the steps (V=$v, killed after ${delay}s)"; cat "$work/diff.txt"
  fi
  leftovers=$(find "$work" -name '*.mlp-restore' | wc -l)
  [ -d .mlpipelines/staging ] && leftovers=$((leftovers + $(find .mlpipelines/staging -mindepth 1 | wc -l)))
  if [ "$leftovers" -gt 0 ]; then stray=$((stray + 1)); echo "run $run: $leftovers leftover staging files"; fi
  summary=$(grep -o 'Pipeline soak: .*' "$work/rebuild.log" || true)
  echo "run $run: killed V=$killed_v after ${delay}s, rebuilt V=$v: ${summary:-?}"
done

echo "soak: $runs runs (seed $seed), $wrong wrong outputs, $stray stray files, $failed failed rebuilds"
[ "$wrong" -eq 0 ] && [ "$stray" -eq 0 ] && [ "$failed" -eq 0 ]
