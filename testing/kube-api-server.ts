import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = { apiVersion?: string; kind?: string; metadata: Record<string, any>; spec?: unknown; status?: unknown; data?: unknown; [k: string]: unknown };
interface Event {
  rv: number;
  collection: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

const PATH = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/;

/**
 * A stand-in Kubernetes API server over HTTP for the operator's tests (no cluster can run here):
 * list and watch with resourceVersions (410 Gone once events are compacted), get, create,
 * replace (409 on a stale resourceVersion), merge patch (same), server-side apply (generation
 * bumps only when the spec changes; no write when nothing changes), the status subresource,
 * finalizers with deletionTimestamp, owner-reference garbage collection, and Leases.
 */
export class StandInApiServer {
  readonly objects = new Map<string, Obj>();
  /** Every request as an authorizer sees it: method, path, whether it watches, its content type and body. */
  readonly calls: Array<{ method: string; path: string; watch: boolean; contentType: string; body: any }> = [];
  #rv = 100;
  #events: Event[] = [];
  #compactedBefore = 0;
  #watchers = new Set<{ collection: string; res: ServerResponse }>();
  #server: Server = createServer((req, res) => void this.#handle(req, res));
  #conflictsToInject = 0;
  url = '';

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    const a = this.#server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const w of this.#watchers) w.res.end();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'stand-in', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'test', token: 'test-token' }],
      contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'test' }],
      currentContext: 'stand-in',
    });
    return kc;
  }

  /** Forgets every event so far: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.#compactedBefore = this.#rv;
    this.#events = [];
    for (const w of this.#watchers) {
      w.res.write(
        JSON.stringify({
          type: 'ERROR',
          object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' },
        }) + '\n',
      );
      w.res.end();
    }
    this.#watchers.clear();
  }

  /** The next write with a resourceVersion precondition fails with 409. */
  injectConflict(count = 1): void {
    this.#conflictsToInject += count;
  }

  /** Creates or replaces an object as a client would (kubectl apply). */
  put(path: string, obj: Obj): Obj {
    const existing = this.objects.get(path);
    if (existing)
      return this.#write(path, { ...obj, metadata: { ...existing.metadata, ...obj.metadata, generation: this.#nextGeneration(existing, obj) } }, 'MODIFIED');
    return this.#create(path, obj);
  }

  get(path: string): Obj | undefined {
    return this.objects.get(path);
  }

  /** kubectl delete: with finalizers only marks the object. */
  delete(path: string): void {
    const obj = this.objects.get(path);
    if (!obj) return;
    if ((obj.metadata.finalizers ?? []).length > 0) {
      if (!obj.metadata.deletionTimestamp)
        this.#write(path, { ...obj, metadata: { ...obj.metadata, deletionTimestamp: new Date().toISOString() } }, 'MODIFIED');
      return;
    }
    this.#remove(path);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = url.pathname.match(PATH);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) =>
      send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
    if (!m) return status(404, 'NotFound', url.pathname);
    const [, gv, ns, plural, name, sub] = m;
    const collection = `/${gv}/namespaces/${ns}/${plural}`;
    const path = name ? `${collection}/${name}` : collection;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    this.calls.push({ method: req.method ?? 'GET', path: url.pathname, watch, contentType: String(req.headers['content-type'] ?? ''), body });
    const existing = name ? this.objects.get(path) : undefined;

    if (req.method === 'GET' && !name) {
      const since = Number(url.searchParams.get('resourceVersion') ?? 0);
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (since && since < this.#compactedBefore) {
          res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
          return;
        }
        for (const e of this.#events) if (e.collection === collection && e.rv > since) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
        const watcher = { collection, res };
        this.#watchers.add(watcher);
        req.on('close', () => this.#watchers.delete(watcher));
        return;
      }
      // Equality selectors only (`k=v,k2=v2`), as the operator sends them.
      const wanted = (url.searchParams.get('labelSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((t) => t.split('=') as [string, string]);
      const items = [...this.objects]
        .filter(([p]) => p.startsWith(`${collection}/`))
        .map(([, o]) => o)
        .filter((o) => wanted.every(([k, v]) => (o as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.[k] === v));
      return send(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) }, items });
    }
    if (req.method === 'GET') return existing ? send(200, existing) : status(404, 'NotFound', `${plural} "${name}" not found`);
    if (req.method === 'POST') {
      const p = `${collection}/${body.metadata.name}`;
      if (this.objects.has(p)) return status(409, 'AlreadyExists', `${plural} "${body.metadata.name}" already exists`);
      return send(201, this.#create(p, body));
    }
    if (req.method === 'DELETE') {
      if (!existing) return status(404, 'NotFound', `${plural} "${name}" not found`);
      this.delete(path);
      return send(200, { kind: 'Status', status: 'Success' });
    }
    const precondition = body?.metadata?.resourceVersion;
    if ((req.method === 'PUT' || req.method === 'PATCH') && precondition !== undefined && existing) {
      if (this.#conflictsToInject > 0 || precondition !== existing.metadata.resourceVersion) {
        this.#conflictsToInject = Math.max(0, this.#conflictsToInject - 1);
        return status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
      }
    }
    if (req.method === 'PUT') {
      if (!existing) return status(404, 'NotFound', `${plural} "${name}" not found`);
      return send(200, this.#write(path, { ...body, metadata: { ...existing.metadata, ...body.metadata } }, 'MODIFIED'));
    }
    if (req.method === 'PATCH') {
      const type = String(req.headers['content-type'] ?? '');
      if (type.startsWith('application/apply-patch')) {
        const manager = url.searchParams.get('fieldManager');
        if (!manager) return status(422, 'Invalid', 'fieldManager is required for apply patch');
        const applied: Obj = { ...body, metadata: { ...body.metadata, managedFields: [{ manager, operation: 'Apply' }] } };
        if (!existing) return send(201, this.#create(path, applied));
        const merged: Obj = {
          ...existing,
          ...applied,
          metadata: { ...existing.metadata, ...applied.metadata, generation: this.#nextGeneration(existing, applied) },
        };
        if (
          JSON.stringify({ ...merged, metadata: { ...merged.metadata, resourceVersion: '' } }) ===
          JSON.stringify({ ...existing, metadata: { ...existing.metadata, resourceVersion: '' } })
        ) {
          return send(200, existing);
        }
        return send(200, this.#write(path, merged, 'MODIFIED'));
      }
      if (!existing) return status(404, 'NotFound', `${plural} "${name}" not found`);
      if (sub === 'status') return send(200, this.#write(path, { ...existing, status: mergePatch(existing.status ?? {}, body.status ?? {}) }, 'MODIFIED'));
      const { resourceVersion: _rv, ...metaPatch } = body.metadata ?? {};
      void _rv;
      const next = mergePatch(existing, { ...body, metadata: metaPatch }) as Obj;
      next.metadata.generation = this.#nextGeneration(existing, next);
      const written = this.#write(path, next, 'MODIFIED');
      if (written.metadata.deletionTimestamp && (written.metadata.finalizers ?? []).length === 0) this.#remove(path);
      return send(200, written);
    }
    return status(405, 'MethodNotAllowed', String(req.method));
  }

  #nextGeneration(before: Obj, after: Obj): number {
    const g = before.metadata.generation ?? 1;
    return JSON.stringify(after.spec ?? null) !== JSON.stringify(before.spec ?? null) ? g + 1 : g;
  }

  #create(path: string, obj: Obj): Obj {
    const created: Obj = {
      ...obj,
      metadata: {
        ...obj.metadata,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString(),
        namespace: path.split('/namespaces/')[1]!.split('/')[0],
        ...(obj.spec !== undefined ? { generation: 1 } : {}),
      },
    };
    return this.#write(path, created, 'ADDED');
  }

  #write(path: string, obj: Obj, type: Event['type']): Obj {
    this.#rv += 1;
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.#rv) } };
    this.objects.set(path, stored);
    this.#emit(path, type, stored);
    return stored;
  }

  #remove(path: string): void {
    const obj = this.objects.get(path);
    if (!obj) return;
    this.objects.delete(path);
    this.#rv += 1;
    this.#emit(path, 'DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.#rv) } });
    // Garbage collection of dependents.
    for (const [p, o] of [...this.objects]) {
      if ((o.metadata.ownerReferences ?? []).some((r: { uid: string }) => r.uid === obj.metadata.uid)) this.#remove(p);
    }
  }

  #emit(path: string, type: Event['type'], object: Obj): void {
    const collection = path.slice(0, path.lastIndexOf('/'));
    this.#events.push({ rv: this.#rv, collection, type, object });
    for (const w of this.#watchers) if (w.collection === collection) w.res.write(JSON.stringify({ type, object }) + '\n');
  }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
