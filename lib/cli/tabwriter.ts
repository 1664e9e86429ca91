// Column alignment for `table` formats (lib/cli/format.ts).

/**
 * Go's text/tabwriter as Docker's CLI configures it (minwidth 10, padding 3,
 * spaces): tab-terminated cells of consecutive lines form a column block whose
 * width is its widest cell plus the padding; the text after the last tab of a
 * line is not aligned.
 */
export function alignColumns(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  const out: string[] = [];
  const width = (s: string): number => [...s].length;

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let s = '';
      line.forEach((cell, j) => {
        s += cell;
        const w = widths[j];
        if (j < line.length - 1 && w !== undefined) s += ' '.repeat(Math.max(0, w - width(cell)));
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur]!.length - 1) continue;
      writeLines(line0, cur);
      line0 = cur;
      let w = minWidth;
      for (; cur < line1; cur++) {
        const line = lines[cur]!;
        if (column >= line.length - 1) break;
        w = Math.max(w, width(line[column]!) + padding);
      }
      widths.push(w);
      format(line0, cur);
      widths.pop();
      line0 = cur;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}
