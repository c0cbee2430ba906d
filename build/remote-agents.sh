#!/usr/bin/env bash
# The remote cache's measurement (issue 10): several CI agents share one nginx as their remote cache.
#
#   build/remote-agents.sh [--steps N] [--agents K] [--work SECONDS] [--size SIZE] [--unsigned]
#
# Defaults: 50 steps, 4 agents, each step sleeps 1 s (its "work") and writes 1 MiB of random bytes, every entry signed
# (MLPIPELINES_REMOTE_CACHE_SIGNING_KEY set for every agent, as on a main branch). It starts one nginx on a free
# loopback port (WebDAV PUT, the end-to-end tests' configuration), packs the SDK once into a private feed, and makes
# K checkouts of one generated pipeline, each with its own local store (.mlpipelines/). Agent 1 builds first (cold:
# executes every step and uploads), then agents 2..K build at the same time. It prints the wall time of agent 1, of
# agents 2..K together and of each, and how many steps each executed and restored from the remote. It exits non-zero
# when a build fails, agent 1 does not execute every step, another agent executes any step or restores one from
# anywhere but the remote, or an agent's outputs differ from agent 1's. MLP_KEEP_AGENTS=1 keeps the workspace (logs).
set -euo pipefail
{ # Bash reads this block whole before running it: editing the script during a run does not derail the run.
repo=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; }

