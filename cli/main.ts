// Entry point of the swamp CLI (the launcher's bundle starts here): the
// command line is run by dispatch.ts, which loads only what the command needs.
import { dispatch } from "./dispatch.ts";

Deno.exit(await dispatch(Deno.args));
