#!/usr/bin/env bash
# Reproduces the Dockerfile's steps without a Docker engine, so CI checks what the image does:
#   build stage:   npm ci, tsc, in a clean folder holding only what the Dockerfile copies;
#   runtime stage: npm ci --omit=dev in another clean folder, dist/ and config/ copied in,
#                  checked to hold no stand-in code (a test double never ships);
#   standin stage: the stand-in's own build (standin/dist/) in a folder of its own;
#   then start both as compose's demo profile would (the gateway with NODE_ENV=production,
#   node dist/server.js, with an admin listener), run the image's HEALTHCHECK command, stream one answer through it,
#   and stop the gateway with SIGTERM.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
say() { printf 'verify-image: %s\n' "$*"; }

say "build stage"
mkdir -p "$work/build" "$work/app"
cp "$repo/package.json" "$repo/package-lock.json" "$repo/tsconfig.json" "$repo/tsconfig.build.json" "$work/build/"
cp -r "$repo/src" "$work/build/src"
# The build stage's `npm ci` installs exactly what the checkout's own `npm ci` installed (same
# package-lock.json): reuse it through hard links rather than unpack every package again (CI time).
if [ "$repo/node_modules/.package-lock.json" -nt "$repo/package-lock.json" ]; then
  cp -al "$repo/node_modules" "$work/build/node_modules"
  (cd "$work/build" && npm run build:server --silent >/dev/null)
else
  (cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run build:server --silent >/dev/null)
fi

say "runtime stage (production dependencies only)"
cp "$repo/package.json" "$repo/package-lock.json" "$work/app/"
(cd "$work/app" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
cp -r "$work/build/dist" "$work/app/dist"
cp -r "$repo/config" "$work/app/config"
for dev in tap typescript eslint tsx playwright-core; do
  if [ -d "$work/app/node_modules/$dev" ]; then say "FAIL: dev dependency $dev is in the runtime image"; exit 1; fi
done
# The stand-in and the demo are programs of their own (standin/, demo/): nothing of them may be in the gateway's output.
if [ -e "$work/app/dist/standin" ] || [ -e "$work/app/dist/demo" ] || grep -rlE 'createStandIn|__standin' "$work/app/dist" >/dev/null; then
  say "FAIL: stand-in code is in the production output:"; find "$work/app/dist" -path '*standin*'; grep -rlE 'createStandIn|__standin' "$work/app/dist" || true; exit 1
fi
say "the production output holds no stand-in code"

say "standin stage (its own build and folder)"
cp -r "$repo/standin" "$work/build/standin"
rm -rf "$work/build/standin/dist"
(cd "$work/build" && npm run build:standin --silent >/dev/null)
mkdir -p "$work/standin"
mkdir -p "$work/standin/standin"
cp -r "$work/build/standin/dist" "$work/standin/standin/dist"
# Same package files and `npm ci --omit=dev` as the runtime stage: share its node_modules to save CI time.
cp "$repo/package.json" "$work/standin/"
ln -s "$work/app/node_modules" "$work/standin/node_modules"

export ALGOLIA_APP_ID=IMAGECHECK ALGOLIA_API_KEY=image-check-api-key ALGOLIA_SEARCH_KEY=image-check-search-key ALGOLIA_KEY_ID=image-check-kid ALGOLIA_SECRET_KEY=sk-alg-image-check-secret
export ALLOWED_AGENT_IDS=image-agent SESSION_JWT_SECRET=image-check-session-secret-0123456789abcdef
standin_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
gateway_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
admin_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")

say "start the stand-in and the gateway as compose's demo profile would"
(cd "$work/standin" && STANDIN_PORT=$standin_port STANDIN_PACE_MS=0 node standin/dist/main.js >"$work/standin.log" 2>&1) &
pids+=($!)
(cd "$work/app" && NODE_ENV=production HOST=127.0.0.1 PORT=$gateway_port ADMIN_PORT=$admin_port AGENT_STUDIO_URL="http://127.0.0.1:$standin_port/agent-studio" ALGOLIA_SEARCH_API_URL="http://127.0.0.1:$standin_port" exec node dist/server.js >"$work/gateway.log" 2>&1) &
gateway_pid=$!
pids+=($gateway_pid)

# The HEALTHCHECK's own script, read from the Dockerfile (no copy to drift), run as the image would:
# with ADMIN_PORT set, /healthz is on the admin listener.
healthcheck_js=$(node -e "const m = /^HEALTHCHECK [^\\n]*\\\\\n\\s*CMD (\\[.*\\])$/m.exec(require('fs').readFileSync(process.argv[1], 'utf8')); process.stdout.write(JSON.parse(m[1])[2])" "$repo/Dockerfile")
healthcheck() { PORT=$gateway_port ADMIN_PORT=$admin_port node -e "$healthcheck_js"; }
for _ in $(seq 1 100); do healthcheck && break; sleep 0.1; done
healthcheck || { say "FAIL: HEALTHCHECK did not pass"; cat "$work/gateway.log"; exit 1; }
say "HEALTHCHECK passes"
grep -q 'key audit passed' "$work/gateway.log" || { say "FAIL: the key audit did not run"; cat "$work/gateway.log"; exit 1; }
say "key audit passed against the stand-in"

token=$(cd "$repo" && node scripts/session-token.mjs image-user 5)
answer=$(curl -sS -N -X POST "http://127.0.0.1:$gateway_port/agent-studio/1/agents/image-agent/completions?compatibilityMode=ai-sdk-5" \
  -H 'content-type: application/json' -H "authorization: Bearer $token" \
  -d '{"messages":[{"role":"user","content":"hello from the image check"}]}')
case "$answer" in
  *'data: [DONE]'*) say "a completion streamed through the production build" ;;
  *) say "FAIL: no streamed answer: $answer"; cat "$work/gateway.log"; exit 1 ;;
esac

kill -TERM "$gateway_pid"
wait "$gateway_pid" && say "SIGTERM: clean exit" || { say "FAIL: exit code $? after SIGTERM"; exit 1; }
grep -q '"msg":"shutting down' "$work/gateway.log" || { say "FAIL: no shutdown log line"; exit 1; }
say "ok"
