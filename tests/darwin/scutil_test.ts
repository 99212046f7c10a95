/**
 * scutil: the pure parser on real and reconstructed outputs (tests/fixtures/scutil/README.md),
 * strict validation of what it yields, and the runner against small fake scutil scripts.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../assert.ts";
import {
  GLOBAL_QUERY,
  interpretGlobalState,
  lookQuery,
  parseGlobalStates,
  parseScutilLook,
  parseScutilOutput,
  ScutilError,
  ScutilParseError,
  ScutilPrimarySource,
} from "../../lib/darwin/scutil.ts";
import { SCUTIL_STANDIN } from "../harness/standin.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../fixtures/scutil/${name}`, import.meta.url));
const fixturePath = (name: string) =>
  new URL(`../fixtures/scutil/${name}`, import.meta.url).pathname;

Deno.test("parses both Global samples of docs/macos-routing-socket.md §6", () => {
  const states = parseGlobalStates(fixture("global_both.txt"));
  assertEquals(states[4], {
    kind: "present",
    info: {
      family: 4,
      router: "192.168.1.1",
      interface: "en0",
      service: "2262B572-5785-46BF-AE88-7C003BE61B46",
    },
  });
  assertEquals(states[6], {
    kind: "present",
    info: {
      family: 6,
      router: "fe80::1234:56ff:fe78:9abc",
      interface: "en1",
      service: "C3E42030-D8F9-44DC-9BA4-4F7BF67243B3",
    },
  });
});

Deno.test("'  No such key' is absent, per family", () => {
  const states = parseGlobalStates(fixture("global_ipv6_missing.txt"));
  assertEquals(states[4].kind, "present");
  assertEquals(states[6], { kind: "absent" });
  const none = parseGlobalStates(fixture("global_none.txt"));
  assertEquals(none, { 4: { kind: "absent" }, 6: { kind: "absent" } });
});

Deno.test("a utun primary is reported as scutil says it (policy decides later)", () => {
  const states = parseGlobalStates(fixture("global_utun.txt"));
  assertEquals(states[4].kind === "present" && states[4].info.interface, "utun4");
  assertEquals(states[4].kind === "present" && states[4].info.router, "10.8.0.1");
});

Deno.test("an IPv6 link-local Router without PrimaryInterface is invalid, not half-used", () => {
  const states = parseGlobalStates(fixture("global_ipv6_no_interface.txt"));
  assertEquals(states[4], { kind: "absent" });
  assertEquals(states[6].kind, "invalid");
  assertMatch(states[6].kind === "invalid" ? states[6].reason : "", /link-local.*PrimaryInterface/);
});

Deno.test("parses nested arrays (the Interface/en0/IPv4 sample)", () => {
  const plain = JSON.parse(JSON.stringify(parseScutilOutput(fixture("interface_en0_ipv4.txt"))));
  assertEquals(plain, [
    { Addresses: ["192.168.1.100"], SubnetMasks: ["255.255.255.0"] },
  ]);
});

Deno.test("parses nested dictionaries in arrays, values with spaces, <data>, empty values", () => {
  const [dict] = parseScutilOutput(fixture("nested_mixed.txt"));
  assertEquals(JSON.parse(JSON.stringify(dict)), {
    Empty: "",
    Flags: "0",
    IsPrimary: "TRUE",
    Nested: {
      Inner: [{ Addresses: ["10.0.0.2", "10.0.0.3"], Name: "Home Wi-Fi (5 GHz)" }, "plain"],
    },
    RouterHardwareAddress: "<data> 0x0a0b0c0d0e0f",
    Timestamp: "11/25/2026 21:40:00",
    __CONFIGURATION_ID__: "Default: Setup:/Network/Service/ABC",
  });
});

Deno.test("a key named __proto__ is data, not a prototype change", () => {
  const [dict] = parseScutilOutput("<dictionary> {\n  __proto__ : x\n}\n");
  assertEquals(dict?.["__proto__"], "x");
  assertEquals(Object.getPrototypeOf(dict), null);
});

Deno.test("garbage never parses to a partial result", () => {
  const bad: [string, string][] = [
    ["hello world\n", "a stray line"],
    ["<dictionary> {\n  Router : 192.168.1.1\n", "unclosed"],
    ["}\n", "a lone close"],
    ["<array> {\n  0 : x\n}\n", "a top-level array"],
    ["<dictionary> {\n  Router 192.168.1.1\n}\n", "no ' : '"],
    ["<dictionary> {\n  A : <array> {\n    1 : x\n  }\n}\n", "array index out of order"],
    ["<dictionary> {\n  Router : 1.1.1.1\n  Router : 2.2.2.2\n}\n", "duplicate key"],
    ["<dictionary> {\n" + "  A : <dictionary> {\n".repeat(40) + "}\n".repeat(41), "too deep"],
    ["  No such key\n".repeat(5000) + "x".repeat(70_000), "too large"],
  ];
  for (const [text, why] of bad) {
    assertThrows(() => parseScutilOutput(text), (e) => e instanceof ScutilParseError);
    assertThrows(() => parseGlobalStates(text), (e) => e instanceof ScutilParseError);
    void why;
  }
});

Deno.test("the Global answer must be exactly two blocks", () => {
  assertThrows(() => parseGlobalStates(""), /printed nothing/);
  assertThrows(() => parseGlobalStates("  No such key\n"), /expected 2 answers/);
  assertThrows(() => parseGlobalStates("  No such key\n".repeat(3)), /expected 2 answers/);
});

Deno.test("Router and PrimaryInterface are validated strictly", () => {
  const cases: [4 | 6, Record<string, string>, string][] = [
    [4, { Router: "192.168.1", PrimaryInterface: "en0" }, "invalid"],
    [4, { Router: "192.168.1.1.5", PrimaryInterface: "en0" }, "invalid"],
    [4, { Router: "01.2.3.4", PrimaryInterface: "en0" }, "invalid"],
    [4, { Router: "0.0.0.0", PrimaryInterface: "en0" }, "invalid"],
    [4, { Router: "fe80::1", PrimaryInterface: "en0" }, "invalid"],
    [4, { Router: "192.168.1.1", PrimaryInterface: "EN0" }, "invalid"],
    [4, { Router: "192.168.1.1", PrimaryInterface: "en0;reboot" }, "invalid"],
    [4, { Router: "192.168.1.1", PrimaryInterface: "averyveryverylongname0" }, "invalid"],
    [6, { Router: "192.168.1.1", PrimaryInterface: "en0" }, "invalid"],
    [6, { Router: "fe80::1%en1", PrimaryInterface: "en0" }, "invalid"],
    [6, { Router: "fe80:::1", PrimaryInterface: "en0" }, "invalid"],
    [6, { Router: "fe80::1%en0", PrimaryInterface: "en0" }, "present"],
    [6, { Router: "2001:DB8:0:0::1", PrimaryInterface: "en0" }, "present"],
    [4, { PrimaryInterface: "en0" }, "present"],
  ];
  for (const [family, dict, kind] of cases) {
    const state = interpretGlobalState(family, dict);
    assertEquals(state.kind, kind, `${family} ${JSON.stringify(dict)}`);
  }
  const v6 = interpretGlobalState(6, { Router: "2001:DB8:0:0::1", PrimaryInterface: "en0" });
  assertEquals(v6.kind === "present" && v6.info.router, "2001:db8::1");
  const zoned = interpretGlobalState(6, { Router: "fe80::1%en0", PrimaryInterface: "en0" });
  assertEquals(zoned.kind === "present" && zoned.info.router, "fe80::1");
  const odd = interpretGlobalState(4, {
    Router: "10.0.0.1",
    PrimaryInterface: "en0",
    PrimaryService: "not a uuid; really",
  });
  assertEquals(odd.kind === "present" && odd.info.service, null);
  const noRouter = interpretGlobalState(4, { PrimaryInterface: "en0" });
  assertEquals(noRouter.kind === "present" && noRouter.info.router, null);
});

// --- the runner, against fake scutil scripts -------------------------------------------------

async function fakeScutil(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("runs one scutil process for both families and passes the query on stdin", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-scutil-" });
  try {
    const count = `${dir}/runs`;
    const seen = `${dir}/stdin`;
    const path = await fakeScutil(
      dir,
      "scutil",
      `echo run >> '${count}'\ncat > '${seen}'\ncat '${fixturePath("global_both.txt")}'`,
    );
    const source = new ScutilPrimarySource({ path });
    const [v4, v6] = await Promise.all([source.primary(4), source.primary(6)]);
    assertEquals(v4?.router, "192.168.1.1");
    assertEquals(v6?.router, "fe80::1234:56ff:fe78:9abc");
    assertEquals(v6?.interface, "en1");
    assertEquals(await Deno.readTextFile(count), "run\n");
    assertEquals(await Deno.readTextFile(seen), GLOBAL_QUERY);
    // A later call asks again: the primary network can change at any time.
    await source.primary(4);
    assertEquals(await Deno.readTextFile(count), "run\nrun\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing key gives null, an invalid one an error naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-scutil-" });
  try {
    const missing = await fakeScutil(dir, "a", `cat '${fixturePath("global_ipv6_missing.txt")}'`);
    assertEquals(await new ScutilPrimarySource({ path: missing }).primary(6), null);
    const noIf = await fakeScutil(dir, "b", `cat '${fixturePath("global_ipv6_no_interface.txt")}'`);
    await assertRejects(
      () => new ScutilPrimarySource({ path: noIf }).primary(6),
      (e) => e instanceof ScutilError && e.kind === "invalid" && /IPv6 Router/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("failures are clear ScutilErrors, never a crash or a gateway", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-scutil-" });
  try {
    const cases: [string, string, ScutilError["kind"], RegExp][] = [
      ["exit1", "echo 'scutil: broken store' >&2\nexit 1", "failed", /exited 1: scutil: broken/],
      ["empty", "cat > /dev/null", "garbage", /printed nothing/],
      ["garbage", "echo 'Router : 6.6.6.6'", "garbage", /unexpected line 1/],
      ["half", "printf '<dictionary> {\\n  Router : 6.6.6.6\\n'", "garbage", /unclosed/],
      ["hang", "exec sleep 1000", "timeout", /did not answer within 300 ms/],
      // A grandchild keeps stdout open after the script itself is killed.
      ["grandchild", "sleep 1000\necho done", "timeout", /did not answer/],
      ["flood", "yes 'No such key'", "garbage", /more than/],
    ];
    for (const [name, body, kind, message] of cases) {
      const path = await fakeScutil(dir, name, body);
      const source = new ScutilPrimarySource({ path, timeoutMs: 300 });
      await assertRejects(
        () => source.primary(4),
        (e) => e instanceof ScutilError && e.kind === kind && message.test(e.message),
      );
    }
    const absent = new ScutilPrimarySource({ path: `${dir}/nope` });
    await assertRejects(
      () => absent.primary(4),
      (e) => e instanceof ScutilError && e.kind === "not-found" && /no such file/.test(e.message),
    );
    const relative = new ScutilPrimarySource({ path: "scutil" });
    await assertRejects(() => relative.primary(4), /not absolute/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DEFROUTE_SCUTIL overrides the path; the default is /usr/sbin/scutil", () => {
  const before = Deno.env.get("DEFROUTE_SCUTIL");
  try {
    Deno.env.delete("DEFROUTE_SCUTIL");
    assertEquals(new ScutilPrimarySource().path, "/usr/sbin/scutil");
    // The stand-in (the repository's, or its root-owned copy: tests/harness/standin.ts) is a
    // file only root can change, from / down, so it is accepted...
    const standin = SCUTIL_STANDIN;
    Deno.env.set("DEFROUTE_SCUTIL", standin);
    assertEquals(new ScutilPrimarySource().path, standin);
    // ...and a path that is not there is refused before anything runs (override_path.ts).
    Deno.env.set("DEFROUTE_SCUTIL", "/opt/fake/scutil");
    assertThrows(
      () => new ScutilPrimarySource(),
      /DEFROUTE_SCUTIL: cannot use \/opt\/fake\/scutil/,
    );
    assert(new ScutilPrimarySource({ path: "/x" }).path === "/x");
  } finally {
    if (before === undefined) Deno.env.delete("DEFROUTE_SCUTIL");
    else Deno.env.set("DEFROUTE_SCUTIL", before);
  }
});

// --- link states: configd's State:/Network/Interface/<if>/Link, in the same run ------------

Deno.test("lookQuery: the Global keys, then one Link key per plain interface name (no injected commands)", () => {
  const query = lookQuery(["en0", "utun4", "en0", "bad name", "x\nshow Setup:/", "en1"]);
  assertEquals(query.names, ["en0", "utun4", "en1"]);
  assertEquals(
    query.input,
    GLOBAL_QUERY +
      "show State:/Network/Interface/en0/Link\nshow State:/Network/Interface/utun4/Link\n" +
      "show State:/Network/Interface/en1/Link\n",
  );
  assertEquals(lookQuery([]).input, GLOBAL_QUERY);
  assertEquals(lookQuery(Array.from({ length: 100 }, (_, i) => `en${i}`)).names.length, 64);
});

Deno.test("parseScutilLook: Active FALSE is inactive; TRUE and No such key are not; a wrong count is garbage", () => {
  const global = fixture("global_both.txt");
  const text = global + "<dictionary> {\n  Active : FALSE\n  Expensive : FALSE\n}\n" +
    "  No such key\n" + "<dictionary> {\n  Active : TRUE\n}\n";
  const look = parseScutilLook(text, ["en0", "utun4", "en1"]);
  assertEquals([...look.inactive], ["en0"]);
  assertEquals(look.global[4].kind, "present");
  assertThrows(() => parseScutilLook(global, ["en0"]), (e) => e instanceof ScutilParseError);
});

Deno.test("link states and both families' Global keys: one scutil run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-scutil-" });
  try {
    const count = `${dir}/runs`;
    const seen = `${dir}/stdin`;
    const path = await fakeScutil(
      dir,
      "scutil",
      `echo run >> '${count}'\ncat > '${seen}'\ncat '${fixturePath("global_both.txt")}'\n` +
        `printf '<dictionary> {\\n  Active : FALSE\\n}\\n  No such key\\n'`,
    );
    const source = new ScutilPrimarySource({ path });
    // As observe() asks: the link states first, then the families, at the same moment.
    const [inactive, v4, v6] = await Promise.all([
      source.inactiveLinks(["en0", "utun4"]),
      source.primary(4),
      source.primary(6),
    ]);
    assertEquals([...inactive], ["en0"]);
    assertEquals([v4?.router, v6?.interface], ["192.168.1.1", "en1"]);
    assertEquals(await Deno.readTextFile(count), "run\n", "one spawn per look");
    assertEquals(
      await Deno.readTextFile(seen),
      GLOBAL_QUERY +
        "show State:/Network/Interface/en0/Link\nshow State:/Network/Interface/utun4/Link\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
