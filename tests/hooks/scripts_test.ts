/**
 * The shell hooks: every script passes `bash -n` and shellcheck, and the OpenVPN and OpenConnect
 * scripts call defroute (a recording fake here) at the right moments with the right exit codes.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { BASH, HOOKS_DIR, hookScripts, SHELLCHECK } from "./helpers.ts";

if (BASH === null) console.log("script tests skipped: bash is not on PATH");
if (SHELLCHECK === null) {
  console.log("shellcheck tests skipped: shellcheck is not on PATH (apt-get install shellcheck)");
}

const SCRIPTS = hookScripts();

Deno.test("hooks/ ships the OpenVPN and OpenConnect scripts, executable", () => {
  const names = SCRIPTS.map((path) => path.slice(HOOKS_DIR.length));
  assertEquals(names, [
    "openconnect/defroute-vpnc-script",
    "openvpn/defroute-down.sh",
    "openvpn/defroute-up.sh",
  ]);
  for (const path of SCRIPTS) {
    assertEquals((Deno.statSync(path).mode ?? 0) & 0o755, 0o755, `${path} mode`);
  }
});

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const result = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, stdout: decode(result.stdout), stderr: decode(result.stderr) };
}

for (const path of SCRIPTS) {
  const name = path.slice(HOOKS_DIR.length);
  Deno.test({
    name: `${name}: bash -n`,
    ignore: BASH === null,
    fn: async () => {
      const result = await run(BASH ?? "", ["-n", path]);
      assertEquals(result.code, 0, result.stderr);
    },
  });
  Deno.test({
    name: `${name}: shellcheck`,
    ignore: SHELLCHECK === null,
    fn: async () => {
      const result = await run(SHELLCHECK ?? "", ["--shell=bash", "--severity=style", path]);
      assertEquals(result.code, 0, result.stdout + result.stderr);
    },
  });
}

Deno.test({
  name: "shellcheck does flag a bad script (the check can fail)",
  ignore: SHELLCHECK === null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/bad.sh`, "#!/bin/bash\nrm -rf $1/*\n");
      const result = await run(SHELLCHECK ?? "", ["--shell=bash", `${dir}/bad.sh`]);
      assert(result.code !== 0, "shellcheck accepted an unquoted expansion");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A temp dir with a fake defroute and a fake vpnc-script that append to one shared log. */
