// A step's process is started held (decision 0039): its first words, in the
// shell, wait for one line on stdin, a pipe whose other end only the process
// that started it holds. That process gives the go-ahead once the engine has
// recorded the step running with its pid; the step's own command runs only
// then. Should the starter die first, the pipe closes, the read meets end of
// file and the held process exits 125 having run nothing: an owner that takes
// the run over finds the step not started and starts it, once.

/** Waits for the go-ahead; exits 125 on end of file. Leaves stdin on /dev/null, as unheld. */
const WAIT = "IFS= read -r _ || exit 125; exec 0</dev/null; ";

/**
 * The program and arguments that run `command` held, with `shell` a POSIX
 * shell. A script keeps its shell and its line numbers (the wait comes first
 * on its first line); a program is exec'd by the shell in place, keeping its
 * pid, once released.
 */
export function heldCommand(
  command: { script: string } | { program: string; args: string[] },
  shell: string,
): { program: string; args: string[] } {
  if ("script" in command) return { program: shell, args: ["-c", WAIT + command.script] };
  return {
    program: shell,
    args: ["-c", `${WAIT}exec "$0" "$@"`, command.program, ...command.args],
  };
}
