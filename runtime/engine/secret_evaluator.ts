import { asSwampError, ErrorCode, SwampError } from "../errors/mod.ts";
import {
  boundRead,
  maskedRead,
  rewriteVaultCalls,
  type VaultCall,
  vaultVariable,
} from "../expressions/vault_calls.ts";
import type { ExpressionEvaluator, ExpressionResult } from "../ports/expressions.ts";
import type { SecretSource } from "../ports/vault.ts";
import type { SecretMask } from "../text/secret_mask.ts";

/**
 * The run's evaluator: every `vault.get("V", "K")` of a batch is resolved
 * here, on the orchestrator, through the SecretSource before the batch is
 * evaluated, each value added to the run's mask first (so nothing written
 * after can carry it in plain text), and bound for the sandbox to read. A
 * secret that cannot be resolved fails the expression's step with the
 * vault's error code (`vault_not_found`, `secret_not_found`,
 * `vault_unreadable`, `vault_key_insecure`).
 */
export function secretEvaluator(
  inner: ExpressionEvaluator,
  secrets: SecretSource | undefined,
  mask: SecretMask,
): ExpressionEvaluator {
  return {
    check: (expressions, known) =>
      inner.check(expressions.map((e) => rewriteVaultCalls(e, maskedRead)), known),
    async evaluate(expressions, variables): Promise<ExpressionResult[]> {
      const calls: VaultCall[] = [];
      const rewritten = expressions.map((e) =>
        rewriteVaultCalls(e, (call) => {
          calls.push(call);
          return boundRead(call);
        })
      );
      if (calls.length === 0) return await inner.evaluate(expressions, variables);
      const bound: Record<string, Record<string, string>> = {};
      for (const call of calls) {
        const byKey = bound[call.vault] ??= {};
        if (Object.hasOwn(byKey, call.key)) continue;
        const value = await resolve(secrets, call);
        mask.add(value);
        byKey[call.key] = value;
      }
      return await inner.evaluate(rewritten, { ...variables, [vaultVariable]: bound });
    },
    close: () => inner.close(),
  };
}

async function resolve(secrets: SecretSource | undefined, call: VaultCall): Promise<string> {
  const where = `vault.get("${call.vault}", "${call.key}")`;
  if (!secrets) {
    throw new SwampError(ErrorCode.VAULT_NOT_FOUND, `${where}: no vault can be read here`, {
      hint: "run the workflow where the repository's vaults are (the orchestrator)",
    });
  }
  try {
    return await secrets.getSecret(call.vault, call.key);
  } catch (error) {
    const failure = asSwampError(error);
    throw new SwampError(failure.code, `${failure.codeName}: ${where}: ${failure.message}`, {
      hint: failure.hint,
    });
  }
}
