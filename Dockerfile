# syntax=docker/dockerfile:1
# One image for both processes: the API (default CMD) and the worker (`node dist/worker.js`).

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay off, as in CI (npm 11 `allowScripts`): every native dependency ships prebuilt.
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
# Debian's ffmpeg gets the distribution's security updates; the npm-bundled build is from 2018.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
# MALLOC_ARENA_MAX=2: glibc's per-thread malloc arenas fragment under many sockets; two arenas cut the
# API's RSS per idle socket by about a tenth (docs/BENCHMARKS.md, connections, wave 3).
ENV NODE_ENV=production \
    PORT=3000 \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Voice files are written under data/ (VOICE_STORAGE_DIR); only that folder is writable by the
# unprivileged `node` user (uid 1000) that the base image ships. A named volume mounted there
# inherits this ownership.
RUN mkdir -p /app/data/voice && chown -R node:node /app/data
USER node
EXPOSE 3000
CMD ["node", "dist/main.js"]
