import { z } from 'zod';

/**
 * The one schema for `symbiont.config.json`. Infra, handlers, the local runtime and the CLI all
 * import it, so a config that synthesizes is a config that runs.
 */

/** Names that become S3 prefixes, DynamoDB keys and execution-name parts: keep them plain. */
const name = z
  .string()
  .regex(/^[a-z][a-z0-9_-]*$/, 'use lower-case letters, digits, "-" and "_", starting with a letter')
  .max(64);

/** Pipeline names go into Step Functions execution names (≤ 80 characters with a 40-hex hash). */
export const PIPELINE_NAME_MAX = 32;

export const columnTypes = ['string', 'integer', 'number', 'boolean', 'date', 'timestamp'] as const;

export const columnSchema = z
  .strictObject({
    name: z.string().min(1).max(256),
    type: z.enum(columnTypes),
    nullable: z.boolean().default(false),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    enum: z.array(z.string()).min(1).optional(),
    pattern: z
      .string()
      .refine(isRegExp, 'must be a valid regular expression')
      .optional(),
    maxLength: z.number().int().positive().optional(),
  })
  .superRefine((column, ctx) => {
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min (${column.min}) is greater than max (${column.max})` });
    }
    const numeric = column.type === 'integer' || column.type === 'number';
    if (!numeric && (column.min !== undefined || column.max !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min/max apply to integer and number columns, not ${column.type}` });
    }
    if (column.type !== 'string' && (column.enum || column.pattern || column.maxLength)) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: 'enum, pattern and maxLength apply to string columns' });
    }
  });

export const datasetSpecSchema = z
  .strictObject({
    description: z.string().optional(),
    format: z.enum(['csv', 'jsonl']),
    delimiter: z.string().length(1).default(','),
    quote: z.string().length(1).default('"'),
    columns: z.array(columnSchema).min(1),
    unique: z.array(z.string()).optional(),
    minRows: z.number().int().nonnegative().default(1),
    maxRows: z.number().int().positive().optional(),
    /** What to do with a column the spec does not name. */
    unknownColumns: z.enum(['reject', 'ignore']).default('reject'),
    /** What to do when a column the spec names is absent: `reject`, or read it as null (nullable columns only). */
    missingColumns: z.enum(['reject', 'null']).default('reject'),
    maxBytes: z.number().int().positive().default(5_000_000_000),
    /** Largest uncompressed/compressed ratio accepted for gzip input, against decompression bombs. */
    maxGzipRatio: z.number().positive().default(100),
  })
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.columns.forEach((column, i) => {
      if (names.has(column.name)) {
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'name'], message: `column "${column.name}" is named twice` });
      }
      names.add(column.name);
    });
    spec.unique?.forEach((column, i) => {
      if (!names.has(column)) {
        ctx.addIssue({ code: 'custom', path: ['unique', i], message: `unique key column "${column}" is not one of the columns` });
      }
    });
    if (spec.maxRows !== undefined && spec.maxRows < spec.minRows) {
      ctx.addIssue({ code: 'custom', path: ['maxRows'], message: `maxRows (${spec.maxRows}) is less than minRows (${spec.minRows})` });
    }
    if (spec.delimiter === spec.quote) {
      ctx.addIssue({ code: 'custom', path: ['quote'], message: 'quote and delimiter must differ' });
    }
  });

const sshPublicKey = z
  .string()
  .regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, 'must be an OpenSSH public key line ("ssh-ed25519 AAAA… comment")');

export const sftpUserSchema = z
  .strictObject({
    publicKeys: z.array(sshPublicKey).default([]),
    /** Public key files, relative to the config file (how the local demo user's generated key is wired in). */
    publicKeyFiles: z.array(z.string()).default([]),
    datasets: z.array(z.string()).min(1),
  })
  .refine((u) => u.publicKeys.length + u.publicKeyFiles.length > 0, {
    message: 'give at least one public key (publicKeys or publicKeyFiles)',
    path: ['publicKeys'],
  });

export const repositorySchema = z.strictObject({
  url: z.url(),
  defaultBranch: z.string().min(1).default('main'),
  /** Local checkout the local runtime makes worktrees from. */
  path: z.string().optional(),
  /** Branches whose GitHub pushes are evaluated (exact names); pushes to others are ignored. @default every branch */
  branches: z.array(z.string().min(1)).min(1).optional(),
  /** Also comment the comparison table on the open pull requests of an evaluated commit (with a GitHub token). @default false */
  pullRequestComments: z.boolean().optional(),
});

const tolerance = z
  .strictObject({
    absolute: z.number().nonnegative().optional(),
    relative: z.number().nonnegative().optional(),
  })
  .refine((t) => t.absolute !== undefined || t.relative !== undefined, 'give absolute and/or relative');

