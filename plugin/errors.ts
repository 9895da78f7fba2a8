import createError from '@fastify/error'

// Registration errors: thrown while the plugin registers, never at request time.
export const FST_TLS_CERT_AUTH_BAD_OPTION = createError(
  'FST_TLS_CERT_AUTH_BAD_OPTION', 'fastify-tls-certificate-auth: invalid option %s', 500)
export const FST_TLS_CERT_AUTH_NO_SESSION = createError(
  'FST_TLS_CERT_AUTH_NO_SESSION',
  'fastify-tls-certificate-auth keeps a logged-in user in a session, and none is registered: register ' +
  '@fastify/session (with @fastify/cookie) or @fastify/secure-session before it, keep the user your own way ' +
  'with saveUser, or set loginUrl: false for certificate checks without a login', 500)
export const FST_TLS_CERT_AUTH_ALREADY_REGISTERED = createError(
  'FST_TLS_CERT_AUTH_ALREADY_REGISTERED',
  'fastify-tls-certificate-auth is already registered in this context: register it once, with all its options', 500)
export const FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION = createError(
  'FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION',
  'fastify-tls-certificate-auth: debug needs NODE_ENV=development or NODE_ENV=test (NODE_ENV is %s)', 500)

// Parsing errors: the input is not what its format allows.
export const FST_TLS_CERT_AUTH_BAD_DN = createError(
  'FST_TLS_CERT_AUTH_BAD_DN', 'Malformed distinguished name: %s', 400)

// Request errors: each one refuses a login and reaches Fastify's error handler.
export const FST_TLS_CERT_AUTH_NO_IDENTITY = createError(
  'FST_TLS_CERT_AUTH_NO_IDENTITY', 'The client certificate carries no usable identity', 403)
export const FST_TLS_CERT_AUTH_USER_NOT_FOUND = createError(
  'FST_TLS_CERT_AUTH_USER_NOT_FOUND', 'No user matches the client certificate', 403)
export const FST_TLS_CERT_AUTH_USER_TIMEOUT = createError(
  'FST_TLS_CERT_AUTH_USER_TIMEOUT', 'The user store did not answer in time', 503)
export const FST_TLS_CERT_AUTH_BAD_USER = createError(
  'FST_TLS_CERT_AUTH_BAD_USER', 'findUser or createUser returned something that is not a user', 500)
export const FST_TLS_CERT_AUTH_SESSION_STORE = createError(
  'FST_TLS_CERT_AUTH_SESSION_STORE', 'The session store failed or did not answer in time', 503)
export const FST_TLS_CERT_AUTH_NO_CERTIFICATE = createError(
  'FST_TLS_CERT_AUTH_NO_CERTIFICATE', 'A trusted client certificate is required', 401)

// Policy refusals (the `accept` option), one code each.
export const FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED = createError(
  'FST_TLS_CERT_AUTH_ISSUER_NOT_ACCEPTED', 'The client certificate issuer is not accepted', 403)
export const FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED = createError(
  'FST_TLS_CERT_AUTH_CA_NOT_ACCEPTED', 'The client certificate was not issued by a pinned CA', 403)
export const FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED = createError(
  'FST_TLS_CERT_AUTH_FINGERPRINT_NOT_ACCEPTED', 'The client certificate is not on the allow-list', 403)
export const FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED = createError(
  'FST_TLS_CERT_AUTH_EKU_NOT_ACCEPTED', 'The client certificate is not for client authentication', 403)
export const FST_TLS_CERT_AUTH_NOT_VALID_NOW = createError(
  'FST_TLS_CERT_AUTH_NOT_VALID_NOW', 'The client certificate is expired or not yet valid', 403)
export const FST_TLS_CERT_AUTH_REVOKED = createError(
  'FST_TLS_CERT_AUTH_REVOKED', 'The client certificate is revoked', 403)
export const FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN = createError(
  'FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN', 'The revocation status of the client certificate could not be checked', 503)
