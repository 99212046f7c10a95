/**
 * The processes of one process group: what `run` waits for after CMD exits (`--linger`).
 *
 * VPN clients leave helpers behind: openconnect runs vpnc-script, sing-box and wireguard-go may
 * fork, and a shell CMD may background a job. `run` starts CMD in its own session and process
 * group (its pid is the group id), so every such helper stays in that group unless it leaves on
 * purpose (setsid, setpgid), and asking the kernel for the group's members finds them. The
 * platform answers (lib/linux/process_group.ts from /proc, lib/darwin/libsystem.ts through
 * libproc's proc_listpids).
 */

export interface ProcessGroupMember {
  pid: number;
  /** The process's short name (comm), "" when unknown. */
  name: string;
}

export interface ProcessGroups {
  /** Whether any process is in group `pgid`: kill(-pgid, 0), one system call. A zombie counts. */
  exists(pgid: number): boolean;
  /** The live members of process group `pgid`, named (zombies excluded where the platform can
   * tell). On Linux this reads every process's /proc/PID/stat: only for the log, and to tell
   * a group of zombies from a live one. */
  members(pgid: number): ProcessGroupMember[];
}

/** "pid 123 (sleep), pid 124 (sh)" for the log. */
export function describeMembers(members: readonly ProcessGroupMember[]): string {
  return members.map((m) => `pid ${m.pid}${m.name ? ` (${m.name})` : ""}`).join(", ");
}

export interface GroupWait {
  /** The group had no member left before the deadline. */
  gone: boolean;
  /** The members still alive when the wait ended (empty when gone). */
  left: ProcessGroupMember[];
  /** How long it waited (ms). */
  waitedMs: number;
}

/**
 * Wait until process group `pgid` has no member, `deadlineMs` has passed, or `signal` aborts,
 * looking every `pollMs` (a group has no event to wait on: neither waitpid nor kqueue tells a
 * parent about processes that are not its children). Every `listEveryMs` the members are listed,
 * so a group left with only zombies (an orphan nobody reaps) counts as gone.
 */
export async function waitForGroup(
  groups: ProcessGroups,
  pgid: number,
  options: {
    deadlineMs: number;
    signal: AbortSignal;
    pollMs?: number;
    listEveryMs?: number;
    now?: () => number;
  },
): Promise<GroupWait> {
  const now = options.now ?? Date.now;
  const start = now();
  const pollMs = options.pollMs ?? 50;
  const listEveryMs = options.listEveryMs ?? 1000;
  let listedAt = start;
  for (;;) {
    const waitedMs = now() - start;
    if (!groups.exists(pgid)) return { gone: true, left: [], waitedMs };
    const over = options.signal.aborted || waitedMs >= options.deadlineMs;
    if (over || now() - listedAt >= listEveryMs) {
      listedAt = now();
      const left = groups.members(pgid);
      if (left.length === 0) return { gone: true, left, waitedMs };
      if (over) return { gone: false, left, waitedMs };
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, Math.min(pollMs, options.deadlineMs - waitedMs)));
      function done() {
        clearTimeout(timer);
        options.signal.removeEventListener("abort", done);
        resolve();
      }
      options.signal.addEventListener("abort", done);
    });
  }
}