async function fakes() {
  const dir = await Deno.makeTempDir({ prefix: "defroute-hooks-" });
  const log = `${dir}/calls.log`;
  const fake = (who: string, statusVar: string) =>
    `#!/bin/bash\nprintf '%s\\n' "${who} \${reason:-} $*" >> '${log}'\n` +
    `echo "${who} says hello" >&2\nexit "\${${statusVar}:-0}"\n`;
  await Deno.writeTextFile(`${dir}/defroute`, fake("defroute", "FAKE_DEFROUTE_STATUS"), {
    mode: 0o755,
  });
  await Deno.writeTextFile(`${dir}/vpnc-script`, fake("vpnc", "FAKE_VPNC_STATUS"), {
    mode: 0o755,
  });
  const calls = async () => {
    try {
      return (await Deno.readTextFile(log)).split("\n").filter((line) => line !== "");
    } catch {
      return [];
    }
  };
  return {
    dir,
    calls,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

const OPENVPN_UP = `${HOOKS_DIR}openvpn/defroute-up.sh`;
const OPENVPN_DOWN = `${HOOKS_DIR}openvpn/defroute-down.sh`;
const VPNC = `${HOOKS_DIR}openconnect/defroute-vpnc-script`;
// OpenVPN passes: tun_dev tun_mtu 0 ifconfig_local ifconfig_remote init|restart (OpenVPN init.c
// run_up_down: the third, once link_mtu, is a literal 0; --down gets "init" also on a restart).
const OPENVPN_ARGS = ["utun7", "1500", "0", "10.8.0.2", "10.8.0.1", "init"];

Deno.test({
  name: "openvpn up runs 'defroute save' and never fails the connection",
  ignore: BASH === null,
  fn: async () => {
    const f = await fakes();
    try {
      const env = { DEFROUTE: `${f.dir}/defroute` };
      assertEquals((await run(OPENVPN_UP, OPENVPN_ARGS, env)).code, 0);
      assertEquals(await f.calls(), ["defroute  save"]);
      const failing = await run(OPENVPN_UP, OPENVPN_ARGS, { ...env, FAKE_DEFROUTE_STATUS: "1" });
      assertEquals(failing.code, 0);
      assertMatch(failing.stderr, /save' exited with 1; connecting anyway/);
      const missing = await run(OPENVPN_UP, OPENVPN_ARGS, { DEFROUTE: `${f.dir}/nope` });
      assertEquals(missing.code, 0);
      assertMatch(missing.stderr, /nope is not an executable; set DEFROUTE/);
      assertEquals((await f.calls()).length, 2);
    } finally {
      await f.cleanup();
    }
  },
});

Deno.test({
  name: "openvpn down runs 'defroute restore' and exits 0 whatever restore says",
  ignore: BASH === null,
  fn: async () => {
    const f = await fakes();
    try {
      const env = { DEFROUTE: `${f.dir}/defroute`, signal: "sigterm" };
      const ok = await run(OPENVPN_DOWN, OPENVPN_ARGS, env);
      assertEquals([ok.code, ok.stderr], [0, "defroute says hello\n"]);
      // exit 3 (needs root after `user nobody`), 4 (no gateway), 1, 127: never OpenVPN's failure
      for (const status of ["1", "3", "4", "127"]) {
        const failing = await run(OPENVPN_DOWN, OPENVPN_ARGS, {
          ...env,
          FAKE_DEFROUTE_STATUS: status,
        });
        assertEquals(failing.code, 0, `restore exiting ${status}`);
        assertMatch(
          failing.stderr,
          new RegExp(`defroute-down: '.*restore' exited with ${status} \\(signal 'sigterm'\\)`),
        );
      }
      const missing = await run(OPENVPN_DOWN, OPENVPN_ARGS, { DEFROUTE: `${f.dir}/nope` });
      assertEquals(missing.code, 0);
      assertMatch(missing.stderr, /nope is not an executable; the default route was not checked/);
      assertEquals(await f.calls(), Array(5).fill("defroute  restore"));
    } finally {
      await f.cleanup();
    }
  },
});

Deno.test({
  name: "openvpn down: on a restart ($signal not sigterm/sigint) restore makes one attempt",
  ignore: BASH === null,
  fn: async () => {
    const f = await fakes();
    try {
      const env = { DEFROUTE: `${f.dir}/defroute`, FAKE_DEFROUTE_STATUS: "4" };
      // What OpenVPN sets (sig.c signal_description): a signal's lower-case name, or the reason.
      const restarts = ["sigusr1", "ping-restart", "sighup", "connection-reset", "tls-error"];
      for (const signal of restarts) {
        assertEquals((await run(OPENVPN_DOWN, OPENVPN_ARGS, { ...env, signal })).code, 0);
      }
      // Stopping (or run by hand / through the down-root plugin, without $signal): the full
      // restore, retries included.
      for (const signal of ["sigterm", "sigint"]) {
        assertEquals((await run(OPENVPN_DOWN, OPENVPN_ARGS, { ...env, signal })).code, 0);
      }
      assertEquals((await run(OPENVPN_DOWN, OPENVPN_ARGS, env)).code, 0);
      assertEquals(await f.calls(), [
        ...Array(restarts.length).fill("defroute  restore --no-retry"),
        "defroute  restore",
        "defroute  restore",
        "defroute  restore",
      ]);
    } finally {
      await f.cleanup();
    }
  },
});

Deno.test({
  name: "vpnc wrapper: save before the real script on pre-init and connect",
  ignore: BASH === null,
  fn: async () => {
    const f = await fakes();
    try {
      const env = { DEFROUTE: `${f.dir}/defroute`, DEFROUTE_VPNC_SCRIPT: `${f.dir}/vpnc-script` };
      assertEquals((await run(VPNC, [], { ...env, reason: "pre-init" })).code, 0);
      assertEquals((await run(VPNC, ["x y"], { ...env, reason: "connect" })).code, 0);
      assertEquals(await f.calls(), [
        "defroute pre-init save",
        "vpnc pre-init ",
        "defroute connect save",
        "vpnc connect x y",
      ]);
    } finally {
      await f.cleanup();
    }
  },
});

Deno.test({
  name: "vpnc wrapper: restore after the real script on disconnect, with the script's status",
  ignore: BASH === null,
  fn: async () => {
    const f = await fakes();
    try {
      const env = {
        DEFROUTE: `${f.dir}/defroute`,
        DEFROUTE_VPNC_SCRIPT: `${f.dir}/vpnc-script`,
        reason: "disconnect",
      };
      assertEquals((await run(VPNC, [], { ...env, FAKE_VPNC_STATUS: "3" })).code, 3);
      // a failing restore is reported, never turned into the VPN script's failure
      const failing = await run(VPNC, [], { ...env, FAKE_DEFROUTE_STATUS: "4" });
      assertEquals(failing.code, 0);
      assertMatch(failing.stderr, /restore' exited with 4/);
      assertEquals(await f.calls(), [
        "vpnc disconnect ",
        "defroute disconnect restore",
        "vpnc disconnect ",
        "defroute disconnect restore",
      ]);
    } finally {
      await f.cleanup();
    }
  },
});

Deno.test({
  name: "vpnc wrapper: other reasons go straight to the real script; no script is an error",
  ignore: BASH === null,
  fn: async () => {
    const f = await fakes();
    try {
      const env = { DEFROUTE: `${f.dir}/defroute`, DEFROUTE_VPNC_SCRIPT: `${f.dir}/vpnc-script` };
      for (const reason of ["reconnect", "attempt-reconnect", "pre-init-typo"]) {
        assertEquals((await run(VPNC, [], { ...env, reason, FAKE_VPNC_STATUS: "0" })).code, 0);
      }
      assertEquals(await f.calls(), [
        "vpnc reconnect ",
        "vpnc attempt-reconnect ",
        "vpnc pre-init-typo ",
      ]);
      const missing = await run(VPNC, [], {
        ...env,
        DEFROUTE_VPNC_SCRIPT: `${f.dir}/none`,
        reason: "connect",
      });
      assertEquals(missing.code, 1);
      assertMatch(missing.stderr, /none is not an executable/);
      assertEquals((await f.calls()).length, 3, "nothing ran without the real script");
    } finally {
      await f.cleanup();
    }
  },
});

Deno.test("every hooks folder has a README", async () => {
  const folders = [...Deno.readDirSync(HOOKS_DIR)].filter((e) => e.isDirectory).map((e) => e.name);
  assertEquals(folders.sort(), ["launchd", "openconnect", "openvpn", "sing-box", "wg-quick"]);
  for (const folder of folders) {
    const text = await Deno.readTextFile(`${HOOKS_DIR}${folder}/README.md`);
    assert(text.length > 200, `${folder}/README.md is too short`);
  }
});
