// `swamp serve` spoken to by stock tools that share none of swamp's code: a
// grpc-js client and curl with Connect JSON, over TLS with a certificate from a
// test CA made here. (gRPC-web and Connect's transports: api_interop_web_test.ts.)
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ErrorCode, ErrorDetailSchema } from "../../proto/gen/swamp/v1/errors_pb.ts";
import { type RunEvent, RunEventSchema } from "../../proto/gen/swamp/v1/event_pb.ts";
import { RunStatus, StepStatus } from "../../proto/gen/swamp/v1/run_pb.ts";
import { RunService } from "../../proto/gen/swamp/v1/run_service_pb.ts";
import { grpcJsClient, grpcTlsCredentials } from "../helpers/grpc_js.ts";
import {
  assert,
  assertEquals,
  eventually,
  serveWithTestCa,
  shellStep,
  statusJson,
  within,
  workflowFile,
} from "../helpers/mod.ts";

const after = (step: string) =>
  `        dependsOn: [{step: ${step}, condition: {type: succeeded}}]\n`;
// `hold` waits (at most 30 s) for the test to create `release` in the repository, so the test
// decides when the run may end; it fails if it is never released.
const files = {
  "workflows/workflow-held.yaml": workflowFile(
    "held",
    shellStep(
      "hold",
      "for i in $(seq 300); do [ -f release ] && break; sleep 0.1; done; cat release",
    ) + shellStep("finish", "echo finished", after("hold")),
  ),
  "workflows/workflow-quick.yaml": workflowFile("quick", shellStep("greet", "echo hello")),
};

