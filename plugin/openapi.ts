import type { FastifyInstance, RouteOptions } from 'fastify'

// Marks, in a guarded route's schema, the operation that @fastify/swagger builds from it.
const MARKER = 'x-fastify-tls-certificate-auth'

type Requirement = Record<string, string[]>
interface Operation { security?: Requirement[], [MARKER]?: unknown }
interface OpenApiDocument {
  security?: Requirement[]
  // @fastify/swagger always writes both; an OpenAPI 2 document has no securitySchemes.
  components: { securitySchemes?: Record<string, { type?: string }> }
  paths: Record<string, Record<string, Operation>>
}
type Swagger = (options?: { yaml?: boolean }) => unknown

// The shape Fastify's error handler answers with: documenting it changes no response.
const ERROR_SCHEMA = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } }
}

/** The responses a guarded route gains, unless it describes them itself. */
function guardResponses (revocable: boolean): Record<number, object> {
  const responses: Record<number, object> = {
    401: { description: 'No trusted client certificate (FST_TLS_CERT_AUTH_NO_CERTIFICATE)', ...ERROR_SCHEMA },
    403: { description: 'The client certificate gives no accepted identity (FST_TLS_CERT_AUTH_*)', ...ERROR_SCHEMA }
  }
  if (revocable) responses[503] = { description: 'Revocation could not be checked (FST_TLS_CERT_AUTH_REVOCATION_UNKNOWN)', ...ERROR_SCHEMA }
  return responses
}

/** The requirements with the certificate added to each: requireCertificate comes on top of the rest. */
function withCertificate (requirements: Requirement[] | undefined, scheme: string): Requirement[] {
  const base = requirements === undefined || requirements.length === 0 ? [{}] : requirements
  return base.map((requirement) => ({ ...requirement, [scheme]: [] }))
}

function guardedBy (route: RouteOptions, guard: unknown): boolean {
  return [route.onRequest, route.preParsing, route.preValidation, route.preHandler].flat().includes(guard as never)
}

/**
 * Routes guarded by `app.requireCertificate` appear in the @fastify/swagger document with their
 * 401/403 responses and, when the document declares a `mutualTLS` security scheme (OpenAPI 3.1),
 * with that requirement. The scheme's name is known only once the document is built, so the
 * document builder is wrapped: its first call learns the name and completes that document, and
 * the guarded routes' schemas carry it into every later build (YAML included).
 */
export function documentGuardedRoutes (fastify: FastifyInstance, guard: unknown, revocable: boolean): void {
  // Stryker disable next-line ArrayDeclaration: deleting a marker from a string changes nothing
  const schemas: Array<Record<string, unknown>> = []
  let scheme: string | null | undefined // undefined until the first document is built
  let globalSecurity: Requirement[] | undefined

  fastify.addHook('onRoute', (route) => {
    if (!guardedBy(route, guard)) return
    // A copy: a schema object shared with unguarded routes stays as it was.
    // Stryker disable next-line BooleanLiteral: the marker is found by its key
    const schema: Record<string, unknown> = { ...route.schema, [MARKER]: true }
    const own = schema.security as Requirement[] | undefined
    Object.defineProperty(schema, 'security', {
      enumerable: true, // a transform that copies the schema copies it too
      // Stryker disable next-line BooleanLiteral: nothing redefines it
      configurable: true,
      get: () => typeof scheme === 'string' ? withCertificate(own ?? globalSecurity, scheme) : own
    })
    schema.response = { ...guardResponses(revocable), ...(schema.response as object | undefined) }
    schemas.push(schema)
    route.schema = schema
  })

  function learn (document: OpenApiDocument): void {
    const declared = Object.entries(document.components.securitySchemes ?? {})
    scheme = declared.find(([, definition]) => definition.type === 'mutualTLS')?.[0] ?? null
    globalSecurity = document.security
    for (const schema of schemas) delete schema[MARKER]
    for (const pathItem of Object.values(document.paths)) {
      for (const operation of Object.values(pathItem)) {
        // A path item also holds `summary`, `parameters`…: only a marked operation is ours.
        if (!(MARKER in Object(operation))) continue
        delete operation[MARKER]
        if (scheme !== null) operation.security = withCertificate(operation.security ?? globalSecurity, scheme)
      }
    }
  }

  fastify.addHook('onReady', async function () {
    // The instance that owns the decorator, so that every context sees the wrapper.
    let owner: object | null = this
    while (owner !== null && !Object.hasOwn(owner, 'swagger')) owner = Object.getPrototypeOf(owner)
    if (owner === null) return
    const holder = owner as { swagger: Swagger }
    const build = holder.swagger
    holder.swagger = function swagger (options) {
      if (scheme === undefined) learn(build() as OpenApiDocument)
      return build(options)
    }
  })
}
