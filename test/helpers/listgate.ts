/**
 * A fault proxy (test/helpers/faultproxy.ts) that holds every S3 LIST until the test releases it, so
 * a test decides exactly which watch cycle sees which change: `release({ before })` lets the next
 * LIST through after `before` (a PUT, a DELETE) has finished, so that cycle's listing has the change
 * and no earlier one does. GETs pass unless `getFault` says otherwise.
 */
import { type Fault, type FaultProxy, type ProxiedRequest, startFaultProxy } from "./faultproxy.js";

export interface ListGate {
  endpoint: string;
  proxy: FaultProxy;
  /**
   * Waits for the next LIST to arrive (up to `timeoutMs`), runs `before`, then answers that LIST
   * with `fault` ("pass": the real listing).
   */
  release(opts?: { before?: () => Promise<unknown>; fault?: Fault; timeoutMs?: number }): Promise<void>;
  /** What GETs get; default: pass. May return a promise, which the GET waits for. */
  getFault: (r: ProxiedRequest) => Fault | Promise<Fault>;
  /** LISTs held right now. */
  held(): number;
  /** Lets every held LIST through and closes the proxy. */
  close(): Promise<void>;
}

export async function startListGate(target: string): Promise<ListGate> {
  const held: ((f: Fault) => void)[] = [];
  let arrived: (() => void) | null = null;
  let closed = false;
  const gate: ListGate = {
    endpoint: "",
    proxy: undefined as unknown as FaultProxy,
    getFault: () => "pass",
    held: () => held.length,
    async release({ before, fault = "pass", timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (!held.length) {
        if (Date.now() > deadline) throw new Error(`no LIST arrived within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          arrived = r;
          setTimeout(r, 50);
        });
      }
      const answer = held.shift()!;
      await before?.();
      answer(fault);
    },
    async close() {
      closed = true;
      for (const h of held.splice(0)) h("pass");
      await gate.proxy.close();
    },
  };
  gate.proxy = await startFaultProxy(target, (r) => {
    if (r.kind !== "list") return r.kind === "get" ? gate.getFault(r) : "pass";
    if (closed) return "pass";
    return new Promise<Fault>((resolve) => {
      held.push(resolve);
      arrived?.();
      arrived = null;
    });
  });
  gate.endpoint = gate.proxy.endpoint;
  return gate;
}
