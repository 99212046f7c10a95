/**
 * `deno task sim-ctl` drives a running simulated Mac from a shell (issue 14 item 2), and
 * `deno task simulator` prints an environment whose DEFROUTE_STATE lives in its own directory,
 * which it removes when it stops.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { standinUnavailableReason, startSimulator } from "./sim.ts";
import { IFF_RUNNING, IFF_UP, SCUTIL_IPV4, scutilLinkKey } from "./xnu_kernel.ts";
import { SIM_CTL_HELP, simCtl } from "./sim_ctl.ts";
import { REPO_DIR } from "./standin.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`sim_ctl_test: the simulator tests are skipped: ${skip}`);

/** simCtl in this process against `socket`; its exit code, stdout and stderr. */
async function ctl(socket: string | undefined, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await simCtl(
    args,
    (name) => name === "DEFROUTE_SIM_SOCKET" ? socket : undefined,
    (text) => out.push(text),
    (text) => err.push(text),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test({
  name: "sim-ctl: add-utun, add-interface, addresses, link, ifconfig, remove-interface change it",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    const socket = sim.socketPath;
    assertEquals((await ctl(socket, "add-utun", "utun4")).code, 0);
    const utun4 = (await sim.interfaces()).find((i) => i.name === "utun4");
    assert(utun4 !== undefined, "no utun4");
    assertEquals(utun4.mac, null);
    assertEquals(utun4.addresses[0], { address: "198.18.0.1", prefix: 30 });

    const added = await ctl(
      socket,
      "add-interface",
      "en1",
      "192.168.2.100/24",
      "2001:db8:2::100/64",
      "--mac",
      "aa:bb:cc:dd:ee:02",
    );
    assertEquals(added.code, 0, added.err);
    const en1 = (await sim.interfaces()).find((i) => i.name === "en1");
    assertEquals(en1?.mac, "aa:bb:cc:dd:ee:02");
    assertEquals(en1?.addresses.map((a) => `${a.address}/${a.prefix}`), [
      "192.168.2.100/24",
      "2001:db8:2::100/64",
    ]);
    assert(en1 !== undefined && en1.index > utun4.index, "indexes are handed out in order");

    // link: configd's Link key only; the flags stay UP|RUNNING (as on a real Mac).
    assertEquals(await sim.scutil(scutilLinkKey("en1")), { Active: "TRUE" });
    assertEquals((await ctl(socket, "link", "en1", "down")).code, 0);
    assertEquals(await sim.scutil(scutilLinkKey("en1")), { Active: "FALSE" });
    const flagsOf = async (name: string) =>
      (await sim.interfaces()).find((i) => i.name === name)!.flags & (IFF_UP | IFF_RUNNING);
    assertEquals(await flagsOf("en1"), IFF_UP | IFF_RUNNING);
    assertEquals((await ctl(socket, "link", "en1", "up")).code, 0);
    assertEquals(await sim.scutil(scutilLinkKey("en1")), { Active: "TRUE" });
    // ifconfig: the interface flags. Down clears IFF_UP only, as xnu's if_updown does
    // (bsd/net/if.c 1609-1612); IFF_RUNNING is the driver's.
    assertEquals((await ctl(socket, "ifconfig", "en1", "down")).code, 0);
    assertEquals(await flagsOf("en1"), IFF_RUNNING);
    assertEquals((await ctl(socket, "ifconfig", "en1", "up")).code, 0);
    assertEquals(await flagsOf("en1"), IFF_UP | IFF_RUNNING);

    // Addresses come and go on their own.
    assertEquals((await ctl(socket, "add-address", "en1", "10.9.0.2/16")).code, 0);
    const withAddress = (await sim.interfaces()).find((i) => i.name === "en1")!;
    assert(withAddress.addresses.some((a) => a.address === "10.9.0.2" && a.prefix === 16));
    assertEquals((await ctl(socket, "remove-address", "en1", "10.9.0.2")).code, 0);
    const without = (await sim.interfaces()).find((i) => i.name === "en1")!;
    assertEquals(without.addresses.some((a) => a.address === "10.9.0.2"), false);

    // The scoped default on en0 goes with it when en0 goes.
    assertEquals((await ctl(socket, "remove-interface", "en0")).code, 0);
    assertEquals((await sim.interfaces()).map((i) => i.name).includes("en0"), false);
    assertEquals((await sim.defaults(4)).filter((r) => r.interface === "en0"), []);
  },
});

Deno.test({
  name: "sim-ctl: set-router / clear-router change what scutil shows; routes lists the table",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    const socket = sim.socketPath;
    const before = await sim.scutil(SCUTIL_IPV4);
    assertEquals((await ctl(socket, "set-router", "4", "192.168.1.254", "en0")).code, 0);
    assertEquals(await sim.scutil(SCUTIL_IPV4), {
      PrimaryInterface: "en0",
      PrimaryService: before!.PrimaryService!, // kept: the same service, a new router
      Router: "192.168.1.254",
    });
    // What defroute's scutil stand-in reads back.
    const scutil = await new Deno.Command(sim.env.DEFROUTE_SCUTIL, {
      env: sim.env,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = scutil.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`show ${SCUTIL_IPV4}\n`));
    await writer.close();
    const shown = new TextDecoder().decode((await scutil.output()).stdout);
    assertMatch(shown, /Router : 192\.168\.1\.254/);

    assertEquals((await ctl(socket, "clear-router", "4")).code, 0);
    assertEquals(await sim.scutil(SCUTIL_IPV4), null);

    const routes = await ctl(socket, "routes", "4");
    assertEquals(routes.code, 0);
    assertMatch(routes.out, /^inet +default +192\.168\.1\.1 +en0 .*\(global\)$/m);
    assertMatch(routes.out, /^inet +default +192\.168\.1\.1 +en0 .*\(ifscope en0\)$/m);
    const json = await ctl(socket, "routes", "6", "--json");
    const parsed = JSON.parse(json.out) as { family: number }[];
    assert(parsed.length > 0 && parsed.every((r) => r.family === 6), json.out);
  },
});

