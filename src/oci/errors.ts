// Errors from talking to a registry. They keep the registry's own words (its error JSON) and the HTTP
// status, and their message is a sentence a sysadmin can act on.

/** One entry of the `errors` array the distribution API returns with a failed request. */
export interface RegistryErrorDetail {
  code: string;
  message: string;
  detail?: unknown;
}

export interface RegistryErrorFields {
  /** HTTP status, when the registry answered at all. */
  status?: number;
  /** The registry's first error code, e.g. `NAME_UNKNOWN`, `TOOMANYREQUESTS`. */
  code?: string;
  /** The registry's first error message, as it wrote it. */
  registryMessage?: string;
  /** Every error the registry listed. */
  errors?: RegistryErrorDetail[];
}

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly registryMessage: string | undefined;
  readonly errors: RegistryErrorDetail[];

  constructor(message: string, fields: RegistryErrorFields = {}) {
    super(message);
    this.status = fields.status;
    this.code = fields.code;
    this.registryMessage = fields.registryMessage;
    this.errors = fields.errors ?? [];
  }
}

/**
 * Builds the error for a response that is not a success. `what` names the request in the reader's
 * words ("listing the tags of library/busybox"); the body is searched for the distribution API's
 * `{"errors": [{code, message, detail}]}` and quoted when present.
 */
export function errorFromResponse(what: string, url: URL, status: number, statusText: string, body: string): RegistryError {
  const errors = parseErrorBody(body);
  const first = errors[0];
  const said = first ? `: ${first.code}: ${first.message}` : statusText ? `: ${statusText}` : '';
  const advice = ADVICE_BY_STATUS[status];
  const sentence = `${url.origin} answered ${status}${said} while ${what}.${advice ? ` ${advice}` : ''}`;
  return new RegistryError(sentence, {
    status,
    errors,
    ...(first ? { code: first.code, registryMessage: first.message } : {}),
  });
}

const ADVICE_BY_STATUS: Record<number, string> = {
  401: 'The repository is private or the name is wrong; ocilab only reads public repositories anonymously.',
  403: 'The registry refuses anonymous access to this repository.',
  404: 'Check the registry address and the repository name.',
  429: 'The registry limits anonymous requests; wait a while or use a local registry.',
};

function parseErrorBody(body: string): RegistryErrorDetail[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.errors)) return [];
  return parsed.errors.filter(isRecord).map((e) => ({
    code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
    message: typeof e.message === 'string' ? e.message : '',
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
  }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
