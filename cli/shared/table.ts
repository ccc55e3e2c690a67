/** Column alignment for {@link renderTable}. */
export type Align = "left" | "right";

/** A plain text table: columns padded to their widest cell, two spaces apart, a rule under the header. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        align[column] === "right" ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** `2540` → `2,540`. */
export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

/** `0.99763` → `99.76 %`; `—` when there is no rate. A rate below 1 never shows as 100 %. */
export function formatPercent(rate: number | null): string {
  if (rate === null) return "—";
  const text = (rate * 100).toFixed(2);
  return `${text === "100.00" && rate < 1 ? "99.99" : text} %`;
}

/** `3.0 s`. */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(1)} s`;
}
