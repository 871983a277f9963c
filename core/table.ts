/** A plain aligned table, like kubectl prints. */
export function table(header: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n');
}
