export { type Clock, systemClock } from "./clock.ts";
export { type IdSource, randomIds } from "./ids.ts";
