/**
 * The credential of an `Authorization: Bearer <credential>` header, shared by
 * the API keys and the client tokens of `/rpc/me`.
 */

/** The credential, or undefined when the header is absent or not a bearer one. */
export const bearerCredential = (authorization: string | undefined): string | undefined => {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
}
