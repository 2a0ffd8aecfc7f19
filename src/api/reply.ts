/**
 * An answer a route writes as it is, status, type and body its own: for protocols with their own error
 * shape and content types (MLflow's REST API, `/version` as plain text), where the API's JSON envelope
 * would be wrong.
 */
export class RawReply {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: string | Buffer,
  ) {}

  static json(status: number, body: unknown): RawReply {
    return new RawReply(status, 'application/json; charset=utf-8', JSON.stringify(body));
  }
}
