// A real network partition for tests (needs root: gate with
// capability("netns")): a network namespace joined to the host by a veth
// pair with addresses the test assigns, a process run inside it with
// `ip netns exec`, and the link cut (`ip link set … down`) and healed.
// Everything is deleted on dispose, also when the test failed.

export interface Partition {
  /** The namespace's name. */
  ns: string;
  /** The host's end of the link and its address (servers listen here). */
  hostDev: string;
  hostIp: string;
  /** The namespace's end and its address. */
  nsDev: string;
  nsIp: string;
  /** Prefix for a command line that runs inside the namespace. */
  exec: string[];
  /** Takes the namespace's end down: packets stop both ways, no reset is sent. */
  cut(): Promise<void>;
  heal(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function ip(args: string[], netns?: string): Promise<void> {
  const argv = netns ? ["netns", "exec", netns, "ip", ...args] : args;
  const out = await new Deno.Command("ip", { args: argv, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`ip ${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/**
 * A namespace and a veth pair with 10.213.N.1/30 (host) and 10.213.N.2/30
 * (namespace), N chosen at random among subnets no interface here uses.
 */
export async function makePartition(): Promise<Partition> {
  const tag = crypto.randomUUID().replaceAll("-", "").slice(0, 6);
  const ns = `swamp-part-${tag}`;
  const hostDev = `swph${tag}`; // interface names have at most 15 characters
  const nsDev = `swpn${tag}`;
  const used = new TextDecoder().decode(
    (await new Deno.Command("ip", { args: ["-4", "-o", "addr"], stdout: "piped" }).output())
      .stdout,
  );
  const free = Array.from({ length: 250 }, (_, i) => i + 1).filter((n) =>
    !used.includes(`10.213.${n}.`)
  );
  if (free.length === 0) throw new Error("no free 10.213.N.0/30 subnet for the partition");
  const n = free[Math.floor(Math.random() * free.length)];
  const hostIp = `10.213.${n}.1`;
  const nsIp = `10.213.${n}.2`;
  const cleanup = async () => {
    // Deleting either end deletes the pair; deleting the namespace deletes its end too.
    await ip(["link", "delete", hostDev]).catch(() => {});
    await ip(["netns", "delete", ns]).catch(() => {});
  };
  try {
    await ip(["netns", "add", ns]);
    await ip(["link", "add", hostDev, "type", "veth", "peer", "name", nsDev]);
    await ip(["link", "set", nsDev, "netns", ns]);
    await ip(["addr", "add", `${hostIp}/30`, "dev", hostDev]);
    await ip(["link", "set", hostDev, "up"]);
    await ip(["addr", "add", `${nsIp}/30`, "dev", nsDev], ns);
    await ip(["link", "set", nsDev, "up"], ns);
    await ip(["link", "set", "lo", "up"], ns);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return {
    ns,
    hostDev,
    hostIp,
    nsDev,
    nsIp,
    exec: ["ip", "netns", "exec", ns],
    cut: () => ip(["link", "set", nsDev, "down"], ns),
    heal: () => ip(["link", "set", nsDev, "up"], ns),
    [Symbol.asyncDispose]: cleanup,
  };
}
