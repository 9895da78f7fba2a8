import { request } from 'node:http'

export interface HttpResponse { status: number, headers: Record<string, string | string[] | undefined>, body: string }

/** A plain HTTP request over a real socket, from a chosen local address. */
export function httpGet (url: string, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, localAddress }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}
