# The one image every ats process runs: `ats operator`, `ats marketdata`, `ats trader`, `ats pool`, `ats console`, `ats sim`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY cli cli
COPY console console
COPY core core
COPY local local
COPY simulator simulator
COPY marketdata marketdata
COPY trader trader
COPY operator operator
COPY charts charts
# tsc, then ccxt's Binance part as one minified bundle (core/exchange/bundle-ccxt.ts).
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The cluster uses DATABASE_URL: the embedded Postgres (an optional dependency, for `ats up` only)
# is left out, and no install scripts run. charts/image.test.ts checks what this installs.
RUN npm ci --omit=dev --omit=optional --ignore-scripts && npm cache clean --force
COPY simulator/data simulator/data
# The console's web UI (static files, served as they are).
COPY console/web console/web
COPY --from=build /app/dist dist
USER 10001:10001
# V8 flags: core/node-flags.ts (a smaller young generation: about 25 MB less per process).
ENTRYPOINT ["node", "--max-semi-space-size=1", "dist/cli/main.js"]
