// A large, valid workflow file for tests and benchmarks of validation speed.

/** `condition: {type: succeeded}` as block YAML, indented by `pad` spaces. */
const succeeded = (pad: number) =>
  `${" ".repeat(pad)}condition:\n${" ".repeat(pad + 2)}type: succeeded\n`;

/** A workflow of `jobs` chained jobs, each a chain of `steps` command/shell steps. */
export function workflowYaml(name: string, jobs: number, steps: number): string {
  const out = [`id: ${crypto.randomUUID()}\nname: ${name}\nversion: 1\njobs:\n`];
  for (let j = 0; j < jobs; j++) {
    out.push(`  - name: job-${j}\n`);
    if (j > 0) out.push(`    dependsOn:\n      - job: job-${j - 1}\n${succeeded(8)}`);
    out.push("    steps:\n");
    for (let s = 0; s < steps; s++) {
      const i = j * steps + s;
      out.push(`      - name: step-${s}\n`);
      if (s > 0) out.push(`        dependsOn:\n          - step: step-${s - 1}\n${succeeded(12)}`);
      out.push(
        "        task:\n          type: model_method\n          modelType: command/shell\n" +
          `          modelName: shell\n          methodName: execute\n          inputs:\n            run: echo ${i}\n`,
      );
    }
  }
  return out.join("");
}
