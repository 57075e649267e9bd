import type { Key } from './keys.ts';
import { type Item, type Page, type QueryOptions, Table } from './table.ts';

/**
 * Link items: a small item under another parent's partition that points at the real item, so a
 * thing found from several parents (an evaluation by commit and by request, an upload by slot) is
 * listed by a query on each parent without copying it. Writing a link is idempotent, so it can be
 * retried with the write it accompanies.
 */

/** Attribute names of a link item. */
const TARGET_PK = 'targetPk';
const TARGET_SK = 'targetSk';

/** Writes (or keeps) the link at `at` pointing at `target`, with optional attributes to sort or show by. */
export async function writeLink(table: Table, at: Key, target: Key, attributes: Item = {}): Promise<void> {
  // A link key names its target, so an existing link at this key is this very link: keep it.
  await table.put({ ...attributes, pk: at.pk, sk: at.sk, kind: 'link', [TARGET_PK]: target.pk, [TARGET_SK]: target.sk }, { ifNotExists: true });
}

/** The key a link item points at, or `undefined` for an item that is not a link. */
export function linkTarget(item: Item): Key | undefined {
  const pk = item[TARGET_PK];
  const sk = item[TARGET_SK];
  return typeof pk === 'string' && typeof sk === 'string' ? { pk, sk } : undefined;
}

/**
 * One page of the items linked from a parent partition, in link order. A link whose target is
 * gone is left out of the page (the cursor still moves past it).
 */
export async function listLinked(table: Table, query: Omit<QueryOptions, 'index' | 'filter'>): Promise<Page<Item>> {
  const links = await table.query(query);
  const targets = links.items.map(linkTarget).filter((key): key is Key => key !== undefined);
  const items = await table.getMany(targets);
  return { items, cursor: links.cursor };
}
