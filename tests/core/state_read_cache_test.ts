/**
 * readState answers from its last read while the file is unchanged (heal reads it at every
 * repair), and reads the file again after any change: a rename over it (how defroute writes),
 * an in-place edit of the same size, a chmod.
 */
import { assertEquals, assertRejects } from "../assert.ts";
import { emptyState, StateFileError } from "../../lib/core/state/schema.ts";
import { readState, writeState } from "../../lib/core/state/store.ts";

const trust = { ownerUid: null };

function stateWith(gateway: string) {
  const state = emptyState(new Date("2026-01-01T00:00:00Z"));
  state.families[4] = {
    route: { gateway, interface: "en0", index: 4, flags: 0 },
    scutil: null,
    savedAt: "2026-01-01T00:00:00.000Z",
    savedBy: "save",
  };
  return state;
}

Deno.test("readState: a file replaced by rename (defroute's own write) is read again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    await writeState(path, stateWith("192.168.1.1"), { trust });
    assertEquals((await readState(path, { trust }))?.families[4]?.route?.gateway, "192.168.1.1");
    assertEquals((await readState(path, { trust }))?.families[4]?.route?.gateway, "192.168.1.1");
    await writeState(path, stateWith("192.168.1.2"), { trust });
    assertEquals((await readState(path, { trust }))?.families[4]?.route?.gateway, "192.168.1.2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readState: an in-place edit of the same size is read again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    await writeState(path, stateWith("192.168.1.1"), { trust });
    assertEquals((await readState(path, { trust }))?.families[4]?.route?.gateway, "192.168.1.1");
    const text = Deno.readTextFileSync(path).replace("192.168.1.1", "192.168.1.9");
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later mtime
    Deno.writeTextFileSync(path, text); // same inode, same size
    assertEquals((await readState(path, { trust }))?.families[4]?.route?.gateway, "192.168.1.9");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "readState: a file made group-writable after a read is refused on the next read",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/state.json`;
      const policy = { ownerUid: Deno.uid() };
      await writeState(path, stateWith("192.168.1.1"), { trust: policy });
      assertEquals(
        (await readState(path, { trust: policy }))?.families[4]?.route?.gateway,
        "192.168.1.1",
      );
      Deno.chmodSync(path, 0o664);
      await assertRejects(
        () => readState(path, { trust: policy }),
        (e) => e instanceof StateFileError,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readState: a read-only reader of an unchanged file gets its state frozen, others a copy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    await writeState(path, stateWith("192.168.1.1"), { trust });
    const first = await readState(path, { trust }); // a full read
    const shared = await readState(path, { trust, readOnly: true });
    assertEquals(shared, first);
    assertEquals(Object.isFrozen(shared?.families[4]?.route), true);
    const own = await readState(path, { trust });
    assertEquals(Object.isFrozen(own), false, "a plain reader may change its copy");
    await writeState(path, stateWith("192.168.1.2"), { trust });
    const after = await readState(path, { trust, readOnly: true });
    assertEquals(after?.families[4]?.route?.gateway, "192.168.1.2");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
