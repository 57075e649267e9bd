import { DescribeExecutionCommand, ExecutionAlreadyExists, ListExecutionsCommand, SFNClient, StartExecutionCommand, StateMachineDoesNotExist } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen, localUrl } from '#local/net';
import { createLocalStepFunctions, type LocalStepFunctions } from '#local/stepfunctions';
import { tempDataDir, waitFor } from './local-helpers.ts';

/** The local Step Functions face through the AWS SDK, as start-evaluation and people call it. */

const definition = {
  StartAt: 'Work',
  States: {
    Work: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:work', Parameters: { 'value.$': '$.value' }, End: true },
  },
};

describe('the local Step Functions face', () => {
  const dir = tempDataDir('stepfunctions');
  let face: LocalStepFunctions;
  let sfn: SFNClient;
  let machine: string;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    face = createLocalStepFunctions({ region: 'us-east-1', accountId: '000000000000', historyFile: `${dir.path}/executions.jsonl` });
    const gate = new Promise<void>((resolve) => (release = resolve));
    machine = face.register({
      name: 'face-test',
      definition,
      overrides: { Work: async (input) => ((input as { value: string }).value === 'slow' ? gate.then(() => ({ done: true })) : { done: (input as { value: string }).value }) },
    });
    const port = await listen(face.server, 0, 'stepfunctions');
    sfn = new SFNClient({ endpoint: localUrl(port), region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });

  afterAll(async () => {
    release();
    sfn?.destroy();
    await face?.stop();
    await close(face.server);
    dir.remove();
  });

  it('starts an execution and describes how it ended', async () => {
    // Act
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'quick', input: '{"value":"x"}' }));
    const described = await waitFor('the execution to end', async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    });

    // Assess
    expect(described).toMatchObject({ status: 'SUCCEEDED', name: 'quick', output: '{"done":"x"}', stateMachineArn: machine });
    expect(described.startDate).toBeInstanceOf(Date);
  });

  it('refuses a second execution of the same name with another input', async () => {
    // Prepare
    await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'once', input: '{"value":"a"}' }));

    // Act
    const again = sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'once', input: '{"value":"b"}' }));

    // Assess
    await expect(again).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('answers the running execution when started again with the same name and input', async () => {
    // Prepare
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'slow', input: '{"value":"slow"}' }));

    // Act
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'slow', input: '{"value":"slow"}' }));

    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    release();
  });

  it('lists the executions of a state machine, newest first', async () => {
    // Act
    const { executions } = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine }));

    // Assess
    expect(executions!.map((e) => e.name)).toEqual(expect.arrayContaining(['quick', 'once']));
    expect(executions![0]!.startDate!.getTime()).toBeGreaterThanOrEqual(executions![executions!.length - 1]!.startDate!.getTime());
  });

  it('refuses a state machine it does not run', async () => {
    // Act
    const starting = sfn.send(new StartExecutionCommand({ stateMachineArn: `${machine}-nope`, name: 'x', input: '{}' }));

    // Assess
    await expect(starting).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('still describes a finished execution after a restart', async () => {
    // Prepare
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'kept', input: '{"value":"k"}' }));
    await face.wait(executionArn!);

    // Act
    const restarted = createLocalStepFunctions({ region: 'us-east-1', accountId: '000000000000', historyFile: `${dir.path}/executions.jsonl` });

    // Assess
    expect(restarted.describe(executionArn!)).toMatchObject({ status: 'SUCCEEDED', name: 'kept' });
  });
});
