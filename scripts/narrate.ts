/** How the demos talk: a bold narrated line, then real output indented under its command. */
const useColor = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
export const bold = (text: string): string => useColor ? `\x1b[1m${text}\x1b[0m` : text;
const dim = (text: string) => useColor ? `\x1b[2m${text}\x1b[0m` : text;

/** A narrated line. */
export function say(text: string): void {
  console.log(`\n${bold("==> " + text)}`);
}

/** Real output, indented under the command that produced it. */
export function show(command: string, output: string): void {
  console.log(dim(`    $ ${command}`));
  const text = output.trimEnd();
  console.log(text ? text.split("\n").map((line) => `    ${line}`).join("\n") : "    (nothing)");
}
