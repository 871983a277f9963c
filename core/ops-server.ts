import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  readonly registry: Registry;
  /** The /metrics text when it is more than the registry's (a pool: every account's registry too). */
  readonly metrics?: () => Promise<{ contentType: string; text: string }>;
  /** Alive: the process is not stuck. */
  readonly healthy?: () => boolean;
  /** Ready: it does its job now (e.g. connected, or a standby that is ready to take over). */
  readonly ready?: () => boolean;
  /** Extra fields for /readyz, e.g. role. */
  readonly status?: () => Record<string, unknown>;
}

/** `/metrics`, `/healthz`, `/readyz` for Prometheus and Kubernetes probes. */
export function createOpsServer(opts: OpsServerOptions): Server {
  return createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const { contentType, text } = opts.metrics ? await opts.metrics() : { contentType: opts.registry.contentType, text: await opts.registry.metrics() };
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(text);
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? (opts.healthy?.() ?? true) : (opts.ready?.() ?? true);
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok, ...(opts.status?.() ?? {}) }));
      return;
    }
    res.writeHead(404).end();
  });
}

export async function listenOps(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
