/** Top-level help text. Exit codes are documented here and in the README. */
export const VERSION = "0.1.0";

export const EXIT_CODES_HELP = `Exit codes:
  0  done, or nothing to do
  1  failure (the message says what failed; the routing table is left as it was found)
  2  usage error (unknown flag, missing value)
  3  needs root (changing routes requires it)
  4  no gateway known (nothing to restore from: scutil, the state file and the kernel all empty)
  run exits with the wrapped command's status (128+N when it died of signal N).`;

export const COMMON_OPTIONS_HELP = `Common options:
  --json            machine-readable output: one JSON object (JSON lines for streams);
                    every line on stderr is a JSON object too
  --family 4|6|all  which address families (default all)
  --state PATH      state file (default /var/run/defroute/state.json, or $DEFROUTE_STATE)
  -q, --quiet       only errors and warnings on stderr
  -v, --verbose     more detail on stderr
  -h, --help        this help`;
