import { parseAllDocuments } from 'yaml';
import type { StandInApiServer } from './kube-api-server.js';
import { helm } from './helm.js';

/**
 * The permissions (`group|resource|verb`) the calls a stand-in API server saw need, as the
 * API server's authorizer would ask for them.
 */
export function permissionsUsed(calls: StandInApiServer['calls']): Set<string> {
  const used = new Set<string>();
  const path = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;
  for (const call of calls) {
    const [, group = '', resource, name, sub] = call.path.match(path) ?? [];
    const target = `${group}|${resource}${sub ? `/${sub}` : ''}`;
    const verbs =
      call.method === 'GET'
        ? [name ? 'get' : call.watch ? 'watch' : 'list']
        : call.method === 'POST'
          ? ['create']
          : call.method === 'PUT'
            ? ['update']
            : call.method === 'DELETE'
              ? ['delete']
              : // Server-side apply that creates the object is authorized as create as well.
                call.contentType.includes('apply-patch')
                ? ['patch', 'create']
                : ['patch'];
    for (const verb of verbs) used.add(`${target}|${verb}`);
    // Setting blockOwnerDeletion on an owner reference needs update on the owner's finalizers.
    for (const ref of call.body?.metadata?.ownerReferences ?? []) {
      if (ref.blockOwnerDeletion) used.add(`${String(ref.apiVersion).split('/')[0]}|${ref.kind.toLowerCase()}s/finalizers|update`);
    }
  }
  return used;
}

/** What the chart's Role named `ats-<component>` grants, as `group|resource|verb`. */
export function chartRoleGrants(component: string, namespace: string, setFlags: string[] = []): Set<string> {
  const docs = parseAllDocuments(helm(['template', 'ats', 'charts/ats', '--namespace', namespace, ...setFlags])).map((x) => x.toJS()) as any[];
  const role = docs.find((x) => x?.kind === 'Role' && x.metadata.name === `ats-${component}`);
  if (!role) throw new Error(`the chart renders no Role ats-${component}`);
  return new Set<string>(
    role.rules.flatMap((r: any) => r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}|${res}|${v}`)))),
  );
}
