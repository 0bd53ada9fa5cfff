export { type Clock, sleepOn, systemClock } from "./clock.ts";
export { type IdSource, randomIds } from "./ids.ts";
