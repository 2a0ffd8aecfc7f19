/**
 * The contract every stage keeps, the way the OpenTelemetry Collector's components do: a factory builds it
 * from its own (already validated) config and the components it depends on, without I/O; `start()` does
 * the I/O; `shutdown(deadline)` undoes it.
 *
 * Shutdown rules, which the lifecycle test checks for every factory in the service's table:
 * - idempotent: a second call resolves once the first has finished, and does nothing more;
 * - safe before start (and after a failed start): it releases whatever exists and resolves;
 * - bounded: it resolves by `deadline` at the latest, forcing whatever is still open at that point.
 */
export interface Component {
  start(): Promise<void>;
  shutdown(deadline: Deadline): Promise<void>;
}

/** A component whose dependency can be down while the process is up: `/readyz` asks it. */
export interface ReadyCheck {
  ready(): Promise<boolean>;
}

export function hasReadyCheck(c: object): c is ReadyCheck {
  return typeof (c as Partial<ReadyCheck>).ready === 'function';
}

/**
 * Builds one kind of component. `create` is pure: it keeps its arguments and returns; nothing listens,
 * connects or opens files before `start()`.
 */
export interface Factory<Cfg, Deps, C extends Component> {
  /** The component's name in logs, readiness checks and error messages (e.g. `otlp-receiver`). */
  readonly type: string;
  create(config: Cfg, deps: Deps): C;
}

/** When a shutdown must have returned: a `Date.now()` time in milliseconds. One is handed down the graph. */
export type Deadline = number;

export const deadlineIn = (ms: number): Deadline => Date.now() + ms;

/** Milliseconds left before `deadline` (0 when it has passed). */
export const msLeft = (deadline: Deadline): number => Math.max(0, deadline - Date.now());

/**
 * Waits for `work` until `deadline`; true when it settled in time (fulfilled or not), false when the
 * deadline came first. `work` keeps running either way: the caller forces what is left.
 */
export async function settleBy(work: Promise<unknown>, deadline: Deadline): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), msLeft(deadline));
    timer.unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes a shutdown idempotent: the first call runs `stop`, every later call gets the same promise.
 * Components hold one of these instead of each writing the guard.
 */
export class Once {
  private done: Promise<void> | null = null;
  run(stop: () => Promise<void>): Promise<void> {
    return (this.done ??= stop());
  }
}
