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
