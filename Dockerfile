# syntax=docker/dockerfile:1
# Ark's image: the `ark` CLI, whose `ark server` the Deployment in manifests/ runs. Node 24 strips
# TypeScript types itself, so the sources run as they are; the build stage only installs the
# production dependencies and checks that every module loads.
#   docker build -t ark:$(node -p 'require("./package.json").version') .
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: none of the runtime dependencies needs one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY services ./services
COPY layers ./layers
COPY src ./src
COPY manifests ./manifests
# Loads the whole command tree: a syntax Node cannot strip fails the build, not the pod.
RUN node src/cli/main.ts version

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
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["server"]
