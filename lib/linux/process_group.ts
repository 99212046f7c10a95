/**
 * Process group members on Linux, from /proc (read through libc: lib/linux/libc.ts procStats):
 * `/proc/PID/stat` is "pid (comm) state ppid pgrp ..." (proc(5)); comm may hold spaces and
 * parentheses, so the fields are read after the last ")". Zombies (state Z) are left out: an
 * orphan's zombie waits for whatever reaps orphans (an init that may never do so in a
 * container), and it can no longer change a route.
 */
import type { ProcessGroupMember, ProcessGroups } from "../process/process_group.ts";
import { groupExists, procStats } from "./libc.ts";

/** The pid, name, state and process group of one /proc/PID/stat line; null if malformed. */
export function parseProcStat(
  text: string,
): { pid: number; name: string; state: string; pgrp: number } | null {
  const open = text.indexOf(" (");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const fields = text.slice(close + 2).split(" ");
  const pid = Number(text.slice(0, open));
  const pgrp = Number(fields[2]);
  if (!Number.isInteger(pid) || !Number.isInteger(pgrp) || fields[0] === undefined) return null;
  return { pid, name: text.slice(open + 2, close), state: fields[0], pgrp };
}

export const procProcessGroups: ProcessGroups = {
  exists: groupExists,
  members(pgid: number): ProcessGroupMember[] {
    const members: ProcessGroupMember[] = [];
    for (const text of procStats()) {
      const stat = parseProcStat(text);
      if (stat && stat.pgrp === pgid && stat.state !== "Z") {
        members.push({ pid: stat.pid, name: stat.name });
      }
    }
    return members.sort((a, b) => a.pid - b.pid);
  },
};
