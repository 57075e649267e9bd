import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { presignGet } from '#shared/presign';

/**
 * The report objects of the data bucket (DESIGN.md "Storage"): template notebooks under
 * `templates/<name>/`, rendered reports under `reports/<id>/`, and presigned GET URLs to hand out.
 */
export const reportObjects = {
  templatePrefix: 'templates/',
  reportPrefix: 'reports/',
  /** A template revision: its notebook, named by its hash. */
  template: (name: string, sha256: string) => `templates/${name}/${sha256}.ipynb`,
  notebook: (reportId: string) => `reports/${reportId}/report.ipynb`,
  html: (reportId: string) => `reports/${reportId}/report.html`,
} as const;

/** The data bucket as the reports code uses it. */
export interface ReportBucket {
  put(key: string, body: string, contentType: string): Promise<void>;
  getText(key: string): Promise<string>;
  /** A GET URL valid for `seconds`; `fileName` makes browsers download under that name. */
  presign(key: string, seconds: number, options?: { fileName?: string; contentType?: string }): Promise<string>;
  /** The keys under `prefix`, every page of them. */
  list(prefix: string): Promise<string[]>;
}

export function s3ReportBucket(s3: S3Client, bucket: string): ReportBucket {
  return {
    async put(key, body, contentType) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async getText(key) {
      const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await answer.Body?.transformToString('utf-8')) ?? '';
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        keys.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : [])));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async presign(key, seconds, options = {}) {
      return (await presignGet(s3, { bucket, key }, seconds, options)).url;
    },
  };
}
