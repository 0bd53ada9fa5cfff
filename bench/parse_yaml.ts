// A process that only parses one YAML file and exits: the floor that
// `swamp workflow validate` of the same file is set against (issue 17).
// Usage: deno run --allow-read bench/parse_yaml.ts swamp|js-yaml FILE
// `swamp` is the CLI's own parser (the block reader, js-yaml events as the
// fallback); `js-yaml` is the library's plain `load`, for comparison.
import { load } from "js-yaml";
import { parseYaml } from "../runtime/text/yaml.ts";

const [parser, file] = Deno.args;
const text = Deno.readTextFileSync(file);
const data = parser === "js-yaml" ? load(text) : parseYaml(text).data;
// Printing a fact of the data keeps the parse from being optimised away and shows it worked.
console.log((data as { jobs: unknown[] }).jobs.length);
