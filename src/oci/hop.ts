// One registry request as the steps of the transport hand it on (`send.ts`, `redirects.ts`,
// `auth.ts`, `retry.ts`): what is asked, what each origin is sent, and what answered.

export interface Authorization {
  /** The Authorization header's value. */
  header: string;
  /** Made from credentials in docker's config.json (not anonymous). */
  withCredentials: boolean;
  /** Date.now() after which it is not sent any more. */
  expires: number;
}

/** One request as it goes from host to host along redirects. */
export interface Hop {
  method: 'GET' | 'HEAD';
  accept: string[];
  signal: AbortSignal | undefined;
  /** The request in the reader's words, for errors. */
  what: string;
  /** The registry as `docker login` names it, for the advice of an error. */
  registry: string;
  /** What to send to the origin of `url`: only ever what that origin itself asked for. */
  authorizationFor?(url: URL): Authorization | undefined;
  onRedirect?(redirect: Redirect): void;
}

export interface Answer {
  response: Response;
  /** The URL that answered, after redirects. */
  url: URL;
  authorization: Authorization | undefined;
}

/** A step of the transport: sends `hop` to `url`, perhaps through the next step, and returns the answer. */
export type Send = (url: URL, hop: Hop) => Promise<Answer>;

/** A redirect a registry answered with, and followed. */
export interface Redirect {
  /** The URL that answered with the redirect. */
  from: URL;
  /** Where its Location header sent the request. */
  to: URL;
  /** 301, 302, 303, 307 or 308. */
  status: number;
}
