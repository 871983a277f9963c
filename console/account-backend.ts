import type { AccountStatus } from '../core/account-status.js';
import type { KeyPair } from '../core/credentials/key-pair.js';

/** An account as the console shows it: its spec as written, and what the operator reports. */
export interface AccountView {
  readonly id: string;
  /** The spec as stored (a manifest, a TradingAccount); parsed by the caller. */
  readonly spec: unknown;
  /** The spec's generation, when the store counts them (Kubernetes); the status says which one it observed. */
  readonly generation?: number;
  readonly status?: Partial<AccountStatus>;
  /** Why the stored spec cannot be read (a broken manifest), if so. */
  readonly problem?: string;
}

/**
 * Where the console writes what a user changes: the same objects `kubectl apply` writes (the
 * TradingAccount and the account's Secret in a cluster; the manifest and the encrypted key
 * store locally), so the operator stays the only reconciler.
 */
export interface AccountBackend {
  /** `cluster` or `local`: shown on the system page. */
  readonly kind: 'cluster' | 'local';
  list(): Promise<AccountView[]>;
  get(id: string): Promise<AccountView | undefined>;
  /** Writes the account's spec (creates it when `create`); the spec is checked by the caller. */
  write(id: string, spec: Record<string, unknown>, opts: { create: boolean }): Promise<void>;
  /** Stores the key pair under `secretName`, marked for the account; returns the API key's fingerprint. */
  setKey(id: string, secretName: string, pair: KeyPair): Promise<{ fingerprint: string }>;
}
