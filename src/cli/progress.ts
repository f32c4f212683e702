// A one-line progress bar on stderr for long replays: only on a terminal, never in --json mode,
// redrawn at most every 100 ms.

export interface Progress {
  update(done: number, total: number, label?: string): void;
  done(): void;
}

const quiet: Progress = { update: () => {}, done: () => {} };

export function progressBar(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || !stream.isTTY) return quiet;
  let last = 0;
  let drawn = false;
  return {
    update(done, total, label = '') {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(Math.floor((100 * done) / Math.max(1, total))).padStart(3)}% ${label}`.slice(0, (stream.columns ?? 80) - 1));
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
