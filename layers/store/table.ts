import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { table as layout } from '#shared/resources';
import { InvalidCursorError, InvalidLimitError } from './errors.ts';
import type { Key } from './keys.ts';

/**
 * The one table, seen through the few operations Symbiont needs: get, conditional put and update,
 * and paginated queries on the table or a listing index. There is deliberately no scan: every
 * listing is a query on a partition (DESIGN.md "Storage"). There are no transactions either, since
 * the local emulator has none; conditional writes carry the invariants instead.
 */

/** A stored item: its key attributes and whatever the owning module put beside them. */
export type Item = Record<string, unknown>;

/** The listing indexes of {@link layout}. */
export type IndexName = 'gsi1' | 'gsi2';

type Scalar = string | number | boolean;

/**
 * Conditions on stored attributes, all of which must hold: `{ status: 'received' }` (equals) or
 * `{ status: { in: ['received', 'failed'] } }` (one of).
 */
export type Condition = Readonly<Record<string, Scalar | { readonly in: readonly Scalar[] }>>;

/**
 * What a conditional write returns when its condition does not hold: a value to branch on, so
 * callers never catch SDK exceptions.
 */
export class ConditionFailed {
  constructor(readonly key: Key) {}
}

export interface PutOptions {
  /** Write only when no item has this key yet. */
  readonly ifNotExists?: boolean;
  /** Write only when the stored item matches (implies that it exists). */
  readonly where?: Condition;
}

export interface UpdateOptions {
  /** Attributes to set; `undefined` values are left alone. */
  readonly set?: Item;
  /** Attributes to remove. */
  readonly remove?: readonly string[];
  /** Numbers to add to counters (a missing counter counts from 0): atomic, unlike a read then a set. */
  readonly add?: Readonly<Record<string, number>>;
  /** Update only when the stored item matches. The item must exist in any case. */
  readonly where?: Condition;
}

export interface QueryOptions {
  /** Query a listing index instead of the table. */
  readonly index?: IndexName;
  /** The partition key value (of the index when one is given). */
  readonly partition: string;
  /** Only sort keys starting with this. */
  readonly beginsWith?: string;
  /** Items per page, 1 to {@link MAX_PAGE}. @default {@link DEFAULT_PAGE} */
  readonly limit?: number;
  /** The cursor of the previous page. */
  readonly cursor?: string;
  /** Sort-key order. @default 'asc' */
  readonly order?: 'asc' | 'desc';
  /** Keep only items matching this (applied by DynamoDB after reading the partition). */
  readonly filter?: Condition;
}

/** One page of a listing; `cursor` is absent on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;
/** Query calls one filtered page may take before it returns what it has (with a cursor). */
const MAX_ROUNDS = 10;
const MAX_CURSOR_LENGTH = 4096;
const BATCH_GET_SIZE = 100;
const BATCH_GET_ATTEMPTS = 8;

const keyAttributes: Record<IndexName | 'table', { partition: string; sort: string; all: readonly string[] }> = {
  table: { partition: layout.partitionKey, sort: layout.sortKey, all: [layout.partitionKey, layout.sortKey] },
  gsi1: {
    partition: layout.gsi1.partitionKey,
    sort: layout.gsi1.sortKey,
    all: [layout.partitionKey, layout.sortKey, layout.gsi1.partitionKey, layout.gsi1.sortKey],
  },
  gsi2: {
    partition: layout.gsi2.partitionKey,
    sort: layout.gsi2.sortKey,
    all: [layout.partitionKey, layout.sortKey, layout.gsi2.partitionKey, layout.gsi2.sortKey],
  },
};

