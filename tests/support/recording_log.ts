/**
 * A Log (lib/core/model/log.ts) that keeps what core said, in order, for a test to assert on:
 * announcements as `[#] ...`, warnings as `warn: ...`, info as is; debug is dropped.
 */
import type { Log } from "../../lib/core/model/log.ts";

export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    announce: (l) => lines.push(`[#] ${l}`),
    info: (l) => lines.push(l),
    debug: () => {},
    warn: (l) => lines.push(`warn: ${l}`),
  };
}
