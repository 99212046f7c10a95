/**
 * The stand-in scutil (tests/harness/scutil) prints what configd's scutil prints
 * (docs/macos-routing-socket.md §6) from the simulator's current values, and lib/darwin/scutil.ts
 * reads it through DEFROUTE_SCUTIL.
 */
import { assertEquals } from "../assert.ts";
import { ScutilPrimarySource } from "../../lib/darwin/scutil.ts";
import { SCUTIL_STANDIN } from "./standin.ts";
import { scutilLinkKey, standinUnavailableReason, startSimulator } from "./sim.ts";

// startSimulator() builds the stand-in libSystem too, which needs cc.
const skip = standinUnavailableReason();
if (skip) console.log(`skipping stand-in scutil tests: ${skip}`);

const IPV4 = "State:/Network/Global/IPv4";
const IPV6 = "State:/Network/Global/IPv6";

async function scutil(env: Record<string, string>, input: string): Promise<string> {
  const child = new Deno.Command(SCUTIL_STANDIN, {
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stdout } = await child.output();
  assertEquals(code, 0);
  return new TextDecoder().decode(stdout);
}

Deno.test({
  name: "stand-in scutil: show prints configd's dictionaries, piped commands concatenate",
  ignore: skip !== null,
  fn: async () => {
    await using sim = await startSimulator();
    const out = await scutil(
      sim.env,
      `show ${IPV4}\nshow ${IPV6}\nshow State:/Network/Global/DNS\n`,
    );
    assertEquals(
      out,
      "<dictionary> {\n  PrimaryInterface : en0\n  PrimaryService : 2262B572-5785-46BF-AE88-7C003BE61B46\n" +
        "  Router : 192.168.1.1\n}\n" +
        "<dictionary> {\n  PrimaryInterface : en0\n  PrimaryService : 2262B572-5785-46BF-AE88-7C003BE61B46\n" +
        "  Router : fe80::1\n}\n" +
        "  No such key\n",
    );
  },
});

Deno.test({
  name: "stand-in scutil: values set by a test show up; a removed key is No such key",
  ignore: skip !== null,
  fn: async () => {
    await using sim = await startSimulator();
    await sim.setScutil(IPV4, { Router: "10.0.0.1", PrimaryInterface: "en1" });
    await sim.setScutil(IPV6, null);
    const out = await scutil(sim.env, `show ${IPV4}\nshow ${IPV6}\nquit\nshow ${IPV4}\n`);
    assertEquals(
      out,
      "<dictionary> {\n  PrimaryInterface : en1\n  Router : 10.0.0.1\n}\n  No such key\n",
    );
  },
});

Deno.test({
  name: "lib/darwin/scutil.ts reads the simulated Mac through DEFROUTE_SCUTIL",
  ignore: skip !== null,
  fn: async () => {
    await using sim = await startSimulator();
    const source = new ScutilPrimarySource({ path: sim.env.DEFROUTE_SCUTIL });
    sim.applyEnv(); // the stand-in scutil child inherits DEFROUTE_SIM_SOCKET
    const v4 = await source.primary(4);
    assertEquals([v4?.router, v4?.interface], ["192.168.1.1", "en0"]);
    await sim.setScutil(IPV6, null);
    assertEquals(await source.primary(6), null);
  },
});

Deno.test({
  name: "stand-in scutil: configd's State:/Network/Interface/<if>/Link follows setLinkActive",
  ignore: skip !== null,
  fn: async () => {
    await using sim = await startSimulator();
    const key = scutilLinkKey("en0");
    assertEquals(await scutil(sim.env, `show ${key}\n`), "<dictionary> {\n  Active : TRUE\n}\n");
    await sim.setLinkActive("en0", false);
    assertEquals(await scutil(sim.env, `show ${key}\n`), "<dictionary> {\n  Active : FALSE\n}\n");
    assertEquals((await sim.interfaces()).find((i) => i.name === "en0")?.linkActive, false);
    assertEquals(
      await scutil(sim.env, `show ${scutilLinkKey("lo0")}\n`),
      "  No such key\n",
      "no media, no Link key",
    );
  },
});
