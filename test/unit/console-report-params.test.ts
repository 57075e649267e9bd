import { describe, expect, it } from 'vitest';
import { parameterText, parseParameter, rerunParameters, settableParameters, subjectOf, type TemplateParameter } from '../../console/report-params.ts';

/** The report page's re-run form: which parameters it offers and how it reads what was typed. */

const parameter = (name: string, type: TemplateParameter['type'], nullable = false): TemplateParameter => ({ name, type, inferredTypeName: 'None', default: '0', help: '', nullable });

describe('the re-run form', () => {
  it('offers the declared parameters, not the built-ins Symbiont sets', () => {
    const template = { parameters: [parameter('dataset_url', 'any'), parameter('z_threshold', 'float'), parameter('bins', 'int')], builtIns: ['dataset_url', 'evaluation_id'] };

    expect(settableParameters(template).map((p) => p.name)).toEqual(['z_threshold', 'bins']);
  });

  it('reads each type: whole numbers, numbers, booleans, text, JSON lists and objects', () => {
    expect(parseParameter(parameter('bins', 'int'), ' 30 ')).toEqual({ value: 30 });
    expect(parseParameter(parameter('z', 'float'), '2.5')).toEqual({ value: 2.5 });
    expect(parseParameter(parameter('flag', 'bool'), 'False')).toEqual({ value: false });
    expect(parseParameter(parameter('file', 'str'), ' forecast.csv')).toEqual({ value: ' forecast.csv' });
    expect(parseParameter(parameter('keys', 'list'), '["sensor_id", "hour"]')).toEqual({ value: ['sensor_id', 'hour'] });
    expect(parseParameter(parameter('opts', 'dict'), '{"a": 1}')).toEqual({ value: { a: 1 } });
    expect(parseParameter(parameter('x', 'any'), '[1]')).toEqual({ value: [1] });
    expect(parseParameter(parameter('x', 'any'), 'plain words')).toEqual({ value: 'plain words' });
    expect(parseParameter(parameter('limit', 'int', true), 'None')).toEqual({ value: null });
  });

  it('says what is wrong with a value that does not fit its type, naming the parameter', () => {
    expect(parseParameter(parameter('bins', 'int'), '2.5')).toEqual({ error: 'bins takes a whole number (int), not “2.5”' });
    expect(parseParameter(parameter('z', 'float'), 'high')).toEqual({ error: 'z takes a number (float), not “high”' });
    expect(parseParameter(parameter('flag', 'bool'), 'yes')).toEqual({ error: 'flag takes true or false (bool), not “yes”' });
    expect(parseParameter(parameter('keys', 'list'), '{"a": 1}')).toEqual({ error: 'keys takes a JSON array, not “{"a": 1}”' });
    expect(parseParameter(parameter('keys', 'list'), 'a, b')).toMatchObject({ error: expect.stringContaining('is not JSON') });
    expect(parseParameter(parameter('limit', 'int'), 'None')).toMatchObject({ error: expect.stringContaining('limit takes a whole number') });
  });

  it('leaves empty fields to the template’s defaults and collects every problem', () => {
    const parameters = [parameter('z_threshold', 'float'), parameter('bins', 'int'), parameter('max_examples', 'int')];

    expect(rerunParameters(parameters, { z_threshold: '2', bins: ' ', max_examples: '5' })).toEqual({ parameters: { z_threshold: 2, max_examples: 5 } });
    expect(rerunParameters(parameters, { z_threshold: 'x', bins: 'y' })).toEqual({ errors: ['z_threshold takes a number (float), not “x”', 'bins takes a whole number (int), not “y”'] });
  });

  it('shows a value as typed back: text as is, the rest as JSON', () => {
    expect(parameterText('str', 'forecast.csv')).toBe('forecast.csv');
    expect(parameterText('list', ['a'])).toBe('["a"]');
    expect(parameterText('float', 3)).toBe('3');
    expect(parameterText('int', undefined)).toBe('');
  });

  it('names what a report is about', () => {
    expect(subjectOf({ dataset: { name: 'readings', version: 2 } })).toBe('readings version 2');
    expect(subjectOf({ evaluationId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB' })).toBe('evaluation 01JD8X5Q3ZC9W8M2V7K4T6R1YB');
    expect(subjectOf({})).toBe('nothing in particular');
  });
});
