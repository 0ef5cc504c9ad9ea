/**
 * Ctrl+C and SIGTERM for `evx sync` (and `sync --watch`), from the first line of evx on.
 *
 * A signal that arrives before a process has a handler for it takes the default action: the process
 * dies of it. `evx sync` installs its real handler only once its modules are loaded and the cache is
 * open, hundreds of milliseconds after start (seconds on a loaded machine), so a SIGTERM early in the
 * start-up killed a watch that should have exited 0. So the signals are held from the start
 * (bin/evx, or main.ts when dist/cli.js is run directly), and the sync command takes them over,
 * replaying what arrived while held. A command that does not stop on them gets them back as before:
 * a held signal is raised again once the holders are gone, so it still takes the default action.
 *
 * bin/evx is plain CommonJS outside the bundle: it shares the held signals through a global.
 */

type Held = { signals: NodeJS.Signals[]; hold: (s: NodeJS.Signals) => void };

const KEY = Symbol.for("evx.stopSignals");
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

function current(): Held | undefined {
  return (globalThis as Record<symbol, Held | undefined>)[KEY];
}

/** Starts holding SIGINT and SIGTERM (a no-op when bin/evx already does). */
export function holdStopSignals(): void {
  if (current()) return;
  const held: Held = {
    signals: [],
    hold: (s) => {
      held.signals.push(s);
    },
  };
  (globalThis as Record<symbol, Held | undefined>)[KEY] = held;
  for (const s of STOP_SIGNALS) process.on(s, held.hold);
}

/** Removes the holders; returns the signals that arrived while held. */
function unhold(): NodeJS.Signals[] {
  const held = current();
  if (!held) return [];
  for (const s of STOP_SIGNALS) process.off(s, held.hold);
  delete (globalThis as Record<symbol, Held | undefined>)[KEY];
  return held.signals;
}

/**
 * Hands SIGINT and SIGTERM to `handler`: it is called at once for each that arrived while they were
 * held, then for each that arrives. Returns the function that removes it.
 */
export function takeStopSignals(handler: (s: NodeJS.Signals) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, handler);
  for (const s of unhold()) handler(s);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

/**
 * For the commands that do not take them: stops holding, and a signal that arrived meanwhile acts as
 * it would have without the holders (the default action, or the command's own handler).
 */
export function releaseStopSignals(): void {
  const [first] = unhold();
  if (first) process.kill(process.pid, first);
}
