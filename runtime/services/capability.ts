// The capability service: the only way a running extension method reaches
// its definition, data and vault. Each dispatch gets a credential (a random
// secret; only its hash is kept) scoped to that step attempt: it ends when
// the step ends, reaches only that run's data, the resource specs the type
// declares and the secrets the step declares. Anything else is
// permission_denied, with a message naming what was refused (never a secret).
import { create, fromJson, type JsonObject, type JsonValue, toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  type CapabilityServiceQueryDataRequest,
  CapabilityServiceQueryDataResponseSchema,
  type FinishRequest,
  FinishResponseSchema,
  type GetBundleRequest,
  GetBundleResponseSchema,
  type GetContextRequest,
  GetContextResponseSchema,
  type GetSecretRequest,
  GetSecretResponseSchema,
  type ReadResourceRequest,
  ReadResourceResponseSchema,
  type WriteResourceRequest,
  WriteResourceResponseSchema,
} from "../../proto/gen/swamp/v1/capability_service_pb.ts";
import { ErrorCode } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { SwampError } from "../errors/mod.ts";
import type { DataItem, DataStore } from "../ports/data.ts";
import type { ExtensionCall } from "../ports/extension_methods.ts";
import type { SecretSource } from "../ports/vault.ts";
import type { LeaseStore } from "../ports/leases.ts";
import { sha256Hex } from "../text/hash.ts";
import type { ExpressionEvaluator } from "../ports/expressions.ts";
import { queryData } from "./data_service.ts";
import type { ExtensionBundle } from "./extension_bundle.ts";

/** What one credential allows, and what was done with it. */
export interface Grant {
  call: ExtensionCall;
  /** The step lease the call runs under: the credential is valid only while it is active. */
  leaseId?: string;
  /**
   * A placed step's: its worker names the lease with every call (the lease is
   * taken when a worker takes the step, after the credential is issued), and
   * fetches the extension code from here.
   */
  remote?: { bundle: ExtensionBundle };
  writes: DataItem[];
  finished: boolean;
  result?: unknown;
  /** What the method reported as its failure. */
  error?: string;
}

/** The live credentials of one process, by the hash of their secret. */
export class CapabilityGrants {
  #live = new Map<string, Grant>();
  /** Hashes of adopted credentials, by the hash of the credential they act under. */
  #aliases = new Map<string, string[]>();

  /** A new credential for `call`; the secret is returned once and never kept. */
  async issue(
    call: ExtensionCall,
    leaseId?: string,
    remote?: Grant["remote"],
  ): Promise<{ credential: string; grant: Grant }> {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const credential = `swcap_${
      Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
    }`;
    const grant: Grant = {
      call,
      leaseId,
      writes: [],
      finished: false,
      ...(remote ? { remote } : {}),
    };
    this.#live.set(await sha256Hex(credential), grant);
    return { credential, grant };
  }

