/**
 * The real-Mac tier, as any user: the CLI itself, `defroute status --json`, run the way users run
 * it (deno run with lib/permissions.ts's flags, no DEFROUTE_* variable), says `healthy` exactly
 * when route(8) sees a working global default, on the real backend ("platform": "darwin").
 */
import { assert, assertEquals } from "../assert.ts";
import { cleanEnv, DENO, macSupport, NETSTAT, realScutil, ROOT, routeGet, runOk } from "./mac.ts";
import { parseNetstatRoutes } from "./tool_output.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { isTunnelName } from "../../lib/core/model/types.ts";
import type { Family } from "../../lib/core/model/types.ts";

const support = macSupport();
if (!support.ok) console.log(`skipping the real-Mac status tests: ${support.reason}`);

interface StatusFamily {
  family: Family;
  diagnosis: { condition: string; summary: string };
}

async function status(): Promise<{ platform: string; families: StatusFamily[] }> {
  const result = await new Deno.Command(DENO, {
    args: ["run", ...DENO_RUN_FLAGS, `${ROOT}/main.ts`, "status", "--json"],
    clearEnv: true,
    env: cleanEnv(Deno.env.toObject(), { NO_COLOR: "1" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assertEquals(result.code, 0, `status --json exited ${result.code}: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

Deno.test({
  name: "macos: `status --json` runs on the real backend and says healthy on a healthy Mac",
  ignore: !support.ok,
  fn: async () => {
    const json = await status();
    assertEquals(json.platform, "darwin");
    for (const family of [4, 6] as const) {
      const theirs = await routeGet(family);
      const condition = json.families.find((f) => f.family === family)?.diagnosis.condition;
      // Healthy: route(8) finds a global (unscoped) default through a non-tunnel interface.
      const healthy = theirs.kind === "route" && !theirs.flags.includes("IFSCOPE") &&
        theirs.interface !== null && !isTunnelName(theirs.interface);
      if (healthy) assertEquals(condition, "healthy", `IPv${family}: ${JSON.stringify(theirs)}`);
      else {assert(
          condition !== "healthy",
          `IPv${family} called healthy: ${JSON.stringify(theirs)}`,
        );}
    }
    // The runners this tier is made for are online: their IPv4 is healthy.
    if (Deno.env.get("CI")) {
      assertEquals(json.families.find((f) => f.family === 4)?.diagnosis.condition, "healthy");
    }
  },
});

/**
 * A Mac with no IPv6 router, whose only IPv6 defaults are the link-local ones macOS gives its own
 * utun interfaces (`default fe80::%utun0 UGcIg utun0` in netstat -rn): that is a Mac without IPv6,
 * not one a tunnel broke. Decided before the tests are registered, so the case is skipped with a
 * reason where the Mac is not in that situation.
 */
async function utunOnlyIpv6(): Promise<string> {
  const routes = parseNetstatRoutes(await runOk(NETSTAT, ["-rn", "-f", "inet6"])).routes
    .filter((r) => r.family === 6 && r.destination === "default");
  if (routes.length === 0) return "this Mac has no IPv6 default at all";
  if (routes.some((r) => !r.flags.includes("I") || !isTunnelName(r.netif))) {
    return "this Mac has an IPv6 default on a non-tunnel interface or an unscoped one";
  }
  const scutil = await realScutil().readGlobal();
  if (scutil[6].kind === "present" && scutil[6].info.router !== null) {
    return "configd knows an IPv6 router";
  }
  return "";
}

const utunReason = support.ok ? await utunOnlyIpv6() : support.reason;
if (support.ok && utunReason) console.log(`skipping the utun-only IPv6 status test: ${utunReason}`);

Deno.test({
  name: "macos: IPv6 with only the system's utun link-local defaults is no-network, not #80",
  ignore: utunReason !== "",
  fn: async () => {
    const json = await status();
    const v6 = json.families.find((f) => f.family === 6)?.diagnosis;
    assertEquals(v6?.condition, "no-network", v6?.summary);
  },
});
