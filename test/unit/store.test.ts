import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, ConflictError, NotFoundError } from '#shared/errors';
import { AlreadyExistsError, IllegalTransitionError, InvalidCursorError, StatusConflictError } from '#store/errors';
import { createStore, type Store, type UploadRecord } from '#store/store';
import { encodeCursor } from '#store/table';

const TABLE = 'symbiont-test';
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const ddb = mockClient(documentClient);

function conditionFailure(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

function anUpload(overrides: Partial<UploadRecord> = {}): UploadRecord {
  return {
    uploadId: '01JD0000000000000000000001',
    dataset: 'readings',
    bucket: 'landing',
    key: 'api/readings/slot-1/day 1.csv',
    versionId: 'v1',
    etag: '"abc"',
    size: 42,
    file: 'day 1.csv',
    source: 'api',
    slotId: 'slot-1',
    status: 'received',
    receivedAt: '2025-01-02T03:04:05.000Z',
    updatedAt: '2025-01-02T03:04:05.000Z',
    ...overrides,
  };
}

/** The stored item of an upload, as the table holds it. */
function itemOf(upload: UploadRecord) {
  return {
    ...upload,
    pk: `UPLOAD#${upload.uploadId}`,
    sk: 'UPLOAD',
    kind: 'upload',
    gsi1pk: 'UPLOADS',
    gsi1sk: upload.receivedAt,
    gsi2pk: `UPLOADS#${upload.dataset}`,
    gsi2sk: upload.receivedAt,
  };
}

function gsi1Key(upload: UploadRecord) {
  return { pk: `UPLOAD#${upload.uploadId}`, sk: 'UPLOAD', gsi1pk: 'UPLOADS', gsi1sk: upload.receivedAt };
}

let store: Store;

beforeEach(() => {
  ddb.reset();
  store = createStore({ client: documentClient, tableName: TABLE });
});

describe('createUpload', () => {
  it('writes the upload only if its key is new, with both listing keys', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const upload = anUpload({ slotId: undefined });

    // Act
    await store.createUpload(upload);

    // Assess
    const [put] = ddb.commandCalls(PutCommand);
    expect(put?.args[0].input).toMatchObject({
      TableName: TABLE,
      Item: { pk: `UPLOAD#${upload.uploadId}`, sk: 'UPLOAD', gsi1pk: 'UPLOADS', gsi1sk: upload.receivedAt, gsi2pk: 'UPLOADS#readings', status: 'received' },
      ConditionExpression: 'attribute_not_exists(#n0)',
      ExpressionAttributeNames: { '#n0': 'pk' },
    });
  });

  it('refuses an upload id that is already recorded', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailure());

    // Act
    const attempt = store.createUpload(anUpload());

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
  });

  it('links an upload made through a slot under the slot', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const upload = anUpload({ slotId: 'slot-7' });

    // Act
    await store.createUpload(upload);

    // Assess
    const items = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
    expect(items).toContainEqual(
      expect.objectContaining({ pk: 'SLOT#slot-7', sk: `UPLOAD#${upload.uploadId}`, targetPk: `UPLOAD#${upload.uploadId}`, targetSk: 'UPLOAD' }),
    );
  });

  it('refuses a record that does not match the upload schema before writing', async () => {
    // Prepare
    const upload = anUpload({ uploadId: 'not-a-ulid' });

    // Act
    const attempt = store.createUpload(upload);

    // Assess
    await expect(attempt).rejects.toThrow(/ULID/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('getUpload', () => {
  it('reads an upload back without its storage attributes', async () => {
    // Prepare
    const upload = anUpload();
    ddb.on(GetCommand, { TableName: TABLE, Key: { pk: `UPLOAD#${upload.uploadId}`, sk: 'UPLOAD' } }).resolves({ Item: itemOf(upload) });

    // Act
    const found = await store.getUpload(upload.uploadId);

    // Assess
    expect(found).toEqual(upload);
  });

  it('answers undefined for an upload that is not recorded', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});

    // Act
    const found = await store.getUpload('01JD0000000000000000000009');

    // Assess
    expect(found).toBeUndefined();
  });

  it('refuses an id that is not a ULID as bad input', async () => {
    // Act
    const attempt = store.getUpload('UPLOAD#x');

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(BadRequestError);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('listUploads', () => {
  it('lists every upload newest first from the uploads index', async () => {
    // Prepare
    const newer = anUpload({ uploadId: '01JD0000000000000000000002', receivedAt: '2025-01-02T03:04:06.000Z' });
    ddb.on(QueryCommand).resolves({ Items: [itemOf(newer)] });

    // Act
    const page = await store.listUploads();

    // Assess
    expect(page).toEqual({ items: [newer] });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: 'gsi1',
      KeyConditionExpression: '#n0 = :v0',
      ExpressionAttributeNames: { '#n0': 'gsi1pk' },
      ExpressionAttributeValues: { ':v0': 'UPLOADS' },
      ScanIndexForward: false,
    });
  });

  it("lists one dataset's uploads from the per-parent index", async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });

    // Act
    await store.listUploads({ dataset: 'sites' });

    // Assess
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      IndexName: 'gsi2',
      ExpressionAttributeNames: { '#n0': 'gsi2pk' },
      ExpressionAttributeValues: { ':v0': 'UPLOADS#sites' },
    });
  });

  it('narrows by status and sender with a filter on the query', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });

    // Act
    await store.listUploads({ status: 'rejected', sender: 'alice' });

    // Assess
    const input = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(input?.FilterExpression).toBe('#n1 = :v1 AND #n2 = :v2');
    expect(input?.ExpressionAttributeNames).toMatchObject({ '#n1': 'status', '#n2': 'sender' });
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':v1': 'rejected', ':v2': 'alice' });
  });

  it('hands out a cursor that resumes the listing after the last item', async () => {
    // Prepare
    const first = anUpload({ uploadId: '01JD0000000000000000000003' });
    const second = anUpload({ uploadId: '01JD0000000000000000000004' });
    ddb.on(QueryCommand).resolvesOnce({ Items: [itemOf(first)], LastEvaluatedKey: gsi1Key(first) }).resolvesOnce({ Items: [itemOf(second)] });

    // Act
    const page1 = await store.listUploads({ limit: 1 });
    const page2 = await store.listUploads({ limit: 1, cursor: page1.cursor });

    // Assess
    expect(page1.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input.ExclusiveStartKey).toEqual(gsi1Key(first));
    expect(page2).toEqual({ items: [second] });
  });

  it('keeps a filtered page to its limit and resumes after the last item it handed out', async () => {
    // Prepare
    const uploads = ['01JD0000000000000000000005', '01JD0000000000000000000006', '01JD0000000000000000000007'].map((uploadId) =>
      anUpload({ uploadId, status: 'rejected' }),
    );
    ddb.on(QueryCommand).resolves({ Items: uploads.map(itemOf) });

    // Act
    const page = await store.listUploads({ status: 'rejected', limit: 2 });

    // Assess
    expect(page.items.map((u) => u.uploadId)).toEqual([uploads[0]!.uploadId, uploads[1]!.uploadId]);
    expect(JSON.parse(Buffer.from(page.cursor!, 'base64url').toString())).toEqual(gsi1Key(uploads[1]!));
  });

  it('fills a filtered page from further reads of the partition', async () => {
    // Prepare
    const a = anUpload({ uploadId: '01JD0000000000000000000008' });
    const b = anUpload({ uploadId: '01JD000000000000000000000A' });
    ddb.on(QueryCommand).resolvesOnce({ Items: [itemOf(a)], LastEvaluatedKey: gsi1Key(a) }).resolvesOnce({ Items: [itemOf(b)] });

    // Act
    const page = await store.listUploads({ status: 'received', limit: 2 });

    // Assess
    expect(page).toEqual({ items: [a, b] });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it.each([
    ['garbage', 'not a cursor!'],
    ['a cursor of another partition', encodeCursor({ pk: 'UPLOAD#X', sk: 'UPLOAD', gsi1pk: 'UPLOADS#readings', gsi1sk: '2025' })],
    ['a cursor of another index', encodeCursor({ pk: 'UPLOAD#X', sk: 'UPLOAD', gsi2pk: 'UPLOADS', gsi2sk: '2025' })],
    ['a cursor with extra attributes', encodeCursor({ pk: 'UPLOAD#X', sk: 'UPLOAD', gsi1pk: 'UPLOADS', gsi1sk: '2025', status: 'x' })],
    ['a cursor with a non-string key', encodeCursor({ pk: 'UPLOAD#X', sk: 'UPLOAD', gsi1pk: 'UPLOADS', gsi1sk: 7 })],
    ['base64url of something that is not JSON', Buffer.from('{pk:').toString('base64url')],
    ['a JSON array', encodeCursor([1, 2] as unknown as Record<string, unknown>)],
  ])('refuses %s as a bad request without querying', async (_what, cursor) => {
    // Act
    const attempt = store.listUploads({ cursor });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(attempt).rejects.toBeInstanceOf(BadRequestError);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('refuses a cursor whose characters were tampered with', async () => {
    // Prepare
    const first = anUpload();
    ddb.on(QueryCommand).resolves({ Items: [itemOf(first)], LastEvaluatedKey: gsi1Key(first) });
    const { cursor } = await store.listUploads({ limit: 1 });
    const tampered = `${cursor!.slice(0, 5)}${cursor![5] === 'A' ? 'B' : 'A'}${cursor!.slice(6)}`;

    // Act
    const attempt = store.listUploads({ limit: 1, cursor: tampered });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('refuses an unknown status and an out-of-range limit as bad requests', async () => {
    // Act
    const badStatus = store.listUploads({ status: 'lost' as 'received' });
    const badLimit = store.listUploads({ limit: 5000 });

    // Assess
    await expect(badStatus).rejects.toThrow(/status/);
    await expect(badLimit).rejects.toBeInstanceOf(BadRequestError);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('listSlotUploads', () => {
  it('lists the uploads a slot links to', async () => {
    // Prepare
    const upload = anUpload({ slotId: 'slot-9' });
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'SLOT#slot-9', sk: `UPLOAD#${upload.uploadId}`, targetPk: `UPLOAD#${upload.uploadId}`, targetSk: 'UPLOAD' }] });
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [itemOf(upload)] } });

    // Act
    const page = await store.listSlotUploads('slot-9');

    // Assess
    expect(page).toEqual({ items: [upload] });
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.[TABLE]?.Keys).toEqual([{ pk: `UPLOAD#${upload.uploadId}`, sk: 'UPLOAD' }]);
  });
});

