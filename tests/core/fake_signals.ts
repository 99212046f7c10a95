/** A SignalSource for tests: handlers are recorded, and `send` plays a signal to them. */
import type { SignalSource } from "../../lib/process/run_wrapper.ts";

export class FakeSignals implements SignalSource {
  readonly handlers = new Map<Deno.Signal, Set<() => void>>();
  listen(signal: Deno.Signal, handler: () => void): void {
    const set = this.handlers.get(signal) ?? new Set();
    set.add(handler);
    this.handlers.set(signal, set);
  }
  unlisten(signal: Deno.Signal, handler: () => void): void {
    this.handlers.get(signal)?.delete(handler);
  }
  send(signal: Deno.Signal): void {
    for (const h of this.handlers.get(signal) ?? []) h();
  }
  /** Handlers still installed (0 once the wrapper has cleaned up). */
  get count(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
}
