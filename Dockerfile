# syntax=docker/dockerfile:1
# Agent Studio Gateway. Mirrored step by step by scripts/verify-image.sh, which CI runs
# (no Docker engine runs on our machines): change one, change the other.

# --- build: compile TypeScript with the dev dependencies ---------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The image serves no demo: only the gateway (src/) is compiled; the demo (demo/) and the
# stand-in (standin/) are programs of their own.
RUN npm run build:server

# --- standin: the Agent Studio stand-in, for compose's demo profile only --------------------
# A test double with its own folder and build (standin/tsconfig.json, standin/dist/), never
# copied into the runtime stage below. `docker compose --profile demo` builds this target.
FROM build AS standin-build
COPY standin ./standin
RUN npm run build:standin

FROM node:24-bookworm-slim AS standin
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=standin-build /app/standin/dist ./standin/dist
USER node
EXPOSE 4000
CMD ["node", "standin/dist/main.js"]

# --- runtime: production dependencies only, non-root, signals through tini -----------------
# The last stage, so a plain `docker build .` builds the gateway. dist/ holds no stand-in code.
FROM node:24-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
USER node
EXPOSE 3000
# /healthz is on the admin listener when ADMIN_PORT is set (bound to ADMIN_HOST, 127.0.0.1 by default).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const admin = Number(process.env.ADMIN_PORT || 0); fetch('http://127.0.0.1:' + (admin > 0 ? admin : process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini is PID 1: it forwards SIGTERM/SIGHUP to Node and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
