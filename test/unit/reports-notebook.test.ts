import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidTemplateError } from '#reports/errors';
import { validateNotebook } from '#reports/notebook';
import { codeCell, notebook, papermillTemplate } from './reports-fixtures.ts';

describe('validateNotebook', () => {
  it('accepts the explore example template', () => {
    // Prepare
    const explore = JSON.parse(readFileSync(new URL('../../examples/templates/explore.ipynb', import.meta.url), 'utf8'));

    // Act
    const validated = validateNotebook(explore);

    // Assess
    expect(validated.cells.length).toBeGreaterThan(5);
  });

  it('accepts an nbformat 4.4 notebook whose cells have no ids', () => {
    // Act
    const validated = validateNotebook(notebook([codeCell('x = 1')], undefined, 4));

    // Assess
    expect(validated.nbformat_minor).toBe(4);
  });

  it('refuses a 4.5 notebook whose cell has no id, naming the cell', () => {
    // Prepare
    const bad = notebook([codeCell('x = 1')]);
    delete bad.cells[0]!.id;

    // Act
    const attempt = () => validateNotebook(bad);

    // Assess
    expect(attempt).toThrow(InvalidTemplateError);
    expect(attempt).toThrow(/cells\/0/);
  });

  it('refuses a cell whose source is a number, naming where', () => {
    // Prepare
    const bad = structuredClone(papermillTemplate()) as unknown as { cells: { source: unknown }[] };
    bad.cells[2]!.source = 42;

    // Act
    const attempt = () => validateNotebook(bad);

    // Assess
    expect(attempt).toThrow(/cells\/2/);
  });

  it('refuses an nbformat 3 notebook with a hint to upgrade it', () => {
    // Act
    const attempt = () => validateNotebook({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] });

    // Assess
    expect(attempt).toThrow(/only nbformat 4 notebooks.*upgrade/);
  });

  it('refuses something that is not a notebook at all', () => {
    // Act
    const attempt = () => validateNotebook([1, 2, 3]);

    // Assess
    expect(attempt).toThrow(/a template is a Jupyter notebook/);
  });
});
