import type { Store } from '#store/store';

/**
 * What the API reads of uploads: the two store calls, and nothing else, so that tests and the
 * local runtime can hand in anything that answers them. The table store satisfies it.
 */
export type UploadReader = Pick<Store, 'getUpload' | 'listUploads'>;

export type { ListUploadsQuery as ListUploadsInput, UploadPage as UploadPageResult, UploadRecord } from '#store/store';
