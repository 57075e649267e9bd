import type { Benchmark } from './harness.ts';
import { commitIntakeBenchmark } from './commit-intake.ts';
import { consoleBenchmark } from './console.ts';
import { dataApiBenchmark } from './data-api.ts';
import { evaluationBenchmark } from './evaluation.ts';
import { functionsBenchmark } from './functions.ts';
import { ingestMessageBenchmark } from './ingest-message.ts';
import { localRuntimeBenchmark } from './local-runtime.ts';
import { sftpBenchmark } from './sftp.ts';
import { validationBenchmark } from './validation.ts';
import { validationRuntimeBenchmark } from './validation-runtime.ts';
import { reportsBenchmark } from './reports.ts';
import { sweepBenchmark } from './sweep.ts';

/** Every benchmark `npm run bench` knows, in the order they run. */
export const benchmarks: readonly Benchmark[] = [ingestMessageBenchmark, localRuntimeBenchmark, validationBenchmark, validationRuntimeBenchmark, sftpBenchmark, evaluationBenchmark, commitIntakeBenchmark, sweepBenchmark, reportsBenchmark, dataApiBenchmark, consoleBenchmark, functionsBenchmark];
