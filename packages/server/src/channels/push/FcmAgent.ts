/**
 * The one HTTPS agent every firebase-admin call of the push channel goes
 * through: the OAuth token request (google-auth-library via `cert(path, agent)`)
 * and the FCM HTTP v1 sends (`AppOptions.httpAgent`).
 *
 * Without an endpoint it is a plain keep-alive `https.Agent`, so the TLS
 * connections to `oauth2.googleapis.com` and `fcm.googleapis.com` are reused
 * across notifications. With `FCM_ENDPOINT` set, every connection the SDK opens
 * — whatever host the SDK addressed — goes to that endpoint instead, keeping
 * the path, the headers and the body as the SDK wrote them. That is how a
 * server that speaks the real FCM wire protocol (a local fake, a recording
 * gateway) is put in Google's place without touching the SDK's code.
 *
 * Gotchas:
 * - Only firebase-admin's HTTP/1.1 transport honours an agent; its default
 *   HTTP/2 transport for `sendEach` calls `http2.connect` with a hard-coded
 *   `https://fcm.googleapis.com` and no hook. The push sender therefore turns on
 *   `enableLegacyHttpTransport()` always, so production and tests use the
 *   same path.
 * - An `http:` endpoint gets a plain TCP connection (the SDK still believes it
 *   speaks HTTPS); an `https:` endpoint gets TLS, verified unless `insecure`
 *   (`FCM_TLS_INSECURE=true`, meant only for a local fake's self-signed
 *   certificate).
 */
import { Agent, type RequestOptions } from "node:https"
import { createConnection as tcpConnect, isIP } from "node:net"
import type { Duplex } from "node:stream"

export interface FcmEndpoint {
  /** `https://host:port` or `http://host:port`; any path is ignored. */
  readonly url: URL
  /** Accept any certificate from an `https:` endpoint. */
  readonly insecure: boolean
}

const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16 } as const

/** Connects every request to the endpoint instead of the host the request names. */
class EndpointAgent extends Agent {
  readonly #endpoint: FcmEndpoint

  constructor(endpoint: FcmEndpoint) {
    super({ ...agentOptions, rejectUnauthorized: !endpoint.insecure })
    this.#endpoint = endpoint
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void
  ): Duplex | null | undefined {
    const { url, insecure } = this.#endpoint
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
    if (url.protocol === "http:") {
      return tcpConnect({ host, port: Number(url.port || 80) })
    }
    return super.createConnection({
      ...options,
      host,
      port: Number(url.port || 443),
      // SNI and certificate checks are against the endpoint, not the Google host the SDK addressed.
      servername: isIP(host) === 0 ? host : "",
      rejectUnauthorized: !insecure
    }, callback)
  }
}

/** The agent for all of firebase-admin's requests; `undefined` endpoint = Google's own hosts. */
export const makeFcmAgent = (endpoint: FcmEndpoint | undefined): Agent =>
  endpoint === undefined ? new Agent(agentOptions) : new EndpointAgent(endpoint)