/** An ECR repository name (AWS's own pattern), optionally after this account's registry host. */
const ECR_REPOSITORY = /^(?:[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/)?(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export const pipelineSchema = z.strictObject({
  description: z.string().optional(),
  stages: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        repository: z.string(),
        /**
         * The stage image's ECR repository, in the stack's account (`acme/model`, or with its
         * registry host), without a tag: the tag is the commit sha the repository's CI pushed.
         */
        image: z
          .string()
          .regex(
            ECR_REPOSITORY,
            'name the ECR repository without a tag or digest (e.g. acme/model, or <account>.dkr.ecr.<region>.amazonaws.com/acme/model): CI tags each image with its commit sha',
          ),
        command: z.array(z.string()).min(1),
        /** Seconds before a stage is stopped as hung. */
        timeoutSeconds: z.number().int().positive().default(3600),
      }),
    )
    .min(1),
  datasets: z.array(z.string()).min(1),
  metrics: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/),
      z.strictObject({ goal: z.enum(['max', 'min']), tolerance: tolerance.optional() }),
    )
    .refine((m) => Object.keys(m).length > 0, 'name at least one metric'),
  parameters: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)).default({}),
  repeats: z.number().int().min(1).max(20).default(1),
  onRegression: z.strictObject({ template: z.string() }).optional(),
});

export const templateSchema = z.strictObject({
  /** Notebook path, relative to the config file. */
  notebook: z.string().min(1),
  description: z.string().optional(),
});

/** Deployment knobs (DESIGN.md "The stack's knobs"); `cdk -c key=value` overrides them. */
export const stackSchema = z.strictObject({
  /** Environment name; several stages deploy side by side. */
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'lower-case letters, digits and "-", at most 16').default('dev'),
  /** Keep buckets and the table when the stack is deleted. */
  retainData: z.boolean().default(true),
  sftp: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  /** Where evaluation tasks run: public subnets with public IPs, or private subnets with VPC endpoints. */
  evaluationNetwork: z.enum(['public', 'endpoints']).default('public'),
  alarmEmail: z.email().optional(),
  /** Days before a landing object whose outcome is recorded expires. */
  landingExpiryDays: z.number().int().positive().default(30),
});

/** Local runtime knobs (`npm start`). Port 0 picks a free port. */
export const localSchema = z.strictObject({
  apiPort: z.number().int().min(0).max(65535).default(4510),
  s3Port: z.number().int().min(0).max(65535).default(4569),
  dynamodbPort: z.number().int().min(0).max(65535).default(4567),
  sqsPort: z.number().int().min(0).max(65535).default(4576),
  stepFunctionsPort: z.number().int().min(0).max(65535).default(4584),
  sftpPort: z.number().int().min(0).max(65535).default(2222),
  dataDir: z.string().default('.symbiont'),
  /** Points of a request evaluated at once locally (the points Map's MaxConcurrency). @default the stack's (40) */
  evaluationConcurrency: z.number().int().min(1).max(40).optional(),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    datasets: z.record(name, datasetSpecSchema),
    sftpUsers: z.record(name, sftpUserSchema).default({}),
    repositories: z.record(name, repositorySchema).default({}),
    pipelines: z.record(name.max(PIPELINE_NAME_MAX), pipelineSchema).default({}),
    templates: z.record(name, templateSchema).default({}),
    webhooks: z.strictObject({ githubSecret: z.string().min(8).optional() }).default({}),
    /**
     * Results back on GitHub (commit statuses, pull-request comments) for repositories whose url is
     * on github.com; on only where a token is set (AWS: the stack's secret; locally SYMBIONT_GITHUB_TOKEN).
     */
    github: z
      .strictObject({
        /** The GitHub REST API (GitHub Enterprise, or a fake in tests). @default https://api.github.com */
        apiUrl: z.url().optional(),
        /** A status's link; `{requestId}` is replaced. @default the API's GET /evaluations/requests/{requestId} */
        targetUrl: z.string().min(1).optional(),
      })
      .default({}),
    /** Datasets the local uploader token may use (DESIGN.md roles). @default all datasets */
    uploaderDatasets: z.array(z.string()).optional(),
    stack: stackSchema.default(stackSchema.parse({})),
    local: localSchema.default(localSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    const datasets = new Set(Object.keys(config.datasets));
    const known = (set: Set<string>, value: string, path: (string | number)[], what: string) => {
      if (!set.has(value)) {
        ctx.addIssue({ code: 'custom', path, message: `${what} "${value}" is not defined (known: ${[...set].join(', ') || 'none'})` });
      }
    };
    for (const [user, spec] of Object.entries(config.sftpUsers)) {
      spec.datasets.forEach((d, i) => known(datasets, d, ['sftpUsers', user, 'datasets', i], 'dataset'));
    }
    config.uploaderDatasets?.forEach((d, i) => known(datasets, d, ['uploaderDatasets', i], 'dataset'));
    const repositories = new Set(Object.keys(config.repositories));
    const templates = new Set(Object.keys(config.templates));
    for (const [pipeline, spec] of Object.entries(config.pipelines)) {
      spec.stages.forEach((s, i) => known(repositories, s.repository, ['pipelines', pipeline, 'stages', i, 'repository'], 'repository'));
      spec.datasets.forEach((d, i) => known(datasets, d, ['pipelines', pipeline, 'datasets', i], 'dataset'));
      if (spec.onRegression) known(templates, spec.onRegression.template, ['pipelines', pipeline, 'onRegression', 'template'], 'template');
    }
  });

export type SymbiontConfig = z.infer<typeof configSchema>;
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;
export type ColumnSpec = z.infer<typeof columnSchema>;
export type PipelineSpec = z.infer<typeof pipelineSchema>;
export type SftpUserSpec = z.infer<typeof sftpUserSchema>;
export type StackSettings = z.infer<typeof stackSchema>;
export type LocalSettings = z.infer<typeof localSchema>;

function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}
