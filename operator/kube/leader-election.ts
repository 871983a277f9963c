import type { V1Lease } from '@kubernetes/client-node';
import type { KubeApi } from './kube-api.js';
import { isConflict } from './kube-api.js';

export interface LeaderElectionOptions {
  readonly kube: KubeApi;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseSeconds?: number;
  readonly now?: () => number;
}

/**
 * Leader election through a coordination.k8s.io Lease: only the holder reconciles; another
 * replica takes over once the holder stops renewing for `leaseSeconds`. A write that races
 * another replica fails with 409 and simply does not win.
 */
export class LeaderElection {
  constructor(readonly o: LeaderElectionOptions) {}

  /** Acquires or renews the lease; true while this replica is the leader. */
  async tryAcquire(): Promise<boolean> {
    const { kube, namespace, name, identity } = this.o;
    const seconds = this.o.leaseSeconds ?? 15;
    const now = new Date((this.o.now ?? Date.now)());
    const lease = await kube.getLease(namespace, name);
    try {
      if (!lease) {
        await kube.createLease(namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
      const expired = renewed + (spec.leaseDurationSeconds ?? seconds) * 1000 < now.getTime();
      if (spec.holderIdentity !== identity && !expired) return false;
      const next: V1Lease = {
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: seconds,
          renewTime: now,
          ...(spec.holderIdentity !== identity ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
        },
      };
      await kube.replaceLease(namespace, next);
      return true;
    } catch (err) {
      if (isConflict(err) || (err as { code?: number }).code === 409) return false;
      throw err;
    }
  }
}
