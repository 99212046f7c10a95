// lib/ffi_symbol_group.ts binds functions as pointer statics called through UnsafeFnPointer, a
// use of Deno's FFI that rests on what a "pointer" static means (the symbol's address). These
// tests call real libc functions through it, so a Deno that changed that meaning fails here
// (a wrong answer or a crash), not in a routing test far away.
import { SymbolGroup } from "../lib/ffi_symbol_group.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

const LIBC = Deno.build.os === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6";

const DEFINITIONS = {
  getpid: { parameters: [], result: "i32" },
  strlen: { parameters: ["buffer"], result: "usize" },
  // Writes a NUL-terminated copy of src into dst; returns dst (a pointer result).
  strcpy: { parameters: ["buffer", "buffer"], result: "pointer" },
  abs: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

Deno.test("SymbolGroup: number, bigint, buffer and pointer results come back right", () => {
  const group = new SymbolGroup(LIBC, DEFINITIONS);
  try {
    assertEquals(group.symbols.getpid(), Deno.pid);
    assertEquals(group.symbols.abs(-42), 42);
    const text = new TextEncoder().encode("defroute\0ignored");
    assertEquals(group.symbols.strlen(text), 8n);
    const destination = new Uint8Array(16);
    const source = new TextEncoder().encode("en0\0");
    const returned = group.symbols.strcpy(destination, source);
    assert(returned !== null, "strcpy returned NULL");
    assertEquals(
      Deno.UnsafePointer.value(returned),
      Deno.UnsafePointer.value(Deno.UnsafePointer.of(destination)),
    );
    assertEquals([...destination.subarray(0, 4)], [...source]);
  } finally {
    group.close();
  }
});

Deno.test("SymbolGroup: errno of a failing call is read right by the next call", () => {
  // What lib/linux/libc.ts and lib/darwin/libsystem.ts rely on: close(-1) fails with EBADF, and
  // __errno_location()/__error() read right after it, through the same path, still sees it.
  const errnoFunction = Deno.build.os === "darwin" ? "__error" : "__errno_location";
  const group = new SymbolGroup(LIBC, {
    close: { parameters: ["i32"], result: "i32" },
    [errnoFunction]: { parameters: [], result: "pointer" },
  } as Record<string, Deno.ForeignFunction>);
  try {
    const symbols = group.symbols as Record<string, (...args: unknown[]) => unknown>;
    for (let i = 0; i < 20; i++) {
      assertEquals(symbols.close!(-1), -1);
      const pointer = symbols[errnoFunction]!() as Deno.PointerObject;
      assertEquals(new Deno.UnsafePointerView(pointer).getInt32(0), 9, "EBADF (9 on both OSes)");
    }
  } finally {
    group.close();
  }
});

Deno.test("SymbolGroup: bound on first use, unbound by close, bound again after", () => {
  const group = new SymbolGroup(LIBC, { getpid: DEFINITIONS.getpid });
  assertEquals(group.isBound, false);
  assertEquals(group.symbols.getpid(), Deno.pid);
  assertEquals(group.isBound, true);
  const first = group.symbols;
  assert(group.symbols === first, "symbols are bound once, not on every access");
  group.close();
  assertEquals(group.isBound, false);
  assertEquals(group.symbols.getpid(), Deno.pid);
  group.close();
});

Deno.test("SymbolGroup: a nonblocking definition returns a Promise of the result", async () => {
  const group = new SymbolGroup(LIBC, {
    getpid: { parameters: [], result: "i32", nonblocking: true },
  });
  try {
    const pending = group.symbols.getpid();
    assert(pending instanceof Promise, "a nonblocking call must return a Promise");
    assertEquals(await pending, Deno.pid);
  } finally {
    group.close();
  }
});

Deno.test("SymbolGroup: a symbol the library lacks fails at binding, naming it", () => {
  const group = new SymbolGroup(LIBC, {
    defroute_no_such_function: { parameters: [], result: "void" },
  });
  assertThrows(() => group.symbols, /defroute_no_such_function/);
  assertEquals(group.isBound, false);
});
