/** The API's shapes, as the schemas the router validates with define them (types only: nothing of zod is bundled). */
export type {
  Dataset,
  DatasetList,
  DatasetVersion,
  DatasetVersionPage,
  SftpUser,
  Upload,
  UploadListItem,
  UploadPage,
  UploadReport,
  VersionDownload,
} from '#api/schemas';
export type { ConsoleConfig, Me } from '#api/console-schemas';
