import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { env, env as env_, queues } from '#shared/resources';
import { logicalId, policyStatements, synthesize, unacknowledgedFindings, wildcardActions, type Synthesized } from './helpers.ts';

let synthesized: Synthesized;
let template: Template;
/** The staged build context of the report executor image. */
let context: string;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
  context = join(synthesized.app.synth().directory, `asset.${synthesized.stack.reports.renderer.image.assetHash}`);
});

/** The logical id of render-report, the report executor. */
const renderReport = () => {
  const role = logicalId(template, 'AWS::IAM::Role', 'ReportsRenderReportRole');
  const [id] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) => f.Properties.Role?.['Fn::GetAtt']?.[0] === role)!;
  return id;
};

type Json = Record<string, any>;

/** The policy statements of the role whose logical id contains `hint`. */
function statementsOf(hint: string): Json[] {
  const role = logicalId(template, 'AWS::IAM::Role', hint);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}

/** The `Fn::Join` of an object ARN, read back as `<bucket>/<suffix>`. */
function objectArns(statement: Json): string[] {
  return [statement.Resource]
    .flat()
    .map((r: Json) => (r['Fn::Join'] ? (r['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('') : JSON.stringify(r)));
}

describe('reports', () => {
  it('has no cdk-nag finding left unacknowledged', () => {
    // Act
    const findings = unacknowledgedFindings(synthesized.stack).filter((f) => f.includes('/Reports/'));

    // Assess
    expect(findings).toEqual([]);
  });

  it('puts the report queue behind a DLQ with the receive count of #shared/resources', () => {
    // Prepare
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'ReportsDeadLetterQueue');

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: queues.report.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: queues.report.maxReceiveCount },
    });
  });

  it('feeds render-report one report at a time with partial batch responses', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ReportsQueue'), 'Arn'] },
      FunctionName: { Ref: renderReport() },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('runs render-report as a container image function with the time and memory a notebook may take', () => {
    // Act
    const fn = template.findResources('AWS::Lambda::Function')[renderReport()]!.Properties;

    // Assess
    expect(fn).toMatchObject({
      PackageType: 'Image',
      Timeout: queues.report.consumerTimeoutSeconds,
      MemorySize: 3008,
      EphemeralStorage: { Size: 2048 },
      Architectures: ['x86_64'],
    });
    expect(fn.Runtime).toBeUndefined();
    expect(JSON.stringify(fn.Code.ImageUri)).toContain(synthesized.stack.reports.renderer.image.assetHash);
  });

  it('stages the report executor image at synth: a Jupyter kernel on the Lambda Node.js base image, the bundled handler beside the kernel runner', () => {
    // Act
    const dockerfile = readFileSync(join(context, 'Dockerfile'), 'utf8');
    const handler = readFileSync(join(context, 'handler.mjs'), 'utf8');

    // Assess
    expect(dockerfile).toMatch(/^FROM public\.ecr\.aws\/lambda\/nodejs:22$/m);
    for (const module of ['nbclient', 'ipykernel', 'pandas', 'matplotlib']) expect(dockerfile).toContain(`"${module}`);
    expect(dockerfile).toContain('CMD ["handler.handler"]');
    expect(handler).toContain('kernel-runner.py');
    expect(readFileSync(join(context, 'kernel-runner.py'), 'utf8')).toContain('NotebookClient');
    expect(JSON.parse(readFileSync(join(context, 'symbiont.config.json'), 'utf8')).pipelines.forecast.onRegression).toEqual({ template: 'diagnose' });
  });

  it('stages a handler bundle that loads with plain node and refuses a record that is not a report message', async () => {
    // Prepare: the image's environment, as the Dockerfile and the function set it (no AWS is reached).
    const env = { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'ERROR', SYMBIONT_CONFIG: join(context, 'symbiont.config.json'), [env_.tableName]: 'table', [env_.dataBucket]: 'bucket' };
    const event = { Records: [{ messageId: 'm1', receiptHandle: 'r', body: '{"reportId":"not-an-id"}', attributes: {}, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:report', awsRegion: 'eu-west-1' }] };
    // A batch whose every record failed is thrown whole (Powertools), naming each record's error.
    const script = `const { handler } = await import('./handler.mjs');
      try {
        await handler(${JSON.stringify(event)}, { functionName: 'render-report', awsRequestId: 'r1', getRemainingTimeInMillis: () => 1000 });
        process.stdout.write('{}');
      } catch (error) {
        process.stdout.write(JSON.stringify({ error: error.name, records: error.recordErrors.map((e) => e.name) }));
      }`;

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: context, env });

    // Assess
    expect(JSON.parse(stdout)).toEqual({ error: 'FullBatchFailureError', records: ['InvalidReportMessageError'] });
  }, 60_000);

  it('lets render-report list only the evaluation outputs it hands to a diagnostic', () => {
    // Act
    const lists = statementsOf('ReportsRenderReportRole').filter((s) => [s.Action].flat().includes('s3:ListBucket'));

    // Assess
    expect(lists).toHaveLength(1);
    expect(lists[0]!.Condition).toEqual({ StringLike: { 's3:prefix': ['evaluations/*'] } });
  });

  it('lets evaluation-tasks queue diagnostic reports', () => {
    // Prepare
    const queue = logicalId(template, 'AWS::SQS::Queue', 'ReportsQueue');
    const role = logicalId(template, 'AWS::IAM::Role', 'EvaluationTasksRole');

    // Act
    const sends = statementsOf('EvaluationTasksRole').filter((s) => [s.Action].flat().includes('sqs:SendMessage'));

    // Assess
    expect(sends.flatMap((s) => [s.Resource].flat())).toContainEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [role, 'Arn'] },
      Environment: { Variables: { [env.reportQueueUrl]: { Ref: queue } } },
    });
  });

  it('lets render-report write only under reports/ and read templates, dataset versions and evaluation outputs', () => {
    // Act
    const statements = statementsOf('ReportsRenderReportRole');
    const writes = statements.filter((s) => [s.Action].flat().includes('s3:PutObject'));
    const reads = statements.filter((s) => [s.Action].flat().includes('s3:GetObject'));

    // Assess
    expect(writes.flatMap(objectArns)).toEqual(['/reports/*']);
    expect(reads.flatMap(objectArns).sort()).toEqual(['/datasets/*', '/evaluations/*', '/templates/*']);
  });

  it('lets the API store template notebooks, presign reports and queue report messages', () => {
    // Prepare
    const queue = logicalId(template, 'AWS::SQS::Queue', 'ReportsQueue');

    // Act
    const statements = statementsOf('ApiHandlerRole');
    const sends = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    const puts = statements.filter((s) => s.Sid === 'StoreTemplates');

    // Assess
    expect(sends.flatMap((s) => [s.Resource].flat())).toContainEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    expect(puts.flatMap(objectArns)).toEqual(['/templates/*']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [env.reportQueueUrl]: { Ref: queue } } },
    });
  });

  it('grants no wildcard action', () => {
    // Assess
    expect(wildcardActions(policyStatements(template))).toEqual([]);
  });
});
