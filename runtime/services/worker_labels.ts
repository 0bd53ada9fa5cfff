// Worker labels: the `key=value` pairs placement selects workers by. Given
// on the command line as repeated `--label key=value`, carried in requests as
// a map; checked the same way wherever they come from.
import { ErrorCode, SwampError } from "../errors/mod.ts";

const keyPattern = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const maxValueLength = 256;
const maxLabels = 64;
// deno-lint-ignore no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f]/;

const keyRule = "a label key is a letter or digit, then letters, digits, `.`, `_`, `-` or `/`, " +
  "at most 63 characters";

function usage(message: string, hint: string): SwampError {
  return new SwampError(ErrorCode.USAGE, message, { hint });
}

/** Throws a usage error naming the first label whose key or value is not allowed. */
export function checkLabels(labels: Readonly<Record<string, string>>): void {
  const entries = Object.entries(labels);
  if (entries.length > maxLabels) {
    throw usage(`${entries.length} labels is too many`, `give at most ${maxLabels}`);
  }
  for (const [key, value] of entries) {
    if (!keyPattern.test(key)) throw usage(`\`${key}\` is not a valid label key`, keyRule);
    if (value.length > maxValueLength || controlCharacter.test(value)) {
      throw usage(
        `the value of label \`${key}\` is not allowed`,
        `a label value is at most ${maxValueLength} characters, with no control characters`,
      );
    }
  }
}

/**
 * `["gpu=true", "zone=eu-1"]` as `{gpu: "true", zone: "eu-1"}`: each word is
 * split at its first `=`. A word without one, an empty key, or a key given
 * twice is a usage error that names the word and the flag it came from.
 */
export function parseLabels(words: readonly string[], flag = "--label"): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const word of words) {
    const at = word.indexOf("=");
    if (at <= 0) {
      throw usage(
        `\`${flag} ${word}\` is not KEY=VALUE`,
        `write it as ${flag} KEY=VALUE, e.g. ${flag} gpu=true`,
      );
    }
    const key = word.slice(0, at);
    if (Object.hasOwn(labels, key)) {
      throw usage(`label \`${key}\` is given twice`, `give each key once`);
    }
    labels[key] = word.slice(at + 1);
  }
  checkLabels(labels);
  return labels;
}
