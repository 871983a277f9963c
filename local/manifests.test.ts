import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { ManifestFolder, MAX_MANIFEST_BYTES } from './manifests.js';

const account = (name: string, leverage = 3) => `apiVersion: ats.dev/v1alpha1
kind: TradingAccount
metadata: { name: ${name} }
spec: { exchange: simulator, secretRef: { name: ${name}-binance }, config: { leverage: ${leverage} } }
`;

describe('manifest folder', () => {
  it('refuses a file over the size limit once, and keeps the accounts it held', () => {
    const dir = tempDir('ats-manifests');
    writeFileSync(join(dir, 'a.yaml'), account('alice'));
    const folder = new ManifestFolder(dir);
    expect([...folder.read().accounts.keys()]).toEqual(['alice']);
    writeFileSync(join(dir, 'a.yaml'), `${account('alice', 5)}# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`);
    const first = folder.read();
    expect(first.problems).toEqual([expect.stringMatching(/a\.yaml is \d+ bytes, over the 262144-byte limit for a manifest: the change is refused/)]);
    expect(first.accounts.get('alice')).toMatchObject({ object: { generation: 1, spec: { config: { leverage: 3 } } }, problem: first.problems[0] });
    // Unchanged since: neither read nor reported again.
    expect(folder.read().problems).toEqual([]);
    expect(folder.read().accounts.get('alice')?.problem).toBe(first.problems[0]);
  });

  it('reads a file again only when it changes', () => {
    const dir = tempDir('ats-manifests');
    const file = join(dir, 'a.yaml');
    writeFileSync(file, account('alice'));
    const folder = new ManifestFolder(dir);
    expect(folder.read().accounts.get('alice')?.object.generation).toBe(1);
    // Same size and modification time: the cached read stands, even though the bytes differ.
    const before = new Date(Date.now() - 60_000);
    writeFileSync(file, account('alice', 4));
    utimesSync(file, before, before);
    folder.read();
    writeFileSync(file, account('alice', 5));
    utimesSync(file, before, before);
    expect(folder.read().accounts.get('alice')?.object.spec).toMatchObject({ config: { leverage: 4 } });
    writeFileSync(file, account('alice', 6));
    expect(folder.read().accounts.get('alice')?.object).toMatchObject({ generation: 3, spec: { config: { leverage: 6 } } });
  });

  it('keeps the first file that names an account and reports the second', () => {
    const dir = tempDir('ats-manifests');
    writeFileSync(join(dir, 'a.yaml'), account('alice'));
    writeFileSync(join(dir, 'b.yaml'), account('alice', 9));
    const { accounts, problems } = new ManifestFolder(dir).read();
    expect(accounts.get('alice')?.object.spec).toMatchObject({ config: { leverage: 3 } });
    expect(problems).toEqual([expect.stringMatching(/b\.yaml: metadata\.name alice is already defined in .*a\.yaml; this one is ignored/)]);
  });

  it('keeps the accounts of a file that stops parsing, with the reason', () => {
    const dir = tempDir('ats-manifests');
    writeFileSync(join(dir, 'a.yaml'), account('alice'));
    const folder = new ManifestFolder(dir);
    folder.read();
    writeFileSync(join(dir, 'a.yaml'), `${account('alice', 5)}  oops: [\n`);
    const { accounts, problems } = folder.read();
    expect(problems).toHaveLength(1);
    expect(accounts.get('alice')).toMatchObject({ object: { spec: { config: { leverage: 3 } } }, problem: expect.stringMatching(/the change is refused/) });
  });
});
