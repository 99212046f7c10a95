/**
 * The hook READMEs say what the hooks' tools need (issue 17 item 9): checks that the advice is
 * there, so a rewrite cannot silently drop it, and that no file cites a document that is not in
 * the repository.
 */
import { assert, assertEquals } from "../assert.ts";
import { hookFiles, HOOKS_DIR } from "./helpers.ts";

const read = (path: string) => Deno.readTextFile(`${HOOKS_DIR}${path}`);
const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("no hook file or README cites anchors.md, which is not in the repository", async () => {
  const files = [...hookFiles(() => true), `${ROOT}README.md`];
  const citing: string[] = [];
  for (const path of files) {
    if ((await Deno.readTextFile(path)).includes("anchors.md")) citing.push(path);
  }
  assertEquals(citing, []);
});

Deno.test("OpenVPN README: down never fatal, persist-tun, down-root on both Homebrew prefixes", async () => {
  const text = await read("openvpn/README.md");
  for (
    const needed of [
      "persist-tun",
      "persist-key",
      "/opt/homebrew/lib/openvpn/plugins/openvpn-plugin-down-root.so",
      "/usr/local/lib/openvpn/plugins/openvpn-plugin-down-root.so",
      "restore --no-retry",
      "always exits 0",
    ]
  ) assert(text.includes(needed), `openvpn/README.md lacks "${needed}"`);
});

Deno.test("Tunnelblick: pre-connect.sh and down-suffix.sh, and setenv does not reach them", async () => {
  const text = await read("openvpn/README.md");
  const tunnelblick = text.slice(text.indexOf("## Tunnelblick"));
  for (
    const needed of [
      "`pre-connect.sh`",
      "`down-suffix.sh`",
      "connect when\ncomputer starts",
      "`setenv DEFROUTE ...` in the OpenVPN config does not reach them",
    ]
  ) {
    const flat = (s: string) => s.replace(/\s+/g, " ");
    assert(flat(tunnelblick).includes(flat(needed)), `Tunnelblick section lacks "${needed}"`);
  }
});

Deno.test("OpenConnect README: sudo strips DEFROUTE (env in --script), SIGKILL needs the daemon", async () => {
  const text = (await read("openconnect/README.md")).replace(/\s+/g, " ");
  assert(text.includes("--script 'env DEFROUTE="), "no --script 'env DEFROUTE=...' example");
  assert(/SIGKILL.*launchd daemon/.test(text), "no word on a SIGKILLed openconnect");
});

Deno.test("wg-quick README: why the guard, PreUp after the utun exists, WireGuard.app", async () => {
  const text = (await read("wg-quick/README.md")).replace(/\s+/g, " ");
  assert(!text.includes("before it creates the interface"), "the old, wrong order is back");
  assert(text.includes("right after it has created the utun"));
  assert(text.includes("set -e -o pipefail"));
  assert(/WireGuard\.app.*cannot run hooks/.test(text));
  assert(text.includes("--tunnel-gone %i"));
});
