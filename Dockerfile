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
# MALLOC_ARENA_MAX=2 here and --max-semi-space-size=8 in CMD are the memory settings `maestro
# worker` otherwise relaunches itself with (src/workers/worker-launch.ts): glibc would give each
# of the worker's threads its own malloc arena, V8 would grow each isolate's young generation to
# 16 MB semi-spaces; with both set the worker stays one process (PID 1 here, signals direct).
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
CMD ["node", "--max-semi-space-size=8", "dist/client/cli.js", "worker"]
