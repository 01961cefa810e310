import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InstallResult, SimulatorKnobs } from '../../src/simulator/index';
import type { LoggedRequest } from './simulator-process';

export interface SimulatorHost {
  apiUrl: string;
  pid: number;
  install(descriptorUrl: string): Promise<InstallResult>;
  /** API requests received since the given index. */
  log(since?: number): Promise<LoggedRequest[]>;
  setKnobs(knobs: Partial<SimulatorKnobs>): Promise<void>;
  close(): Promise<void>;
}

/** Starts simulator-process.ts serving workspace "acme", repository "history" loaded from `exportFile`. */
export async function startSimulatorProcess(
  exportFile: string,
  knobs: Partial<SimulatorKnobs> = {},
): Promise<SimulatorHost> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./simulator-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=8192'],
    // JSON has no Infinity ("no rate limit"): it travels as a string.
    env: {
      ...process.env,
      SIM_OPTIONS: JSON.stringify({ exportFile, knobs }, (_k, v) => (v === Infinity ? 'Infinity' : v)),
    },
    serialization: 'advanced',
  });
  const apiUrl: string = await new Promise((resolve, reject) => {
    child.once('message', (m: { apiUrl: string }) => resolve(m.apiUrl));
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
    if (m.id === undefined) return;
    const waiter = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) waiter?.reject(new Error(m.error));
    else waiter?.resolve(m.result);
  });
  const call = <T>(message: Record<string, unknown>): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...message, id });
    });
  return {
    apiUrl,
    pid: child.pid!,
    install: (descriptorUrl) => call({ type: 'install', descriptorUrl }),
    log: (since) => call({ type: 'log', since }),
    setKnobs: async (k) => void (await call({ type: 'knobs', knobs: k })),
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}
