/**
 * The error family of the orchestrator. Every failure a caller can act on is one of these;
 * the HTTP status is chosen from the class in one place (the API error middleware).
 */
export class VobeeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VobeeError';
  }
}

/** One problem with one input field, as reported to the caller. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `steps.2.action`; empty for the input as a whole. */
  field: string;
  message: string;
}

/** The input is malformed or breaks a rule; nothing was written. Maps to 400/422. */
export class ValidationError extends VobeeError {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[] | string, options?: { cause?: unknown }) {
    const list = typeof issues === 'string' ? [{ field: '', message: issues }] : issues;
    super(list.map(formatIssue).join('; '), options);
    this.name = 'ValidationError';
    this.issues = list;
  }
}

/** The named thing does not exist. Maps to 404. */
export class NotFoundError extends VobeeError {
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {
    super(`${kind} '${id}' not found`);
    this.name = 'NotFoundError';
  }
}

/** The request contradicts the current state (exists already, version moved, dependency rule). Maps to 409. */
export class ConflictError extends VobeeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The request is larger than what can be taken. Maps to 413. */
export class PayloadTooLargeError extends VobeeError {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}

/** The request is early: the thing it acts on is not ready for it yet, and will be. Maps to 503. */
export class NotReadyError extends VobeeError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
    this.name = 'NotReadyError';
  }
}

/** No eligible service can take the task, or every fallback has been tried. */
export class NoRouteError extends VobeeError {
  constructor(message: string) {
    super(message);
    this.name = 'NoRouteError';
  }
}

function formatIssue(issue: FieldIssue): string {
  return issue.field ? `${issue.field}: ${issue.message}` : issue.message;
}
