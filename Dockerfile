# The rs-cleanup image: the worker (default command), and the same code for the
# CLI and the local Cognito emulator (docker-compose.yml runs all three from it).
#
# Two stages: `deps` installs the production dependencies only, exactly as the
# lock file says; the runtime stage adds the TypeScript sources. There is no
# build step: the code runs through tsx (a production dependency); the workflow
# bundle (webpack, part of @temporalio/worker) is built here once, into the
# cache every worker reads at start (worker/workflow-bundle.ts).
#
# Debian, not Alpine: @temporalio/core-bridge ships glibc binaries.
# Node 22 LTS (package.json `engines`), an exact tag: the image changes only
# when this line does, and the Node version matches scripts/install-node.sh.
# No credentials in here, ever: AWS credentials come from the environment or a
# mounted ~/.aws at run time (see docs/deployment.md).

ARG NODE_IMAGE=node:22.23.3-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX: glibc gives each thread that allocates (the Temporal core's,
# libuv's, V8's) an arena of its own; two keep 30-40 MB less resident in a
# worker (docs/performance.md, "Worker memory"). Read when the process starts.
ENV NODE_ENV=production \
    RS_CLEANUP_AUDIT_DIR=/data/audit \
    RS_CLEANUP_DATA_DIR=/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# Code and dependencies stay owned by root: the non-root user can run them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY activities ./activities
COPY cognito ./cognito
COPY cli ./cli
COPY common ./common
COPY emulator ./emulator
COPY worker ./worker
COPY workflows ./workflows
# /data holds audit files, manifests and input files shared by the CLI and the
# workers. A new named volume mounted there starts with this ownership.
RUN mkdir -p /data/audit /data/inputs && chown -R node:node /data
# The workflow bundle, built once per image instead of at every worker start.
RUN node --import tsx -e "require('./worker/workflow-bundle.ts').loadWorkflowBundle().then((b) => console.log('workflow bundle:', b.source, b.file ?? b.note ?? ''))"
# The `node` user (uid 1000) of the official image.
USER node
# 9464: the job's /metrics and /healthz (RS_CLEANUP_METRICS_PORT); 9465: the
# Temporal SDK's Prometheus metrics (TEMPORAL_METRICS_PORT). Both off unless set.
EXPOSE 9464 9465
# One process (no npm or tsx wrapper), so SIGTERM reaches the worker and it
# shuts down gracefully: running deletes finish, nothing new starts. The heap
# options are worker/heap.ts's WORKER_NODE_OPTIONS: V8 otherwise sizes the heap
# from the host's memory and collects lazily (docs/performance.md, "Worker memory").
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=4", "--import", "tsx", "worker/main.ts"]
