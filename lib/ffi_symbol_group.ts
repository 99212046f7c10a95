/**
 * Some of a native library's symbols, bound by their own `Deno.dlopen` the first time one is
 * used. Deno compiles a call trampoline for every symbol when it opens a library (~0.2-0.5 ms
 * each here), so lib/darwin/libsystem.ts and lib/linux/libc.ts split their symbols into small
 * groups: a short-lived `save` or `restore` then pays only for the functions it calls.
 */
export class SymbolGroup<S extends Deno.ForeignLibraryInterface> {
  #library: Deno.DynamicLibrary<S> | null = null;
  constructor(readonly path: string, readonly definitions: S) {}

  get symbols(): Deno.DynamicLibrary<S>["symbols"] {
    this.#library ??= Deno.dlopen(this.path, this.definitions);
    return this.#library.symbols;
  }

  get isBound(): boolean {
    return this.#library !== null;
  }

  close(): void {
    this.#library?.close();
    this.#library = null;
  }
}
