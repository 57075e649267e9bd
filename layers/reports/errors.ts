import { BadRequestError, NotFoundError, SymbiontError } from '#shared/errors';

/** The errors of report templates and reports (DESIGN.md "report template"). */
export class ReportError extends SymbiontError {
  override name = 'ReportError';
}

/** A template body that is not an nbformat 4 notebook, or whose `parameters` cell cannot be read. */
export class InvalidTemplateError extends BadRequestError {
  override name = 'InvalidTemplateError';
}

/** A report request that cannot be rendered as asked: unknown or mistyped parameters, missing inputs. */
export class InvalidReportRequestError extends BadRequestError {
  override name = 'InvalidReportRequestError';
}

export class TemplateNotFoundError extends NotFoundError {
  override name = 'TemplateNotFoundError';
}

export class ReportNotFoundError extends NotFoundError {
  override name = 'ReportNotFoundError';
}

/** A report-queue message that is not `{reportId}`: it goes to the DLQ to be read. */
export class InvalidReportMessageError extends ReportError {
  override name = 'InvalidReportMessageError';
}

/**
 * No Jupyter kernel can run here: the message names what to install. The report is stored as
 * `failed` with it rather than retried, since retrying cannot install anything.
 */
export class KernelUnavailableError extends ReportError {
  override name = 'KernelUnavailableError';
}

/** A parameter value the kernel's language cannot be given (a translator limit). */
export class UntranslatableParameterError extends BadRequestError {
  override name = 'UntranslatableParameterError';
}
