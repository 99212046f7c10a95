/**
 * lib/system.ts changesAllowed: who is told "needs root" before anything is touched. On a real
 * machine only root may change routes; on the simulated Mac (the darwin backend with a stand-in
 * libSystem and its kernel's socket) that is the simulated kernel's answer, not the user's uid.
 */
import { assertEquals } from "./assert.ts";
import { changesAllowed } from "../lib/system.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];
const SIMULATOR = {
  DEFROUTE_LIBSYSTEM: "/repo/.build/libsystem_standin.so",
  DEFROUTE_SIM_SOCKET: "/tmp/defroute-sim-x/sim.sock",
};

Deno.test("changesAllowed: root may always try; the kernel still has the last word", () => {
  assertEquals(changesAllowed("darwin", 0, env({})), true);
  assertEquals(changesAllowed("linux", 0, env({})), true);
});

Deno.test("changesAllowed: on a real machine a user is refused before anything (exit 3)", () => {
  assertEquals(changesAllowed("darwin", 501, env({})), false);
  assertEquals(changesAllowed("linux", 1000, env({})), false);
  // Half the simulator's environment is not the simulator: the real libSystem, or no kernel.
  assertEquals(
    changesAllowed("darwin", 501, env({ DEFROUTE_SIM_SOCKET: SIMULATOR.DEFROUTE_SIM_SOCKET })),
    false,
  );
  assertEquals(
    changesAllowed("darwin", 501, env({ DEFROUTE_LIBSYSTEM: SIMULATOR.DEFROUTE_LIBSYSTEM })),
    false,
  );
  // The Linux backend never talks to the simulator.
  assertEquals(changesAllowed("linux", 1000, env(SIMULATOR)), false);
  // No uid (not a POSIX system): refused.
  assertEquals(changesAllowed("darwin", null, env({})), false);
});

Deno.test("changesAllowed: on the simulated Mac the simulated kernel decides, whoever runs it", () => {
  assertEquals(changesAllowed("darwin", 501, env(SIMULATOR)), true);
  assertEquals(changesAllowed("darwin", 65534, env(SIMULATOR)), true);
});
