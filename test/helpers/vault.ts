import { cliArgv, type CliResult, outputWithin } from "./cli.ts";

/** A state folder for vault key files inside `dir`, as the environment the CLI gets. */
export function vaultEnv(dir: string): Record<string, string> {
  return { XDG_STATE_HOME: `${dir}/state`, SWAMP_VAULT_KEY_FILE: "" };
}

/** `swamp vault put VAULT KEY --repo ROOT` with `value` on stdin, as a user pipes it. */
export async function vaultPut(
  root: string,
  vault: string,
  key: string,
  value: string,
  env: Record<string, string>,
  extra: string[] = [],
): Promise<CliResult> {
  const [program, ...args] = cliArgv(["vault", "put", vault, key, "--repo", root, ...extra]);
  const child = new Deno.Command(program, {
    args,
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(value));
  await writer.close();
  const output = await outputWithin(child, `swamp vault put ${vault} ${key}`);
  const stdout = new TextDecoder().decode(output.stdout);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: output.code, stdout, stderr: new TextDecoder().decode(output.stderr), json };
}