/** Builds expression attribute names and values with generated placeholders. */
class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private count = 0;

  name(attribute: string): string {
    for (const [existing, value] of Object.entries(this.names)) if (value === attribute) return existing;
    const placeholder = `#n${Object.keys(this.names).length}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  condition(condition: Condition): string[] {
    return Object.entries(condition).map(([attribute, expected]) => {
      const name = this.name(attribute);
      if (typeof expected === 'object') {
        if (expected.in.length === 0) throw new Error(`condition on ${attribute}: "in" needs at least one value`);
        return `${name} IN (${expected.in.map((v) => this.value(v)).join(', ')})`;
      }
      return `${name} = ${this.value(expected)}`;
    });
  }

  get attributeNames(): Record<string, string> | undefined {
    return Object.keys(this.names).length > 0 ? this.names : undefined;
  }

  get attributeValues(): Record<string, unknown> | undefined {
    return Object.keys(this.values).length > 0 ? this.values : undefined;
  }
}

/** The one table. Every store module reads and writes through it. */
export class Table {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /** The item with this key, or `undefined`. Strongly consistent: a status just written is read back. */
  async get(key: Key): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.name, Key: keyOnly(key), ConsistentRead: true }));
    return Item;
  }

  /** The items with these keys, in the order of `keys`, missing ones left out. */
  async getMany(keys: readonly Key[]): Promise<Item[]> {
    const found = new Map<string, Item>();
    for (let start = 0; start < keys.length; start += BATCH_GET_SIZE) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(start, start + BATCH_GET_SIZE).map(keyOnly);
      for (let attempt = 1; pending && pending.length > 0; attempt++) {
        if (attempt > BATCH_GET_ATTEMPTS) throw new Error(`BatchGet on ${this.name} left ${pending.length} keys unprocessed after ${BATCH_GET_ATTEMPTS} attempts`);
        if (attempt > 1) await sleep(25 * 2 ** attempt);
        const output: BatchGetCommandOutput = await this.client.send(new BatchGetCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of output.Responses?.[this.name] ?? []) found.set(keyString(item), item);
        pending = output.UnprocessedKeys?.[this.name]?.Keys;
      }
    }
    return keys.map((key) => found.get(keyString(key))).filter((item): item is Item => item !== undefined);
  }

  /**
   * Writes an item whole. With `ifNotExists` or `where`, returns {@link ConditionFailed} when the
   * stored item says otherwise and writes nothing.
   */
  async put(item: Item & Key, options: PutOptions = {}): Promise<'written' | ConditionFailed> {
    const expression = new Expression();
    const conditions: string[] = [];
    if (options.ifNotExists) conditions.push(`attribute_not_exists(${expression.name(layout.partitionKey)})`);
    if (options.where) {
      conditions.push(`attribute_exists(${expression.name(layout.partitionKey)})`, ...expression.condition(options.where));
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.name,
          Item: item,
          ConditionExpression: conditions.length > 0 ? conditions.join(' AND ') : undefined,
          ExpressionAttributeNames: expression.attributeNames,
          ExpressionAttributeValues: expression.attributeValues,
        }),
      );
      return 'written';
    } catch (error) {
      if (isConditionFailure(error)) return new ConditionFailed(keyOnly(item));
      throw error;
    }
  }

  /**
   * Sets and removes attributes of an existing item and returns the item as it now is, or
   * {@link ConditionFailed} when the item is missing or does not match `where`.
   */
  async update(key: Key, options: UpdateOptions): Promise<Item | ConditionFailed> {
    const expression = new Expression();
    const sets = Object.entries(options.set ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([attribute, value]) => `${expression.name(attribute)} = ${expression.value(value)}`);
    const removes = (options.remove ?? []).map((attribute) => expression.name(attribute));
    const adds = Object.entries(options.add ?? {}).map(([attribute, value]) => `${expression.name(attribute)} ${expression.value(value)}`);
    if (sets.length + removes.length + adds.length === 0) throw new Error('update needs at least one attribute to set, remove or add');
    const clauses = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
      adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
    ];
    // Without attribute_exists an UpdateItem on a missing key would create a half item.
    const conditions = [`attribute_exists(${expression.name(layout.partitionKey)})`, ...expression.condition(options.where ?? {})];
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keyOnly(key),
          UpdateExpression: clauses.filter(Boolean).join(' '),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: expression.attributeNames,
          ExpressionAttributeValues: expression.attributeValues,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return new ConditionFailed(keyOnly(key));
      throw error;
    }
  }

  /**
   * One page of a partition, in sort-key order. A page holds at most `limit` items; with a
   * `filter` it is filled from further reads of the partition (a bounded number of them) and may
   * come back short with a cursor when the partition is sparse. The cursor is opaque to callers
   * and checked on the way back in: one from another listing is an {@link InvalidCursorError}.
   */
  async query(options: QueryOptions): Promise<Page<Item>> {
    const limit = options.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new InvalidLimitError(`limit must be a whole number from 1 to ${MAX_PAGE}, not ${limit}`, { limit });
    }
    const attributes = keyAttributes[options.index ?? 'table'];
    let startKey = options.cursor === undefined ? undefined : decodeCursor(options.cursor, options);

    const expression = new Expression();
    const keyConditions = [`${expression.name(attributes.partition)} = ${expression.value(options.partition)}`];
    if (options.beginsWith !== undefined) {
      keyConditions.push(`begins_with(${expression.name(attributes.sort)}, ${expression.value(options.beginsWith)})`);
    }
    const filter = options.filter && Object.keys(options.filter).length > 0 ? expression.condition(options.filter).join(' AND ') : undefined;
    const input: QueryCommandInput = {
      TableName: this.name,
      IndexName: options.index === undefined ? undefined : layout[options.index].name,
      KeyConditionExpression: keyConditions.join(' AND '),
      FilterExpression: filter,
      ExpressionAttributeNames: expression.attributeNames,
      ExpressionAttributeValues: expression.attributeValues,
      ScanIndexForward: options.order !== 'desc',
      Limit: limit,
    };

    const items: Item[] = [];
    for (let round = 1; ; round++) {
      const output = await this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
      if (items.length >= limit) {
        const page = items.slice(0, limit);
        // The next page starts after the last item handed out, even when a filtered read overshot.
        const more = items.length > limit || startKey !== undefined;
        return { items: page, cursor: more ? encodeCursor(pick(page[page.length - 1]!, attributes.all)) : undefined };
      }
      if (startKey === undefined) return { items };
      if (round >= MAX_ROUNDS) return { items, cursor: encodeCursor(startKey) };
    }
  }
}

/** The key attributes of an item, without the rest. */
function keyOnly(item: Key | Record<string, unknown>): Key & Record<string, string> {
  return { pk: String(item[layout.partitionKey as keyof typeof item]), sk: String(item[layout.sortKey as keyof typeof item]) };
}

function keyString(item: Key | Record<string, unknown>): string {
  const key = keyOnly(item);
  return JSON.stringify([key.pk, key.sk]);
}

function pick(item: Item, attributes: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(attributes.map((attribute) => [attribute, item[attribute]]));
}

/** A listing cursor: the key to continue after, as base64url JSON. */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The start key a cursor stands for, once it has been checked to be a key of the listing being
 * asked for: exactly that index's key attributes, all strings, in the same partition and under the
 * same sort-key prefix. Anything else was not handed out by this listing.
 */
export function decodeCursor(cursor: string, listing: Pick<QueryOptions, 'index' | 'partition' | 'beginsWith'>): Record<string, string> {
  const refuse = (why: string): never => {
    throw new InvalidCursorError(`cursor is not valid for this listing (${why}); start again without a cursor`, { why });
  };
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) refuse('not a cursor');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return refuse('not a cursor');
  }
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return refuse('not a cursor');
  const attributes = keyAttributes[listing.index ?? 'table'];
  const record = key as Record<string, unknown>;
  const names = Object.keys(record).sort();
  if (names.join(',') !== [...attributes.all].sort().join(',')) refuse('made for another listing');
  for (const name of names) if (typeof record[name] !== 'string' || record[name] === '') refuse('made for another listing');
  const strings = record as Record<string, string>;
  if (strings[attributes.partition] !== listing.partition) refuse('made for another listing');
  if (listing.beginsWith !== undefined && !strings[attributes.sort]!.startsWith(listing.beginsWith)) refuse('made for another listing');
  return strings;
}

/** By name, not class: a second copy of the SDK in a bundle would defeat `instanceof`. */
function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
