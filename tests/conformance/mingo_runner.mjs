// Runs aggregation pipelines on mingo, the second engine of the conformance suite.
//
// One request per stdin line, one answer per stdout line, both MongoDB Extended JSON
// (canonical): a request is {"cases": [{"documents": [...], "pipeline": [...]}, ...]},
// the answer {"results": [{"ok": [...]} or {"error": "..."}, ...]} in the same order.
// {"operators": true} answers {"operators": {"expression": [...], ...}}: the names
// mingo implements. The process stays up until stdin closes, so one test run
// starts Node once.
import { createInterface } from "node:readline";

import { EJSON } from "bson";
import { Aggregator } from "mingo";
import * as accumulator from "mingo/operators/accumulator";
import * as expression from "mingo/operators/expression";
import * as pipeline from "mingo/operators/pipeline";
import * as query from "mingo/operators/query";
import * as window from "mingo/operators/window";

const OPERATORS = Object.fromEntries(
  Object.entries({ accumulator, expression, pipeline, query, window }).map(
    ([kind, module]) => [kind, Object.keys(module).filter((name) => name.startsWith("$"))],
  ),
);

function runCase({ documents, pipeline }) {
  try {
    return { ok: new Aggregator(pipeline).run(documents) };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
}

function answer(line) {
  try {
    const request = EJSON.parse(line, { relaxed: true });
    if (request.operators) return { operators: OPERATORS };
    return { results: request.cases.map(runCase) };
  } catch (error) {
    return { fatal: `bad request: ${error.message}` };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  process.stdout.write(EJSON.stringify(answer(line), { relaxed: false }) + "\n");
}
