// Example --json documents shared by several commands' reference entries.

export const runJson =
  `{"run": {"id": "0f5c…", "workflowId": "…", "workflowName": "deploy", "status": "succeeded", "attempt": 1, "actor": "ada", "trigger": "manual", "createTime": "2026-11-21T09:00:00Z", "startTime": "…", "endTime": "…", "owner": {"host": "…", "bootId": "…", "pid": 4242, "processStart": "…", "heartbeatTime": "…"}, "inputsJson": "{}", "jobs": [{"name": "build", "status": "succeeded"}], "steps": [{"id": "build/compile", "name": "compile", "job": "build", "status": "succeeded", "exitCode": 0, "outputs": {"exitCode": 0, "stdout": "…", "durationMs": 812}, "process": {"pid": 4250, "pgid": 4250, "processStart": "…", "executor": "loopback"}, "allowFailure": false, "attempt": 1, "placement": {"target": "pool-0f5c…", "labels": {"region": "eu-west-3"}}}], "cancelTimeline": [], "revision": 12, "locks": []}}`;

/** What `workflow run`, `watch` and `resume` print under --json: NDJSON, the run last. */
export const followJsonLines = [
  `{"event": {"runId": "0f5c…", "seq": 1, "time": "…", "actor": "ada", "reason": "created", "runCreated": {"run": {…}}}}`,
  `{"event": {"runId": "0f5c…", "seq": 7, "time": "…", "actor": "ada", "stepStatusChanged": {"stepId": "build/compile", "from": "pending", "to": "running"}}}`,
  `{"line": {"seq": 3, "time": "…", "stepId": "build/compile", "stream": "stdout", "text": "compiling…"}}`,
  `{"run": {"id": "0f5c…", "status": "succeeded", …}}`,
].join("\n");
