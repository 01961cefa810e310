/**
 * The Bitbucket simulator in a process of its own, driven over IPC, so that its CPU time is not charged to the
 * process being measured (and a bare client and Tally face exactly the same server).
 * Started by simulator-host.ts; not run directly.
 */
import { startSimulator, type SimulatorKnobs } from '../../src/simulator/index';

export type SimulatorRequest =
  | { id: number; type: 'install'; descriptorUrl: string }
  | { id: number; type: 'log'; since?: number }
  | { id: number; type: 'knobs'; knobs: Partial<SimulatorKnobs> };

/** One API request as the benchmarks need it: when, what kind, which answer. */
export interface LoggedRequest {
  at: number;
  status: number;
  kind: 'repositories' | 'commits' | 'diffstat' | 'patch' | 'pullrequests' | 'other';
  /** Path and query as received. */
  url: string;
}

const options = JSON.parse(process.env.SIM_OPTIONS ?? '{}', (_k, v) => (v === 'Infinity' ? Infinity : v)) as {
  exportFile: string;
  knobs?: Partial<SimulatorKnobs>;
};

const sim = await startSimulator({ requestLogLimit: 10_000_000, ...options.knobs });
sim.addWorkspace({ slug: 'acme', name: 'Acme' });
sim.addRepository('acme', { slug: 'history', history: { exportFile: options.exportFile } });

const kindOf = (path: string): LoggedRequest['kind'] =>
  path.includes('/pullrequests')
    ? 'pullrequests'
    : path.includes('/diffstat/')
      ? 'diffstat'
      : path.includes('/patch/')
        ? 'patch'
        : path.endsWith('/commits')
          ? 'commits'
          : /^\/2\.0\/repositories\/[^/]+$/.test(path)
            ? 'repositories'
            : 'other';

process.on('message', (message: SimulatorRequest) => {
  void (async () => {
    try {
      if (message.type === 'install') {
        const result = await sim.install('acme', message.descriptorUrl);
        process.send!({ id: message.id, result });
      } else if (message.type === 'knobs') {
        sim.setKnobs(message.knobs);
        process.send!({ id: message.id, result: sim.knobs });
      } else {
        const log: LoggedRequest[] = sim.requestLog.slice(message.since ?? 0).map((r) => ({
          at: Date.parse(r.at),
          status: r.status,
          kind: kindOf(r.path),
          url: r.query ? `${r.path}?${r.query}` : r.path,
        }));
        process.send!({ id: message.id, result: log });
      }
    } catch (error) {
      process.send!({ id: message.id, error: String(error) });
    }
  })();
});
process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
process.send!({ ready: true, apiUrl: sim.apiUrl });
