import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SymbiontConfig } from '#config/schema';
import { InvalidTemplateError } from './errors.ts';
import type { ReportService } from './service.ts';

/**
 * Registers the config's `templates` (notebook paths relative to the config file) through the same
 * service `PUT /templates/{name}` uses, so a template named in the config is usable right after
 * start. A notebook registered already with the same bytes is left as it is. A missing or invalid
 * notebook fails with the config path of its entry.
 */
export async function registerConfigTemplates(config: Pick<SymbiontConfig, 'templates'>, configDir: string, service: Pick<ReportService, 'putTemplate'>): Promise<string[]> {
  const registered: string[] = [];
  for (const [name, spec] of Object.entries(config.templates)) {
    const file = resolve(configDir, spec.notebook);
    const where = `templates.${name}.notebook (${file})`;
    let notebook: unknown;
    try {
      notebook = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new InvalidTemplateError(`${where}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(error as Error).message})`}`, { template: name }, { cause: error });
    }
    try {
      const { changed } = await service.putTemplate(name, notebook, { by: 'config', source: 'config', ...(spec.description ? { description: spec.description } : {}) });
      if (changed) registered.push(name);
    } catch (error) {
      if (error instanceof InvalidTemplateError) throw new InvalidTemplateError(`${where}: ${error.message}`, error.details, { cause: error });
      throw error;
    }
  }
  return registered;
}
