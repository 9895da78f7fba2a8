import createError from '@fastify/error'

// Registration errors: thrown while the plugin registers, never at request time.
export const FST_TLS_CERT_AUTH_BAD_OPTION = createError(
  'FST_TLS_CERT_AUTH_BAD_OPTION', 'fastify-tls-certificate-auth: invalid option %s', 500)
export const FST_TLS_CERT_AUTH_NO_SESSION = createError(
  'FST_TLS_CERT_AUTH_NO_SESSION',
  'fastify-tls-certificate-auth needs @fastify/session (with @fastify/cookie) registered first', 500)
export const FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION = createError(
  'FST_TLS_CERT_AUTH_DEBUG_IN_PRODUCTION',
  'fastify-tls-certificate-auth: debug is refused when NODE_ENV is production', 500)

// Parsing errors: the input is not what its format allows.
export const FST_TLS_CERT_AUTH_BAD_DN = createError(
  'FST_TLS_CERT_AUTH_BAD_DN', 'Malformed distinguished name: %s', 400)

// Request errors: each one refuses a login and reaches Fastify's error handler.
export const FST_TLS_CERT_AUTH_NO_IDENTITY = createError(
  'FST_TLS_CERT_AUTH_NO_IDENTITY', 'The client certificate carries no usable identity', 403)
export const FST_TLS_CERT_AUTH_USER_NOT_FOUND = createError(
  'FST_TLS_CERT_AUTH_USER_NOT_FOUND', 'No user matches the client certificate', 403)
