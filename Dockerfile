# syntax=docker/dockerfile:1
# The rtrec container image: one image runs `rtrec serve` (the default command), `rtrec train`,
# `rtrec publish` and `rtrec versions`. Stages:
#   build    compiles the TypeScript (all dependencies, dev ones included)
#   deps     production dependencies only (npm ci --omit=dev), with LMDB built from source with
#            rtrec's multi-process fix (scripts/build-lmdb.mjs; needs g++, make and python3 here
#            only); msgpackr-extract installs its prebuilt binary
#   runtime  the default target: Node 20 slim, non-root user 10001, dist/ + bin/ + docs/
#   spark    optional (`--target spark`): runtime plus Java 17 and the PySpark venv, for
#            `rtrec train --engine spark` (local[*] or --spark-master k8s://…)
#
#   docker build -t rtrec:0.1.0 .
#   docker build --target spark -t rtrec:0.1.0-spark .
#   docker run -p 8080:8080 -e RTREC_STORE=redis://redis:6379/0 rtrec:0.1.0
#   docker run --rm --no-healthcheck -v "$PWD/data:/data" rtrec:0.1.0 train --data /data/ratings.csv --out /data/model
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The postinstall script runs here too; this stage only compiles TypeScript, so it keeps the prebuilt LMDB.
COPY scripts/build-lmdb.mjs ./scripts/
RUN RTREC_SKIP_LMDB_BUILD=1 npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/build-lmdb.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="rtrec" \
      org.opencontainers.image.description="Self-hosted real-time recommendation API: train, publish and serve top-k recommendations" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="docs/deploy-kubernetes.md"
# Settings the server reads from the environment (flags override them). The default store is an
# LMDB folder under /data, the one writable place in the image; Kubernetes sets RTREC_STORE to Redis.
# A larger V8 nursery: about 10% less CPU per request when serving (see docs/operate.md).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64 \
    RTREC_HOST=0.0.0.0 \
    RTREC_PORT=8080 \
    RTREC_STORE=lmdb:///data/store \
    RTREC_NO_PROGRESS=1
RUN groupadd --system --gid 10001 rtrec \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin rtrec \
 && mkdir -p /data \
 && chown 10001:10001 /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
COPY deploy/docker-entrypoint.sh ./docker-entrypoint.sh
COPY docs ./docs
# The Spark job travels with the CLI (rtrec finds it next to dist/); Spark itself is only in the spark stage.
COPY jobs/spark/train_als.py jobs/spark/requirements.txt jobs/spark/README.md ./jobs/spark/
COPY jobs/spark/conf ./jobs/spark/conf
USER 10001:10001
EXPOSE 8080
# No curl in the slim image: Node's fetch probes the liveness route. Kubernetes ignores this and
# uses the chart's probes; batch commands (train, publish) are best run with --no-healthcheck.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.RTREC_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `serve` gets the serving node flags (see the script); other commands run node plainly.
ENTRYPOINT ["sh", "/app/docker-entrypoint.sh"]
# Host and port come from RTREC_HOST / RTREC_PORT above, so the health check and the server agree.
CMD ["serve"]

FROM runtime AS spark
USER root
COPY scripts/setup-spark.sh ./scripts/setup-spark.sh
COPY jobs/spark/requirements-test.txt ./jobs/spark/requirements-test.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless python3 python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && bash scripts/setup-spark.sh \
 && rm -rf /root/.cache
USER 10001:10001

# The default target is the plain runtime (the spark stage above is built only with --target spark).
FROM runtime
