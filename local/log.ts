import { logger } from '#shared/observability';

/**
 * The local runtime's logger: a child of the one Powertools logger, so its lines keep the same
 * format but not the Lambda context keys a handler invocation adds to the shared instance.
 */
export const log = logger.createChild({ serviceName: 'symbiont-local' });
