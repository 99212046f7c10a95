/** Files of the kinds an attacker puts at a path, for the state and path-trust tests. */

/** Deno has no lchown: chown(1) -h changes the link itself. */
export async function lchown(path: string, uid: number): Promise<void> {
  const { code } = await new Deno.Command("chown", { args: ["-h", `${uid}:${uid}`, path] })
    .output();
  if (code !== 0) throw new Error(`chown -h ${uid} ${path} failed`);
}

/** A FIFO (named pipe), mode 0644. */
export async function mkfifo(path: string): Promise<void> {
  const { code } = await new Deno.Command("mkfifo", { args: ["-m", "644", path] }).output();
  if (code !== 0) throw new Error(`mkfifo ${path} failed`);
}

/** A character device with /dev/null's numbers (1, 3), mode 0644; needs root. */
export async function mknodNull(path: string): Promise<void> {
  const { code } = await new Deno.Command("mknod", { args: ["-m", "644", path, "c", "1", "3"] })
    .output();
  if (code !== 0) throw new Error(`mknod ${path} failed`);
}

/**
 * If the code under test opens the FIFO at `path` for reading (the old behaviour: it blocked the
 * whole process there), this writer lets that open return after `seconds`, so a regression fails
 * on the wrong result instead of hanging the suite. Stop it with stopUnblocker when done.
 */
export function unblockFifoAfter(path: string, seconds: number): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", `sleep ${seconds}; exec 3>"$1"`, "sh", path],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

export async function stopUnblocker(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch {
    // already exited
  }
  await child.status;
}
