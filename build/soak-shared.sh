#!/usr/bin/env bash
# Shared-store soak: 4 checkouts share one PipelineCacheDir and build 25 times each with a random parameter, all at
# once, while a fifth process prunes (with a tiny size cap, so entries really go) and clears in a loop. After every
# build, its outputs are compared with what running the steps gives for its parameter.
#   build/soak-shared.sh [builds-per-checkout] [seed]
# Prints one line per failure and a closing line:
#   "soak-shared: 4 checkouts x N builds (seed S), W wrong outputs, F failed builds, H failed housekeeping (P runs)"
# Exits non-zero when any of W, F, H is not 0. Runs from source (samples/FromSource).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
builds=${1:-25} seed=${2:-$RANDOM}
checkouts=4
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
parts=4

# One project per checkout; every checkout names the same pipeline and store, so entries are shared among them.
project() { # $1 = folder
  mkdir -p "$1"
  cat > "$1/soak.proj" <<EOF
<Project>
  <Import Project="$repo/samples/FromSource/Sdk.props" />
  <PropertyGroup>
    <PipelineName>soak</PipelineName>
    <PipelineCacheDir>$work/store</PipelineCacheDir>
    <V Condition="'\$(V)' == ''">a</V>
  </PropertyGroup>
  <ItemGroup>
    <Step Include="gen" Parameters="V=\$(V)" Outputs="data/"
          Command="mkdir -p data &amp;&amp; for i in $(seq -s ' ' 1 $parts); do echo \$PARAM_V-\$i > data/\$PARAM_V\$i.txt; done &amp;&amp; sleep 0.2" />
    <Step Include="train" Inputs="data/" Outputs="model/" Parameters="V=\$(V)"
          Command="mkdir -p model &amp;&amp; cat data/*.txt | sha256sum > model/weights.txt &amp;&amp; cp data/\${PARAM_V}1.txt model/first.txt &amp;&amp; ln -sf weights.txt model/latest &amp;&amp; sleep 0.2" />
    <Step Include="report" Inputs="model/" Outputs="report.txt" Command="cat model/weights.txt model/first.txt > report.txt" />
  </ItemGroup>
  <Import Project="$repo/samples/FromSource/Sdk.targets" />
</Project>
EOF
}

source "$repo/build/soak-common.sh"

for c in $(seq 0 $checkouts); do project "$work/c$c"; done
# Builds the task assembly once, before anything runs concurrently.
(cd "$work/c0" && dotnet msbuild soak.proj -t:RunPipeline -nr:false -tl:off > "$work/warmup.log" 2>&1) || { cat "$work/warmup.log"; exit 1; }

builder() { # $1 = checkout number; writes "wrong failed" to $work/result.$1
  local c=$1 wrong=0 failed=0 v log
  RANDOM=$((seed + c))
  for b in $(seq 1 "$builds"); do
    v=$(printf '%s' abcdef | cut -c$((RANDOM % 6 + 1)))
    log="$work/c$c/build.$b.log"
    if ! (cd "$work/c$c" && dotnet msbuild soak.proj -t:RunPipeline -nr:false -tl:off -p:V=$v > "$log" 2>&1); then
      failed=$((failed + 1)); echo "checkout $c build $b (V=$v) FAILED:"; grep -E 'error|warning' "$log" | head -5; continue
    fi
    rm -rf "$work/c$c/expected"; expected "$v" "$work/c$c/expected"
    if ! diff <(shape "$work/c$c") <(shape "$work/c$c/expected") > "$work/c$c/diff.txt"; then
      wrong=$((wrong + 1)); echo "checkout $c build $b (V=$v): outputs differ from running the steps"; cat "$work/c$c/diff.txt"
    fi
    echo "checkout $c build $b (V=$v): $(grep -o 'Pipeline soak: .*' "$log" || echo '?')"
  done
  echo "$wrong $failed" > "$work/result.$c"
}

housekeeper() { # prunes and clears from the fifth checkout until every builder is done
  local runs=0 failures=0 log="$work/c$checkouts/housekeeping.log"
  while [ ! -e "$work/builders-done" ]; do
    case $((runs % 3)) in
      0) args="-t:PrunePipelineCache -p:PipelineCacheMaxSize=2KB" ;;
      1) args="-t:ClearPipelineCache -p:PipelineSteps=train" ;;
      2) args="-t:PrunePipelineCache" ;;
    esac
    if ! (cd "$work/c$checkouts" && dotnet msbuild soak.proj $args -nr:false -tl:off > "$log" 2>&1); then
      failures=$((failures + 1)); echo "housekeeping $args FAILED:"; grep -E 'error|warning' "$log" | head -5
    fi
    runs=$((runs + 1))
  done
  echo "$runs $failures" > "$work/result.housekeeping"
}

housekeeper &
keeper=$!
pids=()
for c in $(seq 0 $((checkouts - 1))); do builder "$c" & pids+=($!); done
wait "${pids[@]}"
touch "$work/builders-done"
wait "$keeper"

wrong=0 failed=0
for c in $(seq 0 $((checkouts - 1))); do read -r w f < "$work/result.$c"; wrong=$((wrong + w)); failed=$((failed + f)); done
read -r hruns hfailed < "$work/result.housekeeping"
echo "soak-shared: $checkouts checkouts x $builds builds (seed $seed), $wrong wrong outputs, $failed failed builds, $hfailed failed housekeeping ($hruns runs)"
[ "$wrong" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$hfailed" -eq 0 ]
