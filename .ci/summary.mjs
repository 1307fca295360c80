// Prints the closing line CI reads, "N passed, N failed", alone as the last line, from vitest's JSON
// report (argv[2]), vitest's exit status (argv[3]) and the typecheck's (argv[4], counted as one failure). Skips and broken files are listed on lines before it.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'out/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (e) {
  console.log(`summary: no vitest report at ${path} (${e.message}): the test run crashed or was killed`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const files = report.testResults ?? [];
// A file that failed without a failed test (import error, a failing beforeAll that skipped its
// tests, a worker that died) counts as one failure, so it can never pass unnoticed.
const broken = files.filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((t) => t.status === 'failed'));
for (const f of broken) {
  const why = (f.message ?? '').split('\n')[0].slice(0, 200);
  console.log(`summary: ${f.name}: failed outside any test${why ? `: ${why}` : ''}`);
}
const failedTests = files.flatMap((f) => (f.assertionResults ?? []).filter((t) => t.status === 'failed').map((t) => `${f.name}: ${t.fullName}`));
for (const t of failedTests.slice(0, 50)) console.log(`summary: FAILED ${t}`);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (skipped) console.log(`summary: ${skipped} skipped`);
// vitest fails a run on an unhandled error (an uncaught exception in a timer, a rejection nobody
// awaited) that no test or file records, and its JSON report still says success: counted here as one
// failure, so the closing line cannot read "0 failed" for a run vitest failed.
const vitestStatus = Number(process.argv[3] ?? 0);
const unrecorded = vitestStatus !== 0 && report.numFailedTests + broken.length === 0 ? 1 : 0;
if (unrecorded) console.log(`summary: vitest exited ${vitestStatus} with no failed test or file: an unhandled error (see "Unhandled Errors" above)`);
const typecheckStatus = Number(process.argv[4] ?? 0);
const typecheckFailed = typecheckStatus !== 0 ? 1 : 0;
if (typecheckFailed) console.log(`summary: the typecheck (npm run typecheck) exited ${typecheckStatus}: see its errors above`);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + broken.length + unrecorded + typecheckFailed} failed`);