Deno.test({
  name: "sim-ctl: usage errors exit 2 with a hint; a refused request exits 1 with the reason",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    const socket = sim.socketPath;
    for (
      const [args, pattern] of [
        [["bogus"], /unknown verb "bogus"; try --help/],
        [["add-utun"], /add-utun: missing NAME; try --help/],
        [["link", "en0", "sideways"], /link takes up or down, not "sideways"/],
        [["set-router", "5", "10.0.0.1", "en0"], /the family is 4 or 6, not "5"/],
        [["add-interface", "en1", "10.0.0.1"], /ADDRESS\/PREFIX \(192\.168\.2\.100\/24\)/],
        [["routes", "4", "extra"], /unexpected "extra"/],
        [["--nope"], /Unknown option '--nope'.*try --help/],
      ] as const
    ) {
      const result = await ctl(socket, ...args);
      assertEquals(result.code, 2, `${args.join(" ")}: ${result.err}`);
      assertMatch(result.err, pattern);
    }
    const refused = await ctl(socket, "remove-interface", "en9");
    assertEquals(refused.code, 1);
    assertMatch(refused.err, /remove-interface: .*no interface en9/);
    const twice = await ctl(socket, "add-utun", "en0");
    assertEquals(twice.code, 1);
    assertMatch(twice.err, /en0 .* exists/);
  },
});

Deno.test({
  name: "sim-ctl: --help, no socket, and a simulator that is not running",
  ignore: skip !== null,
  async fn() {
    const help = await ctl(undefined, "--help");
    assertEquals([help.code, help.out], [0, SIM_CTL_HELP]);
    for (
      const verb of [
        "add-utun",
        "add-interface",
        "remove-interface",
        "link",
        "ifconfig",
        "set-router",
      ]
    ) {
      assert(SIM_CTL_HELP.includes(`  ${verb} `), `--help does not list ${verb}`);
    }
    const unset = await ctl(undefined, "routes");
    assertEquals(unset.code, 1);
    assertMatch(unset.err, /DEFROUTE_SIM_SOCKET is not set: start the simulated Mac/);
    const dir = await Deno.makeTempDir({ prefix: "defroute-nosim-" });
    try {
      const gone = await ctl(`${dir}/sim.sock`, "routes");
      assertEquals(gone.code, 1);
      assertEquals(
        gone.err,
        `the simulated Mac at ${dir}/sim.sock is not running; start it with deno task simulator`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "deno task simulator: DEFROUTE_STATE in its own directory, removed when it stops; sim-ctl as a task",
  ignore: skip !== null,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "simulator"],
      cwd: REPO_DIR,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("Ctrl-C stops")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const env = Object.fromEntries(
      [...text.matchAll(/^export (DEFROUTE_\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    const socket = env.DEFROUTE_SIM_SOCKET!;
    const dir = socket.slice(0, socket.lastIndexOf("/"));
    try {
      assertEquals(env.DEFROUTE_STATE, `${dir}/state.json`, text);
      // defroute saves there, never to the host's /var/run/defroute.
      const save = await new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "defroute", "save"],
        cwd: REPO_DIR,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(save.code, 0, new TextDecoder().decode(save.stderr));
      assert(Deno.statSync(`${dir}/state.json`).isFile);
      // The task form of sim-ctl, with the printed environment.
      const routes = await new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "sim-ctl", "routes", "4"],
        cwd: REPO_DIR,
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(routes.code, 0, new TextDecoder().decode(routes.stderr));
      assertMatch(new TextDecoder().decode(routes.stdout), /default +192\.168\.1\.1/);
    } finally {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      await child.status;
    }
    let exists = true;
    try {
      Deno.statSync(dir);
    } catch {
      exists = false;
    }
    assertEquals(exists, false, `${dir} is still there`);
  },
});
