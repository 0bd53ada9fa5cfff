// The `yaml` package resolves to its CommonJS build under Deno's "node"
// export condition, and loading CommonJS starts Deno's Node compatibility
// layer, which costs more start-up time than the whole rest of a CLI command.
// Its ES module build is the same code without that cost (docs/design/0002-fast-start.md).
// @ts-types="../../node_modules/yaml/dist/index.d.ts"
export {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  stringify,
} from "../../node_modules/yaml/browser/index.js";
// @ts-types="../../node_modules/yaml/dist/index.d.ts"
export type {
  Document,
  Node,
  Pair,
  YAMLMap,
  YAMLSeq,
} from "../../node_modules/yaml/browser/index.js";
