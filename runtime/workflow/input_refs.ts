import type { Finding } from "../diagnostics/mod.ts";
import { didYouMean } from "../text/suggest.ts";
import type { ExpressionSite } from "./expression_sites.ts";

// What expressions read of the workflow's own inputs, checked against its
// `inputs` schema: a name it does not declare fails every run (a run refuses
// undeclared inputs, so `inputs.x` can never be there), and an optional input
// without a default fails any run that does not give it, unless the
// expression guards it with `has(inputs.x)`.

interface InputsSchema {
  properties?: Record<string, { default?: unknown } | null>;
  required?: unknown;
  additionalProperties?: unknown;
}

/** `inputs.name` or `inputs["name"]`, not a field of something else named inputs. */
const reference = /(?<![.\w])inputs\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(["'])([^"'\\]+)\2\s*\])/g;

export function inputReferenceFindings(workflow: unknown, sites: ExpressionSite[]): Finding[] {
  const schema = (workflow as { inputs?: InputsSchema } | null)?.inputs;
  const properties = schema?.properties;
  // Without declared properties any name may be given, as with additional ones allowed.
  if (!properties || typeof properties !== "object") return [];
  const closed = schema.additionalProperties !== true;
  const declared = Object.keys(properties);
  const required = Array.isArray(schema.required) ? schema.required : [];
  const findings: Finding[] = [];
  for (const site of sites) {
    const seen = new Set<string>();
    for (const match of site.expression.matchAll(reference)) {
      const name = match[1] ?? match[3];
      if (seen.has(name)) continue;
      seen.add(name);
      if (!declared.includes(name)) {
        if (!closed) continue;
        findings.push({
          rule: "unknown-input",
          message: `\`${site.expression}\` reads input \`${name}\`, which the workflow does not ` +
            `declare, so no run can give it`,
          hint: didYouMean(name, declared) ||
            (declared.length
              ? `its inputs: ${declared.join(", ")}`
              : "declare it under `inputs.properties`"),
          path: site.path,
        });
        continue;
      }
      const optional = !required.includes(name) && properties[name]?.default === undefined;
      if (optional && !guarded(site.expression, name)) {
        findings.push({
          rule: "optional-input",
          severity: "warning",
          message: `\`${site.expression}\` reads input \`${name}\`, which is optional and has no ` +
            `default: a run without it fails here`,
          hint: plain.test(name)
            ? `guard it with has(inputs.${name}), give it a default, or make it required`
            : "give it a default, or make it required",
          path: site.path,
        });
      }
    }
  }
  return findings;
}

/** A name `has(inputs.name)` can select: has() takes a field selection, not an index. */
const plain = /^[A-Za-z_]\w*$/;

function guarded(expression: string, name: string): boolean {
  if (!plain.test(name)) return false;
  return new RegExp(`\\bhas\\(\\s*inputs\\s*\\.\\s*${name}\\s*\\)`).test(expression);
}
