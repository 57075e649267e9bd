import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '#config/load';
import { resolveSettings } from './settings.ts';
import { SymbiontStack } from './stack.ts';

/** Builds the app: one stack per stage, checked by cdk-nag's AwsSolutions pack on every synth. */
export function buildApp(app = new App()): { app: App; stack: SymbiontStack } {
  const { config, file } = loadConfig();
  const settings = resolveSettings(config.stack, (key) => app.node.tryGetContext(key));
  const stack = new SymbiontStack(app, `Symbiont-${settings.stage}`, {
    config,
    configFile: file,
    settings,
    description: `Symbiont (${settings.stage}): validated datasets, continuous evaluation and reports`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    buildApp();
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && error.message.startsWith('invalid stack settings'))) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
