import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UntranslatableParameterError } from '#reports/errors';
import { injectParameters, pythonNumber, pythonTranslator, rTranslator } from '#reports/inject';
import { validateNotebook } from '#reports/notebook';
import { codeCell, markdownCell, notebook, papermillTemplate } from './reports-fixtures.ts';

const golden = (name: string) => readFileSync(new URL(`./reports-golden/${name}`, import.meta.url), 'utf8');
// The golden files were written by papermill's own Python and R translators for these parameters.
const parameters = JSON.parse(golden('parameters.json')) as Record<string, unknown>;

describe('translators', () => {
  it('writes Python exactly as papermill’s PythonTranslator does', () => {
    // Act
    const source = pythonTranslator.codify(parameters);

    // Assess
    expect(source).toBe(golden('python.txt'));
  });

  it('writes R exactly as papermill’s RTranslator does', () => {
    // Act
    const source = rTranslator.codify(parameters);

    // Assess
    expect(source).toBe(golden('r.txt'));
  });

  it('writes floats in Python’s own form', () => {
    // Act
    const written = [0.1, 1e16, 1.5e-5, 0.0001, 123456.75, -3].map(pythonNumber);

    // Assess
    expect(written).toEqual(['0.1', '1e+16', '1.5e-05', '0.0001', '123456.75', '-3']);
  });
});

describe('injectParameters', () => {
  it('adds a cell tagged injected-parameters right after the parameters cell', () => {
    // Act
    const injected = injectParameters(papermillTemplate(), { alpha: 0.2 });

    // Assess
    expect(injected.cells.map((c) => c.metadata.tags ?? [])).toEqual([[], ['parameters'], ['injected-parameters'], []]);
    expect(injected.cells[2]).toMatchObject({ cell_type: 'code', execution_count: null, outputs: [], source: '# Parameters\nalpha = 0.2\n' });
    expect(injected.metadata.papermill).toEqual({ parameters: { alpha: 0.2 } });
  });

  it('replaces an earlier injection instead of adding a second one', () => {
    // Prepare
    const once = injectParameters(papermillTemplate(), { alpha: 0.2 });

    // Act
    const twice = injectParameters(once, { alpha: 0.9 });

    // Assess
    expect(twice.cells).toHaveLength(4);
    expect(twice.cells.filter((c) => c.metadata.tags?.includes('injected-parameters')).map((c) => c.source)).toEqual(['# Parameters\nalpha = 0.9\n']);
  });

  it('puts the injected cell first when the notebook has no parameters cell', () => {
    // Act
    const injected = injectParameters(notebook([markdownCell('# t'), codeCell('print(1)')]), { x: 1 });

    // Assess
    expect(injected.cells[0]!.metadata.tags).toEqual(['injected-parameters']);
  });

  it('keeps the notebook valid: an id on 4.5 notebooks, none on 4.4', () => {
    // Act
    const v45 = injectParameters(papermillTemplate(), { alpha: 1 });
    const v44 = injectParameters(notebook([codeCell('a = 1', ['parameters'])], undefined, 4), { a: 2 });

    // Assess
    expect(() => validateNotebook(v45)).not.toThrow();
    expect(() => validateNotebook(v44)).not.toThrow();
    expect(v44.cells[1]!.id).toBeUndefined();
  });

  it('writes R for an R kernel', () => {
    // Prepare
    const template = notebook([codeCell('flag <- FALSE', ['parameters'])], { name: 'ir', language: 'R' });

    // Act
    const injected = injectParameters(template, { flag: true });

    // Assess
    expect(injected.cells[1]!.source).toBe('# Parameters\nflag = TRUE\n');
  });

  it('leaves the template it was given unchanged', () => {
    // Prepare
    const template = papermillTemplate();
    const before = JSON.stringify(template);

    // Act
    injectParameters(template, { alpha: 0.2 });

    // Assess
    expect(JSON.stringify(template)).toBe(before);
  });

  it('refuses a kernel it has no translator for', () => {
    // Prepare
    const template = notebook([codeCell('x = 1', ['parameters'])], { name: 'julia-1.9', language: 'julia' });

    // Act
    const attempt = () => injectParameters(template, { x: 2 });

    // Assess
    expect(attempt).toThrow(UntranslatableParameterError);
  });
});
