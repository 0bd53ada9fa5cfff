// What every executor needs to turn a step's byte streams into events: log
// lines from any bytes, the step's captured stdout, and one ordered queue of
// events from several concurrent sources.
export { boundedText, LineSplitter, OutputCapture } from "./lines.ts";
export { EventQueue } from "./event_queue.ts";
export { couldNotRun } from "./exits.ts";
export { type SpoolLine, SpoolLineSplitter } from "./spool_lines.ts";
