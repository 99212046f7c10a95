/**
 * Some of a native library's functions, bound the first time one is used, without the per-symbol
 * compilation `Deno.dlopen` does for functions.
 *
 * Why not declare them as functions in `Deno.dlopen`: for every synchronous function symbol,
 * dlopen JIT-compiles a fast-call trampoline with Cranelift (ext/ffi/dlfcn.rs `make_sync_fn` ->
 * turbocall.rs `compile_trampoline`). That costs ~1 ms for the first symbol of a process (the
 * compiler's set-up) and ~0.3 ms for each further one, plus ~2.5 MB of memory, and the trampoline
 * is only entered from code V8 has optimized, which a hook's handful of calls never is. So each
 * symbol is declared as a *pointer static*, which dlopen returns as the symbol's address without
 * compiling anything (ext/ffi/static.rs: for a "pointer" static, `op_ffi_get_static` returns
 * `v8::External::new(data_ptr)`, the address dlsym gave, not the value stored there), and is
 * called through `Deno.UnsafeFnPointer`, whose `call` goes through libffi (`op_ffi_call_ptr`), as
 * an unoptimized caller of a dlopen'd function does. tests/ffi_symbol_group_test.ts checks that
 * this still holds for the Deno in use (a changed meaning of pointer statics would make
 * getpid/strlen answer wrong or crash the test, never pass), and that errno set by a failing
 * call is still there for the next call to read (docs/macos-routing-socket.md §7.4: only Deno's own
 * code runs in between, as before).
 *
 * Measured on the build VM: a `defroute save` starts ~2 ms sooner and peaks ~1 MB lower
 * (tests/bench/hook_bench.ts, 57.3 -> 55.1 ms); a call costs ~3 µs more (3-4 µs against 0.5 µs
 * for a dlopen'd function called from unoptimized code: UnsafeFnPointer reads its definition on
 * every call), ~10-30 µs over the calls of a restore or a heal repair.
 *
 * A `nonblocking: true` definition keeps its meaning: `call` then runs on Deno's blocking pool and
 * returns a Promise (`op_ffi_call_ptr_nonblocking`).
 */
export class SymbolGroup<S extends Deno.ForeignLibraryInterface> {
  #library: Deno.DynamicLibrary<Record<string, Deno.ForeignStatic<"pointer">>> | null = null;
  #symbols: Deno.DynamicLibrary<S>["symbols"] | null = null;
  constructor(readonly path: string, readonly definitions: S) {}

  get symbols(): Deno.DynamicLibrary<S>["symbols"] {
    return this.#symbols ??= this.#bind();
  }

  get isBound(): boolean {
    return this.#library !== null;
  }

  close(): void {
    this.#library?.close();
    this.#library = null;
    this.#symbols = null;
  }

  #bind(): Deno.DynamicLibrary<S>["symbols"] {
    const names = Object.keys(this.definitions);
    const statics: Record<string, Deno.ForeignStatic<"pointer">> = {};
    for (const name of names) {
      // `name` binds one C function under a second key (poll as a blocking and a non-blocking
      // call), as Deno.dlopen's own `name` field does.
      const symbol = (this.definitions[name] as Deno.ForeignFunction).name;
      statics[name] = symbol === undefined
        ? { type: "pointer" }
        : { name: symbol, type: "pointer" };
    }
    const library = Deno.dlopen(this.path, statics);
    const symbols: Record<string, unknown> = {};
    for (const name of names) {
      const address = library.symbols[name] as Deno.PointerValue;
      if (address === null) {
        library.close();
        throw new Error(`${this.path}: symbol ${name} has a null address`);
      }
      const definition = this.definitions[name] as Deno.ForeignFunction;
      // A static's address is an untyped PointerObject; this definition is what it points to.
      const pointer = new Deno.UnsafeFnPointer(
        address as Deno.PointerObject<Omit<Deno.ForeignFunction, "nonblocking">>,
        definition,
      );
      // `call` is a method reading `this.pointer` and `this.definition`: keep it bound.
      symbols[name] = pointer.call.bind(pointer);
    }
    this.#library = library;
    // The same shapes dlopen would have returned for these definitions (Deno's own types for
    // UnsafeFnPointer#call and DynamicLibrary#symbols are both derived from the definition).
    return symbols as Deno.DynamicLibrary<S>["symbols"];
  }
}
