# syntax=docker/dockerfile:1
# Ark's image: the `ark` CLI, whose `ark server` the Deployment in manifests/ runs. The build stage
# bundles the CLI (scripts/bundle.ts: less memory and a faster start than stripping the TypeScript
# at each start), keeps only the production dependencies, and checks that the command loads.
#   docker build -t ark:$(node -p 'require("./package.json").version') .
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: esbuild's platform binary comes as an optional dependency.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY scripts ./scripts
COPY services ./services
COPY layers ./layers
COPY src ./src
COPY manifests ./manifests
RUN node scripts/bundle.ts && npm prune --omit=dev --no-audit --no-fund
# Loads the whole command tree from the bundle: a broken build fails here, not in the pod.
RUN node bin/ark.mjs version

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
# The server needs no package manager; fewer tools in the image, less to exploit.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
# Owned by root and not writable by the server's user: the code cannot be changed at run time.
COPY --from=build --chown=root:root /app /app
# The image's `node` user, by number so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8085
ENTRYPOINT ["node", "bin/ark.mjs"]
CMD ["server"]
