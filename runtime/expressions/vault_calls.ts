import { ErrorCode, SwampError } from "../errors/mod.ts";

// `vault.get("NAME", "KEY")` in an expression. The calls are found in the
// expression's text (outside string literals) before it reaches the sandbox,
// so the orchestrator knows every secret a step needs before evaluating it:
// each call is resolved through the SecretSource and replaced by a read of a
// variable holding the values (`__swamp_vault["NAME"]["KEY"]`), or, where no
// secret may be read (validate, evaluate), by the text "***". Both arguments
// must be string literals, so what a step reads is visible in the workflow file.

export interface VaultCall {
  vault: string;
  key: string;
}

/** The variable resolved secrets are bound to during evaluation. */
export const vaultVariable = "__swamp_vault";

const callStart = /vault\s*\.\s*get\s*\(/y;
const literalArgs =
  /\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')\s*,\s*(?:"([^"\\\n]*)"|'([^'\\\n]*)')\s*\)/y;

/** Every `vault.get` call of an expression, in order; a malformed call is `expression_invalid`. */
export function vaultCalls(expression: string): VaultCall[] {
  const calls: VaultCall[] = [];
  rewriteVaultCalls(expression, (call) => {
    calls.push(call);
    return "";
  });
  return calls;
}

/** The expression with each `vault.get(…)` call replaced by what `replace` returns for it. */
export function rewriteVaultCalls(
  expression: string,
  replace: (call: VaultCall) => string,
): string {
  if (!expression.includes("vault")) return expression;
  let out = "";
  let i = 0;
  while (i < expression.length) {
    const c = expression[i];
    if (c === '"' || c === "'") {
      const end = literalEnd(expression, i);
      out += expression.slice(i, end);
      i = end;
      continue;
    }
    callStart.lastIndex = i;
    const before = i > 0 ? expression[i - 1] : "";
    if (!/[A-Za-z0-9_.]/.test(before) && callStart.test(expression)) {
      literalArgs.lastIndex = callStart.lastIndex;
      const args = literalArgs.exec(expression);
      if (!args) {
        throw new SwampError(
          ErrorCode.EXPRESSION_INVALID,
          'vault.get takes two string literals: vault.get("VAULT", "KEY")',
          { hint: "name the vault and the key literally; they cannot be computed" },
        );
      }
      out += replace({ vault: args[1] ?? args[2], key: args[3] ?? args[4] });
      i = literalArgs.lastIndex;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Where the string literal starting at `start` ends (after its closing quote). */
function literalEnd(text: string, start: number): number {
  const quote = text[start];
  const triple = text.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  let i = start + close.length;
  while (i < text.length) {
    if (text[i] === "\\") {
      i += 2;
      continue;
    }
    if (text.startsWith(close, i)) return i + close.length;
    if (!triple && text[i] === "\n") return i;
    i++;
  }
  return text.length;
}

/** A CEL string literal of a text (for names, which have no quotes or backslashes). */
function celString(text: string): string {
  return JSON.stringify(text);
}

/** The read of one resolved secret from the bound variable. */
export function boundRead(call: VaultCall): string {
  return `${vaultVariable}[${celString(call.vault)}][${celString(call.key)}]`;
}

/** Where no secret may be read: the call stands for the text "***". */
export function maskedRead(): string {
  return `"***"`;
}
