/**
 * An answer a route writes as it is, status, headers and body its own: the web UI's files, and protocols
 * with their own error shape and content types (MLflow's REST API, `/version` as plain text), where the
 * API's JSON envelope would be wrong.
 */
export class RawReply {
  constructor(
    readonly status: number,
    readonly headers: Readonly<Record<string, string>>,
    readonly body: string | Buffer,
  ) {}

  static json(status: number, body: unknown): RawReply {
    return new RawReply(status, { 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify(body));
  }
}