/** A repository, an operator token, a test CA and a `swamp serve` with a certificate it signed. */
async function serving() {
  const served = await serveWithTestCa("file", files, "interop", "operator");
  return {
    ...served,
    auth: { authorization: `Bearer ${served.token}` },
    address: served.server.url.replace(/^https:\/\//, ""),
  };
}

/** The seqs are after+1, after+2, … with nothing missing or doubled. */
function assertContiguous(events: RunEvent[], afterSeq: bigint) {
  assertEquals(
    events.map((e) => e.seq),
    events.map((_, i) => afterSeq + BigInt(i) + 1n),
  );
}

/** Reads a WatchRunEvents stream to its end (within 60 s), into `events`. */
async function collect(
  stream: AsyncIterable<{ event?: RunEvent }>,
  events: RunEvent[] = [],
): Promise<RunEvent[]> {
  await within(
    60_000,
    "a WatchRunEvents stream",
    (async () => {
      for await (const message of stream) events.push(message.event!);
    })(),
  );
  return events;
}

const bytesOf = (events: RunEvent[]) => events.map((e) => toBinary(RunEventSchema, e).join(","));

Deno.test("api interop: a stock grpc-js client over TLS submits, follows to the end, resumes a stream, reads, lists", async () => {
  await using env = await serving();
  const runs = grpcJsClient(RunService, env.address, grpcTlsCredentials(env.ca.certPem));
  try {
    const submitted = await within(
      30_000,
      "SubmitRun",
      runs.submitRun({ workflow: "held" }, env.auth),
    );
    const run = submitted.run!;
    assertEquals([run.workflowName, run.actor], ["held", "interop"]);
    const runId = run.id;

    // Follow from the start while the run is held, so the stream is open across its end.
    const events: RunEvent[] = [];
    const followed = collect(runs.watchRunEvents({ runId, follow: true }, env.auth), events);
    await eventually("the stream to show `hold` running", () =>
      Promise.resolve(
        events.some((e) =>
            e.payload.case === "stepStatusChanged" && e.payload.value.stepId === "main/hold" &&
            e.payload.value.to === StepStatus.RUNNING
          )
          ? true
          : undefined,
      ));
    await Deno.writeTextFile(`${env.repo.root}/release`, "released\n");
    await followed;
    assertContiguous(events, 0n);
    const last = events.at(-1)!;
    assertEquals(last.payload.case, "runStatusChanged");
    assertEquals(
      last.payload.case === "runStatusChanged" && last.payload.value.to,
      RunStatus.SUCCEEDED,
    );

    // Resumed after a middle seq, the stream gives exactly the later events, with or without follow.
    const middle = events[Math.floor(events.length / 2)].seq;
    for (const follow of [true, false]) {
      const resumed = await collect(
        runs.watchRunEvents({ runId, afterSeq: middle, follow }, env.auth),
      );
      assertContiguous(resumed, middle);
      assertEquals(bytesOf(resumed), bytesOf(events.filter((e) => e.seq > middle)));
    }

    const got = await within(30_000, "GetRun", runs.getRun({ runId: runId.slice(0, 8) }, env.auth));
    assertEquals(got.run?.id, runId);
    assertEquals(got.run?.status, RunStatus.SUCCEEDED);
    assertEquals(got.run?.steps.map((s) => [s.id, s.status]), [
      ["main/hold", StepStatus.SUCCEEDED],
      ["main/finish", StepStatus.SUCCEEDED],
    ]);
    assertEquals(got.run?.steps[0].outputs?.stdout, "released\n");
    const listed = await within(30_000, "ListRuns", runs.listRuns({ workflow: "held" }, env.auth));
    assertEquals(listed.runs.map((r) => [r.id, r.status]), [[runId, RunStatus.SUCCEEDED]]);

    // A failure is a plain gRPC status from the code table, with swamp's ErrorDetail attached.
    const failure = await within(30_000, "GetRun", runs.getRun({ runId: "ffffffff" }, env.auth))
      .then(
        () => undefined,
        (error) =>
          error as { code: number; details: string; metadata: { get(k: string): unknown[] } },
      );
    assert(failure, "an unknown run id was answered");
    assertEquals(failure.code, 5, failure.details); // not_found
    const [statusBin] = failure.metadata.get("grpc-status-details-bin") as Uint8Array[];
    const detail = errorDetailOfStatus(statusBin);
    assertEquals(detail.code, ErrorCode.NOT_FOUND);
    assertEquals(detail.message, failure.details);
  } finally {
    runs.close();
  }
});

/** The swamp ErrorDetail in a google.rpc.Status (code 1, message 2, details 3: Any{type_url 1, value 2}). */
function errorDetailOfStatus(bytes: Uint8Array) {
  const found: Uint8Array[] = [];
  const status = new BinaryReader(bytes);
  while (status.pos < status.len) {
    const [field, wireType] = status.tag();
    if (field !== 3) {
      status.skip(wireType);
      continue;
    }
    const any = new BinaryReader(status.bytes());
    let type = "";
    let value: Uint8Array = new Uint8Array();
    while (any.pos < any.len) {
      const [f, w] = any.tag();
      if (f === 1) type = any.string();
      else if (f === 2) value = any.bytes();
      else any.skip(w);
    }
    if (type.endsWith("/swamp.v1.ErrorDetail")) found.push(value);
  }
  assertEquals(found.length, 1, "one swamp.v1.ErrorDetail in grpc-status-details-bin");
  return fromBinary(ErrorDetailSchema, found[0]);
}

/** curl with Connect JSON over HTTP/2 and TLS; the body and what curl saw. */
async function curl(env: { ca: { certFile: string }; token: string }, url: string, body: string) {
  const output = await new Deno.Command("curl", {
    args: [
      "-sS",
      "--http2",
      "--max-time",
      "30",
      "--cacert",
      env.ca.certFile,
      "-H",
      "Content-Type: application/json",
      "-H",
      `Authorization: Bearer ${env.token}`,
      "-d",
      body,
      "-w",
      "\n%{http_code} %{http_version}",
      url,
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  const at = text.lastIndexOf("\n");
  const [status, httpVersion] = text.slice(at + 1).split(" ");
  return { status: Number(status), httpVersion, json: JSON.parse(text.slice(0, at)) };
}

Deno.test("api interop: curl speaks Connect JSON over HTTP/2 and TLS, and gets errors with the ErrorDetail", async () => {
  await using env = await serving();
  const base = `${env.server.url}/swamp.v1.RunService`;
  const submitted = await curl(env, `${base}/SubmitRun`, '{"workflow": "quick"}');
  assertEquals([submitted.status, submitted.httpVersion], [200, "2"]);
  const runId = submitted.json.run.id as string;
  assertEquals(submitted.json.run.status, "RUN_STATUS_PENDING");
  const done = await eventually("the run to succeed", async () => {
    const got = await curl(env, `${base}/GetRun`, JSON.stringify({ runId }));
    return got.json.run?.status === "RUN_STATUS_SUCCEEDED" ? got : undefined;
  });
  assertEquals([done.status, done.httpVersion], [200, "2"]);
  assertEquals(done.json.run.id, runId);
  assertEquals(done.json.run.actorKind, "ACTOR_KIND_TOKEN");
  assertEquals(done.json.run.steps[0].outputs.stdout, "hello\n");

  const missing = await curl(env, `${base}/GetRun`, '{"runId": "ffffffff"}');
  assertEquals(missing.status, 404);
  assertEquals(missing.json.code, "not_found");
  assertEquals(missing.json.message, "no run with id ffffffff");
  assertEquals(missing.json.details.length, 1);
  const [detail] = missing.json.details;
  assertEquals(detail.type, "swamp.v1.ErrorDetail");
  // `value` is the binary ErrorDetail in base64; `debug` is the same message in the JSON mapping.
  const decoded = fromBinary(
    ErrorDetailSchema,
    Uint8Array.from(
      atob(detail.value.padEnd(Math.ceil(detail.value.length / 4) * 4, "=")),
      (c) => c.charCodeAt(0),
    ),
  );
  assertEquals([decoded.code, decoded.message], [ErrorCode.NOT_FOUND, "no run with id ffffffff"]);
  assertEquals(decoded.hint, "list runs with `swamp workflow list`");
  assertEquals(detail.debug.code, "ERROR_CODE_NOT_FOUND");
  assertEquals(detail.debug.hint, decoded.hint);

  // The local CLI on the same repository sees the run the server ran.
  assertEquals((await statusJson(env.repo, runId)).status, "succeeded");
});