describe('setUploadStatus', () => {
  it('moves an upload only from the status the caller expects', async () => {
    // Prepare
    const upload = anUpload();
    ddb.on(UpdateCommand).resolves({ Attributes: itemOf({ ...upload, status: 'rejected', reason: 'unknown dataset' }) });

    // Act
    const moved = await store.setUploadStatus(upload.uploadId, { from: 'received', to: 'rejected', reason: 'unknown dataset', at: '2025-01-02T03:04:07.000Z' });

    // Assess
    expect(moved.status).toBe('rejected');
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_exists(#n3) AND #n0 IN (:v3)');
    expect(input?.ExpressionAttributeNames).toMatchObject({ '#n0': 'status', '#n3': 'pk' });
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':v0': 'rejected', ':v3': 'received' });
  });

  it('refuses a move when the stored status is not the expected one, naming the status found', async () => {
    // Prepare
    const upload = anUpload({ status: 'published' });
    ddb.on(UpdateCommand).rejects(conditionFailure());
    ddb.on(GetCommand).resolves({ Item: itemOf(upload) });

    // Act
    const attempt = store.setUploadStatus(upload.uploadId, { from: 'received', to: 'rejected' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(StatusConflictError);
    await expect(attempt).rejects.toThrow(/is published, not received/);
  });

  it('says an upload that is not recorded is not found', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailure());
    ddb.on(GetCommand).resolves({});

    // Act
    const attempt = store.setUploadStatus('01JD000000000000000000000B', { from: 'received', to: 'validating' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a move out of a final outcome without writing', async () => {
    // Act
    const attempt = store.setUploadStatus('01JD000000000000000000000C', { from: 'published', to: 'validating' });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IllegalTransitionError);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('claimMessage', () => {
  it('claims a message the first time it is delivered', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});

    // Act
    const claimed = await store.claimMessage('s3-abc', { uploadId: '01JD000000000000000000000D' });

    // Assess
    expect(claimed).toBe(true);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      Item: { pk: 'MSG#s3-abc', sk: 'MSG', uploadId: '01JD000000000000000000000D' },
      ConditionExpression: 'attribute_not_exists(#n0)',
    });
  });

  it('answers false for a message claimed before', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailure());

    // Act
    const claimed = await store.claimMessage('s3-abc');

    // Assess
    expect(claimed).toBe(false);
  });
});

describe('the store never scans', () => {
  it('offers no scan operation', () => {
    // Assess
    const names = [...Object.keys(store), ...Object.getOwnPropertyNames(Object.getPrototypeOf(store.table))];
    expect(names.filter((name) => /scan/i.test(name))).toEqual([]);
  });

  it('sends no Scan from any store operation', async () => {
    // Prepare
    const upload = anUpload();
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: itemOf(upload) });
    ddb.on(QueryCommand).resolves({ Items: [itemOf(upload)] });
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [itemOf(upload)] } });
    ddb.on(UpdateCommand).resolves({ Attributes: itemOf({ ...upload, status: 'validating' }) });

    // Act
    await store.createUpload(upload);
    await store.getUpload(upload.uploadId);
    await store.listUploads();
    await store.listUploads({ dataset: 'readings', status: 'received', sender: 'alice', limit: 5 });
    await store.listSlotUploads('slot-1');
    await store.setUploadStatus(upload.uploadId, { from: 'received', to: 'validating' });
    await store.claimMessage('s3-x');
    await store.getMessageClaim('s3-x').catch(() => undefined);

    // Assess
    expect(ddb.calls().length).toBeGreaterThanOrEqual(8);
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
  });
});
