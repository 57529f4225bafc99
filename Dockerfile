# Maestro worker image (used by docker-compose.yml as `maestro-worker`).
#   docker build -t maestro-worker .
#   docker run -e TEMPORAL_ADDRESS=host:7233 -e OPENAI_API_KEY=... -v maestro-data:/data maestro-worker

# --- build: compile TypeScript with the dev dependencies -------------------------------------
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run the build before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies + compiled output only ---------------------------------
FROM node:20-slim AS runtime
# MALLOC_ARENA_MAX=2: glibc otherwise gives each of the worker's threads (V8, libuv, the SDK's
# Rust core) its own malloc arena; two arenas save ~45 MB of RSS with 100 tickets in flight
# (`npm run bench -- --only rss` with and without it).
ENV NODE_ENV=production \
    MAESTRO_HOME=/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
CMD ["node", "dist/client/cli.js", "worker"]
