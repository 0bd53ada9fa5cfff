// A path made absolute against the working directory, with `.` and `..`
// resolved and no trailing slash: how --repo is read everywhere, so a run's
// repository root is spelled the same by every process that names it.

export function absolute(path: string): string {
  if (path.startsWith("/")) return path.replace(/\/+$/, "") || "/";
  const joined = `${Deno.cwd()}/${path}`;
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