  /**
   * Lets the credential whose SHA-256 is `adoptedHash` (issued by a dead
   * instance for the same placed step, decision 0029) act under the grant of
   * `credential`, until that one is revoked. The hash comes from the run's
   * record, never the credential: the worker still holds it.
   */
  async adopt(credential: string, adoptedHash: string): Promise<void> {
    const hash = await sha256Hex(credential);
    const grant = this.#live.get(hash);
    if (!grant || !grant.remote || !adoptedHash || adoptedHash === hash) return;
    this.#live.set(adoptedHash, grant);
    (this.#aliases.get(hash) ?? this.#aliases.set(hash, []).get(hash)!).push(adoptedHash);
  }

  /** Ends a credential (and any it adopted): any later use is refused. */
  async revoke(credential: string): Promise<void> {
    const hash = await sha256Hex(credential);
    this.#live.delete(hash);
    for (const alias of this.#aliases.get(hash) ?? []) this.#live.delete(alias);
    this.#aliases.delete(hash);
  }

  async check(credential: string): Promise<Grant> {
    const grant = credential ? this.#live.get(await sha256Hex(credential)) : undefined;
    if (!grant) {
      throw new SwampError(
        ErrorCode.PERMISSION_DENIED,
        "the capability credential is not valid: its step has ended or it was never issued",
        { hint: "a credential works only while the step it was issued for runs" },
      );
    }
    return grant;
  }

  get size(): number {
    return this.#live.size;
  }
}

export interface CapabilityDeps {
  grants: CapabilityGrants;
  data: DataStore;
  /** Where step leases live: a grant with a lease is refused once it is not active. */
  leases?: Pick<LeaseStore, "getLease" | "markLeaseWritten">;
  secrets?: SecretSource;
  /** Evaluates QueryData's predicate (CEL over `item`). */
  evaluator?: ExpressionEvaluator;
  now?: () => Date;
}

function denied(message: string): SwampError {
  return new SwampError(ErrorCode.PERMISSION_DENIED, message);
}

function ownItem(grant: Grant, item: DataItem): void {
  if (item.runId !== grant.call.runId) {
    throw denied(
      `data item ${item.model}/${item.name} version ${item.version} was written by run ` +
        `${item.runId}; a method reaches only its own run's data (run ${grant.call.runId})`,
    );
  }
}

function itemMessage(item: DataItem) {
  return create(ReadResourceResponseSchema, {
    found: true,
    name: item.name,
    version: BigInt(item.version),
    spec: item.spec,
    hash: item.hash,
    attributes: fromJson(ValueSchema, item.attributes as JsonValue),
  });
}

/** The service's methods, as `ServedService.impl` expects them. */
export function capabilityService(deps: CapabilityDeps) {
  const { data } = deps;
  /**
   * The grant of `credential`, and the lease its call runs under. A local
   * step's lease is the grant's own; a placed step's is the one its worker
   * names, which must be an active lease of that step: a worker that lost the
   * step (its lease released, or another worker's taken since) acts for it no more.
   */
  const grants = {
    async check(
      credential: string,
      named = "",
    ): Promise<{ grant: Grant; call: ExtensionCall; leaseId?: string }> {
      const grant = await deps.grants.check(credential);
      const { call } = grant;
      if (grant.remote) {
        if (!named) {
          throw denied(
            `step ${call.stepId} runs on a worker: each of its calls must name its step lease`,
          );
        }
        const lease = await deps.leases?.getLease(named);
        if (
          lease?.state !== "active" || lease.runId !== call.runId ||
          lease.stepId !== call.stepId || lease.attempt < call.attempt
        ) {
          throw denied(
            `lease ${named} is not an active lease of step ${call.stepId}: ` +
              "a worker that no longer holds the step cannot act for it",
          );
        }
        return { grant, call, leaseId: named };
      }
      if (grant.leaseId && deps.leases) {
        const lease = await deps.leases.getLease(grant.leaseId);
        if (lease?.state !== "active") {
          throw denied(`step ${call.stepId}'s lease ${grant.leaseId} is no longer active`);
        }
      }
      return { grant, call, leaseId: grant.leaseId };
    },
  };
  return {
    async getContext(request: GetContextRequest) {
      const { call } = await grants.check(request.credential, request.leaseId);
      return create(GetContextResponseSchema, {
        definitionId: call.definition.id,
        definitionName: call.definition.name,
        definitionVersion: call.definition.version,
        modelType: call.definition.type,
        methodName: call.methodName,
        globalArgs: call.globalArgs as JsonObject,
        methodArgs: call.args as JsonObject,
        runId: call.runId,
        stepId: call.stepId,
        attempt: call.attempt,
        module: call.module,
        resourceSpecs: call.resourceSpecs,
      });
    },
    async writeResource(request: WriteResourceRequest) {
      const { grant, call, leaseId } = await grants.check(request.credential, request.leaseId);
      if (!call.resourceSpecs.includes(request.spec)) {
        throw denied(
          `resource spec \`${request.spec}\` is not declared by type ${call.definition.type} ` +
            `(declared: ${call.resourceSpecs.join(", ") || "none"})`,
        );
      }
      if (!request.name) {
        throw new SwampError(ErrorCode.INVALID_INPUT, "writeResource needs a data name");
      }
      const item = await data.putData({
        model: call.definition.name,
        modelType: call.definition.type,
        name: request.name,
        spec: request.spec,
        attributes: request.attributes ? toJson(ValueSchema, request.attributes) : null,
        tags: { ...request.tags },
        runId: call.runId,
        stepId: call.stepId,
        attempt: call.attempt,
        ...(leaseId ? { leaseId } : {}),
        now: deps.now?.() ?? new Date(),
      });
      grant.writes.push(item);
      // What the write-then-fail rule reads: this step attempt has written.
      if (leaseId) await deps.leases?.markLeaseWritten(leaseId);
      return create(WriteResourceResponseSchema, {
        model: item.model,
        name: item.name,
        version: BigInt(item.version),
        hash: item.hash,
      });
    },
    async readResource(request: ReadResourceRequest) {
      const { grant } = await grants.check(request.credential, request.leaseId);
      const version = Number(request.version);
      const item = await data.getData(
        grant.call.definition.name,
        request.name,
        version || undefined,
      );
      if (!item) return create(ReadResourceResponseSchema, { found: false, name: request.name });
      ownItem(grant, item);
      return itemMessage(item);
    },
    async queryData(request: CapabilityServiceQueryDataRequest) {
      const { grant } = await grants.check(request.credential, request.leaseId);
      const predicate = request.predicate.trim();
      let items: DataItem[] = [];
      if (predicate !== "" && predicate !== "true") {
        if (!deps.evaluator) {
          throw new SwampError(ErrorCode.UNAVAILABLE, "queryData cannot evaluate a predicate here");
        }
        items = (await queryData(data, deps.evaluator, predicate))
          .filter((i) => i.runId === grant.call.runId);
      } else {
        let cursor: string | undefined;
        do {
          const page = await data.listData({ runId: grant.call.runId, cursor, limit: 500 });
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
      }
      const full = await Promise.all(items.map((i) => data.getData(i.model, i.name, i.version)));
      return create(CapabilityServiceQueryDataResponseSchema, {
        items: full.filter((i): i is DataItem => i !== undefined).map(itemMessage),
      });
    },
    async getSecret(request: GetSecretRequest) {
      const { grant } = await grants.check(request.credential, request.leaseId);
      const pair = `${request.vault}/${request.key}`;
      if (!grant.call.secrets.includes(pair)) {
        throw denied(
          `secret ${pair} is not declared by step ${grant.call.stepId} ` +
            "(declare it under `vault:` on the model definition)",
        );
      }
      if (!deps.secrets) {
        throw new SwampError(ErrorCode.UNAVAILABLE, "no vault is reachable from this process");
      }
      const value = await deps.secrets.getSecret(request.vault, request.key);
      grant.call.onSecret?.(value);
      return create(GetSecretResponseSchema, { value });
    },
    async finish(request: FinishRequest) {
      const { grant } = await grants.check(request.credential, request.leaseId);
      grant.finished = true;
      if (request.error) grant.error = request.error;
      grant.result = request.result ? toJson(ValueSchema, request.result) : undefined;
      return create(FinishResponseSchema, {});
    },
    async getBundle(request: GetBundleRequest) {
      const { grant, call } = await grants.check(request.credential, request.leaseId);
      const bundle = grant.remote?.bundle;
      if (!bundle || bundle.fingerprint !== request.fingerprint) {
        throw denied(
          `step ${call.stepId} was given no extension bundle ${
            request.fingerprint || "(none named)"
          }`,
        );
      }
      return create(GetBundleResponseSchema, {
        fingerprint: bundle.fingerprint,
        files: bundle.files.map((f) => ({ path: f.path, content: f.content })),
      });
    },
  };
}