steps=50 agents=4 work_seconds=1 size=1M sign=1
while (($#)); do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --work) work_seconds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --unsigned) sign=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $steps =~ ^[0-9]+$ ]] && ((steps >= 4)) || { echo "--steps must be a number >= 4" >&2; exit 2; }
[[ $agents =~ ^[0-9]+$ ]] && ((agents >= 2)) || { echo "--agents must be a number >= 2" >&2; exit 2; }
[[ $work_seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "--work must be seconds" >&2; exit 2; }
size_bytes=$(numfmt --from=iec "$size") || { echo "--size: not a size: $size" >&2; exit 2; }

export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Only what this script sets reaches the agents' builds.
unset MLPIPELINES_REMOTE_CACHE_USER MLPIPELINES_REMOTE_CACHE_PASSWORD MLPIPELINES_REMOTE_CACHE_TOKEN MLPIPELINES_REMOTE_CACHE_SIGNING_KEY

# --- nginx: the Debian package when missing, as .ci/run installs it ------------------------------------------------
nginx=''
for candidate in "$(command -v nginx || true)" /usr/sbin/nginx /usr/local/sbin/nginx; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then nginx=$candidate; break; fi
done
if [ -z "$nginx" ]; then
  sudo=''; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq nginx-light > /dev/null 2>&1 || { $sudo apt-get update -qq > /dev/null && $sudo apt-get install -y -qq nginx-light > /dev/null; }
  $sudo service nginx stop > /dev/null 2>&1 || true # the package may start a system nginx on port 80
  nginx=/usr/sbin/nginx
fi

# --- workspace: a private feed, nuget.config and packages folder, as build/bench/run.sh and the TestKit set them up -
work=$(mktemp -d "${TMPDIR:-/tmp}/mlp-agents.XXXXXX")
nginx_pid=''
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2> /dev/null || true; wait "$nginx_pid" 2> /dev/null || true; fi
  if [ "${MLP_KEEP_AGENTS:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/feed" "$work/packages" "$work/logs"
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do
  echo '<Project><!-- Empty: keeps files above the workspace out of its builds. --></Project>' > "$work/$f"
done
cat > "$work/nuget.config" <<EOF
<configuration>
  <packageSources><clear /><add key="mlpipelines-agents-feed" value="$work/feed" /></packageSources>
  <fallbackPackageFolders><clear /></fallbackPackageFolders>
  <disabledPackageSources><clear /></disabledPackageSources>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
</configuration>
EOF
export NUGET_PACKAGES=$work/packages
unset NUGET_FALLBACK_PACKAGES

# --- nginx on a free loopback port: one process (master_process off), so it runs as this user and needs no `user` --
server=$work/nginx
mkdir -p "$server/conf" "$server/data/cache" "$server"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
listening() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
port=''
for attempt in 1 2 3 4 5; do
  candidate=$((20000 + RANDOM % 40000))
  listening "$candidate" && continue # taken
  cat > "$server/conf/nginx.conf" <<EOF
daemon off;
master_process off;
pid $server/nginx.pid;
error_log $server/error.log warn;
events { worker_connections 512; }
http {
    access_log $server/access.log;
    client_body_temp_path $server/tmp/body;
    proxy_temp_path $server/tmp/proxy;
    fastcgi_temp_path $server/tmp/fastcgi;
    uwsgi_temp_path $server/tmp/uwsgi;
    scgi_temp_path $server/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$candidate;
        location /cache/ {
            root $server/data;
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            client_max_body_size 0;
        }
    }
}
EOF
  "$nginx" -p "$server/" -c "$server/conf/nginx.conf" -e "$server/error.log" &
  nginx_pid=$!
  for _ in $(seq 1 150); do
    listening "$candidate" && { port=$candidate; break; }
    kill -0 "$nginx_pid" 2> /dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] && break
  kill "$nginx_pid" 2> /dev/null || true; wait "$nginx_pid" 2> /dev/null || true; nginx_pid=''
  grep -q 'Address already in use' "$server/error.log" 2> /dev/null || { echo "nginx did not start:" >&2; cat "$server/error.log" >&2; exit 1; }
done
[ -n "$port" ] || { echo "nginx found no free port" >&2; exit 1; }
url=http://127.0.0.1:$port/cache

# --- the package: a new version every time (the NuGet SDK resolver reuses an extracted package of the same version) -
version="1.0.0-agents.$(date -u +%Y%m%d%H%M%S).$((RANDOM % 99999 + 1))"
echo "packing MLPipelines.Sdk $version"
dotnet pack "$repo/src/Sdk/MLPipelines.Sdk.csproj" -c Release -o "$work/feed" -p:Version="$version" -nr:false -tl:off \
  > "$work/logs/pack.log" 2>&1 || { cat "$work/logs/pack.log"; exit 1; }

# --- the pipeline: 4 stages of 40/30/20/10 % of the steps, each step reading 2 outputs of the stage before ----------
# (a first-stage step reads an input file of its own). A step sleeps --work seconds (its computation), then writes
# out/<step>.txt (a hash of what it read) and out/<step>.bin (--size random bytes: a model's weights).
xml() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
write_pipeline() { # $1 = checkout folder
  local -a letters=(a b c d) count
  local k j prev name ins cmd d
  count=($(((steps * 4 + 5) / 10)) $(((steps * 3 + 5) / 10)) $(((steps * 2 + 5) / 10)))
  count+=($((steps - count[0] - count[1] - count[2])))
  mkdir -p "$1/in"
  {
    echo "<Project Sdk=\"MLPipelines.Sdk/$version\">"
    echo '  <ItemGroup>'
    for k in 0 1 2 3; do
      for ((j = 0; j < count[k]; j++)); do
        printf -v name '%s%03d' "${letters[k]}" "$j"
        if ((k == 0)); then
          ins="in/$name.txt"
          echo "input of $name" > "$1/$ins"
        else
          prev=${count[k - 1]} ins=''
          for d in 0 1; do
            printf -v ins '%s%sout/%s%03d.txt' "$ins" "${ins:+;}" "${letters[k - 1]}" $(((j * prev / count[k] + d) % prev))
          done
        fi
        cmd="sleep $work_seconds && mkdir -p out && cat ${ins//;/ } | sha256sum > out/$name.txt && head -c $size_bytes /dev/urandom > out/$name.bin"
        printf '    <Step Include="%s" Command="%s" Inputs="%s" Outputs="out/%s.txt;out/%s.bin" />\n' "$name" "$(xml "$cmd")" "$ins" "$name" "$name"
      done
    done
    echo '  </ItemGroup>'
    echo '</Project>'
  } > "$1/pipeline.proj"
}

# The SDK is extracted into the packages folder once, untimed, as a CI agent's NuGet cache holds it: a one-step
# pipeline without the remote cache.
mkdir -p "$work/warmup"
printf '<Project Sdk="MLPipelines.Sdk/%s">\n  <ItemGroup><Step Include="w" Command="echo w &gt; w.txt" Outputs="w.txt" /></ItemGroup>\n</Project>\n' \
  "$version" > "$work/warmup/pipeline.proj"
dotnet build "$work/warmup/pipeline.proj" -nr:false -tl:off > "$work/logs/warmup.log" 2>&1 || { cat "$work/logs/warmup.log"; exit 1; }

for ((a = 1; a <= agents; a++)); do write_pipeline "$work/agent$a"; done
sign_key=''
if ((sign)); then sign_key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'); fi

now() { date +%s.%N; }
build_agent() { # $1 = agent number; writes logs/agent<N>.log and logs/agent<N>.seconds
  local start end rc=0
  start=$(now)
  MLPIPELINES_REMOTE_CACHE_SIGNING_KEY=$sign_key dotnet build "$work/agent$1/pipeline.proj" -nr:false -tl:off \
    -p:PipelineRemoteCache="$url" > "$work/logs/agent$1.log" 2>&1 || rc=$?
  end=$(now)
  echo "$start $end" | awk '{ printf "%.1f\n", $2 - $1 }' > "$work/logs/agent$1.seconds"
  return $rc
}

failed=0
summary() { # $1 = agent: "executed cached remote-hits"
  local log=$work/logs/agent$1.log line
  line=$(grep -Eo "Pipeline pipeline: [0-9]+ steps?, [0-9]+ cached[^,]*, [0-9]+ executed" "$log" | tail -1)
  [ -n "$line" ] || { echo "no summary line in agent $1's log" >&2; tail -30 "$log" >&2; exit 1; }
  echo "$(echo "$line" | sed -E 's/.*, ([0-9]+) executed/\1/') $(echo "$line" | sed -E 's/.*steps?, ([0-9]+) cached.*/\1/') $(grep -c 'Using cached version of .* (remote)\.' "$log" || true)"
}

echo "agent 1: cold build of $steps steps (uploads to $url)"
build_agent 1 || { echo "agent 1's build failed:" >&2; tail -40 "$work/logs/agent1.log" >&2; exit 1; }
read -r e1 c1 r1 < <(summary 1)
uploaded=$(grep -Eo 'Uploaded [0-9]+ entr(y|ies) to the remote cache' "$work/logs/agent1.log" | grep -Eo '[0-9]+' || echo 0)
((e1 == steps)) || { echo "agent 1 executed $e1 of $steps steps" >&2; failed=1; }

echo "agents 2-$agents: concurrently"
start=$(now)
pids=()
for ((a = 2; a <= agents; a++)); do build_agent "$a" & pids+=($!); done
for ((i = 0; i < ${#pids[@]}; i++)); do
  wait "${pids[i]}" || { echo "agent $((i + 2))'s build failed:" >&2; tail -40 "$work/logs/agent$((i + 2)).log" >&2; failed=1; }
done
end=$(now)
others=$(echo "$start $end" | awk '{ printf "%.1f\n", $2 - $1 }')

files=$(find "$server/data/cache" -type f | wc -l)
bytes=$(find "$server/data/cache" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
echo
echo "remote-agents: $steps steps ($work_seconds s of work and $size of output each), $agents agents, one nginx at $url"
echo "  entries $( ((sign)) && echo signed || echo unsigned ); the server holds $files files, $(numfmt --to=iec "$bytes")B;" \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (times are only comparable on an idle machine)"
printf '  %-28s wall %6.1f s   executed %3d   restored from the remote %3d   uploaded %d\n' \
  "agent 1 (cold)" "$(cat "$work/logs/agent1.seconds")" "$e1" "$r1" "$uploaded"
printf '  %-28s wall %6.1f s\n' "agents 2-$agents (concurrently)" "$others"
for ((a = 2; a <= agents; a++)); do
  read -r e c r < <(summary "$a")
  printf '  %-28s wall %6.1f s   executed %3d   restored from the remote %3d\n' "  agent $a" "$(cat "$work/logs/agent$a.seconds")" "$e" "$r"
  ((e == 0)) || { echo "agent $a executed $e steps (expected 0)" >&2; failed=1; }
  ((r == steps)) || { echo "agent $a restored $r of $steps steps from the remote (expected all)" >&2; failed=1; }
  diff -rq "$work/agent1/out" "$work/agent$a/out" > /dev/null || { echo "agent $a's outputs differ from agent 1's" >&2; failed=1; }
done
if ((failed)); then echo "remote-agents: FAILED (MLP_KEEP_AGENTS=1 keeps the logs)" >&2; exit 1; fi
echo "remote-agents: agents 2-$agents executed 0 steps; their outputs are byte-identical to agent 1's"
exit 0
}
