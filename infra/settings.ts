import { stackSchema, type StackSettings } from '#config/schema';
import { jsonPath } from '#config/load';

/** `cdk -c` keys that override the config's `stack` knobs, so one config serves several stages. */
export const contextKeys = {
  stage: 'stage',
  retainData: 'retainData',
  sftpEnabled: 'sftp.enabled',
  evaluationNetwork: 'evaluationNetwork',
  alarmEmail: 'alarmEmail',
} as const;

/** The config's knobs with any context overrides applied, validated by the same schema. */
export function resolveSettings(base: StackSettings, context: (key: string) => unknown): StackSettings {
  const read = (key: string) => {
    const value = context(key);
    if (value === undefined) return undefined;
    // The CLI passes `-c retainData=false` as a string.
    if (value === 'true') return true;
    if (value === 'false') return false;
    return value;
  };
  const merged = {
    ...base,
    stage: read(contextKeys.stage) ?? base.stage,
    retainData: read(contextKeys.retainData) ?? base.retainData,
    sftp: { ...base.sftp, enabled: read(contextKeys.sftpEnabled) ?? base.sftp.enabled },
    evaluationNetwork: read(contextKeys.evaluationNetwork) ?? base.evaluationNetwork,
    alarmEmail: read(contextKeys.alarmEmail) ?? base.alarmEmail,
  };
  const result = stackSchema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${jsonPath(['stack', ...i.path])}: ${i.message}`);
    throw new Error(`invalid stack settings (config "stack" or cdk -c):\n${lines.join('\n')}`);
  }
  return result.data;
}
