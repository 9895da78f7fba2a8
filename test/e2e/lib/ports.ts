// Free TCP port on 127.0.0.1, chosen by the kernel.
//
// There is a small window between closing the probe socket and the daemon
// binding the port; acceptable for tests (callers can retry on EADDRINUSE).

import { createServer } from 'node:net'

export async function getFreePort (host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      if (addr === null || typeof addr === 'string') {
        srv.close()
        reject(new Error('could not determine a free port'))
        return
      }
      srv.close(() => resolve(addr.port))
    })
  })
}
