/** How the report writes numbers and tables in Markdown (docs/BENCHMARKS.md, README.md). */

/** Whole milliseconds, or a dash when there was no sample. */
export const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)}` : '–');
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)}`;
/** A goal's "met" cell: a miss stands out. */
export const yes = (met: boolean) => (met ? 'yes' : '**no**');

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
