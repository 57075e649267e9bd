import { describe, expect, it } from 'vitest';
import { InvalidReportRequestError, InvalidTemplateError } from '#reports/errors';
import { checkParameters, readParameters } from '#reports/parameters';
import { codeCell, markdownCell, notebook, papermillTemplate } from './reports-fixtures.ts';

describe('readParameters', () => {
  it('reads name, default, inferred type and comment as papermill inspect does', () => {
    // Act
    const parameters = readParameters(papermillTemplate());

    // Assess
    expect(parameters).toEqual([
      { name: 'alpha', type: 'float', inferredTypeName: 'None', default: '0.6', help: 'the smoothing factor', nullable: false },
      { name: 'ratio', type: 'float', inferredTypeName: 'float', default: '0.1', help: '', nullable: false },
      { name: 'name', type: 'str', inferredTypeName: 'None', default: '"world"', help: '', nullable: false },
      { name: 'items', type: 'list', inferredTypeName: 'None', default: '[1, 2]', help: '', nullable: false },
      { name: 'flag', type: 'bool', inferredTypeName: 'None', default: 'True', help: '', nullable: false },
      { name: 'missing', type: 'any', inferredTypeName: 'None', default: 'None', help: '', nullable: true },
    ]);
  });

  it('reads a type comment and a value spanning lines', () => {
    // Prepare
    const template = notebook([codeCell('limits = {  # inner comments are dropped\n    "low": 1,\n    "high": 2,\n}  # bounds\nwhen = "2024-01-01"  # type: str', ['parameters'])]);

    // Act
    const parameters = readParameters(template);

    // Assess
    expect(parameters.map((p) => [p.name, p.type, p.default, p.help, p.inferredTypeName])).toEqual([
      ['limits', 'dict', '{"low": 1,"high": 2,}', 'bounds', 'None'],
      ['when', 'str', '"2024-01-01"', '', 'str'],
    ]);
  });

  it('takes an Optional annotation as nullable', () => {
    // Prepare
    const template = notebook([codeCell('cutoff: Optional[int] = None', ['parameters'])]);

    // Act
    const [cutoff] = readParameters(template);

    // Assess
    expect(cutoff).toMatchObject({ name: 'cutoff', type: 'int', nullable: true });
  });

  it('reads R declarations written with <- or =', () => {
    // Prepare
    const template = notebook([codeCell('n <- 10L  # rows\nlabel = "x"\nshow = TRUE', ['parameters'])], { name: 'ir', language: 'R' });

    // Act
    const parameters = readParameters(template);

    // Assess
    expect(parameters.map((p) => [p.name, p.type, p.help])).toEqual([
      ['n', 'int', 'rows'],
      ['label', 'str', ''],
      ['show', 'bool', ''],
    ]);
  });

  it('finds no parameters in a notebook without a parameters cell', () => {
    // Act
    const parameters = readParameters(notebook([codeCell('x = 1')]));

    // Assess
    expect(parameters).toEqual([]);
  });

  it('refuses a parameters tag on a markdown cell', () => {
    // Prepare
    const template = notebook([markdownCell('x = 1')]);
    template.cells[0]!.metadata.tags = ['parameters'];

    // Act
    const attempt = () => readParameters(template);

    // Assess
    expect(attempt).toThrow(InvalidTemplateError);
    expect(attempt).toThrow(/must be a code cell/);
  });
});

describe('checkParameters', () => {
  const declared = readParameters(papermillTemplate());

  it('accepts values of the declared types, an int for a float and null where the default is None', () => {
    // Act
    const attempt = () => checkParameters('t', declared, { alpha: 1, ratio: 0.5, name: 'x', items: [], flag: false, missing: null }, []);

    // Assess
    expect(attempt).not.toThrow();
  });

  it('refuses an unknown name, naming it and the declared ones', () => {
    // Act
    const attempt = () => checkParameters('t', declared, { alpah: 0.5 }, []);

    // Assess
    expect(attempt).toThrow(InvalidReportRequestError);
    expect(attempt).toThrow('template t declares no parameter alpah (it declares alpha, ratio, name, items, flag, missing)');
  });

  it('refuses a value of the wrong type, naming the parameter and both types', () => {
    // Act
    const attempt = () => checkParameters('t', declared, { alpha: 'high', flag: 1 }, []);

    // Assess
    expect(attempt).toThrow('alpha must be a number (default 0.6), not a string; flag must be a bool (default True), not an int');
  });

  it('lists every problem in the error details', () => {
    // Act
    let details: unknown;
    try {
      checkParameters('t', declared, { alpha: 'high', nope: 1 }, []);
    } catch (error) {
      details = (error as InvalidReportRequestError).details;
    }

    // Assess
    expect(details).toEqual({ problems: [expect.objectContaining({ field: 'parameters.alpha' }), expect.objectContaining({ field: 'parameters.nope' })] });
  });

  it('refuses a value for a built-in parameter', () => {
    // Act
    const attempt = () => checkParameters('t', declared, { dataset_url: 'http://elsewhere' }, ['dataset_url']);

    // Assess
    expect(attempt).toThrow(/dataset_url is a built-in parameter/);
  });
});
