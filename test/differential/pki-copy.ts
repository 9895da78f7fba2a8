// The run's PKI, with the files the proxies read copied into a directory of this test's own.
// Other tap runs on the same machine make `.tap/pki` afresh when they start; a proxy started
// while that happens would find no file, and a PKI read half before and half after would not
// chain. The copy is written from the PEMs read once and checked to chain, so neither can happen.

import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { sharedPki, type Pki } from '../helpers/pki'

function chains (pki: Pki): boolean {
  const root = new X509Certificate(pki.rootCa.certPem)
  const intermediate = new X509Certificate(pki.intermediateCa.certPem)
  const server = new X509Certificate(pki.server.certPem)
  return intermediate.verify(root.publicKey) && server.verify(intermediate.publicKey) &&
    pki.caBundlePem === pki.rootCa.certPem + pki.intermediateCa.certPem &&
    pki.server.chainPem === pki.server.certPem + pki.intermediateCa.certPem &&
    intermediate.checkPrivateKey(createPrivateKey(pki.intermediateCa.keyPem)) && server.checkPrivateKey(createPrivateKey(pki.server.keyPem))
}

/** The shared PKI, its proxy-facing files in a new temp dir; `cleanup` removes that dir. */
export async function isolatedPki (): Promise<Pki> {
  let pki: Pki | undefined
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const candidate = await sharedPki()
      if (chains(candidate)) {
        pki = candidate
        break
      }
    } catch {}
    await sleep(500) // another run is replacing it
  }
  if (pki === undefined) throw new Error('the shared PKI did not settle: another run keeps replacing it')
  const dir = await mkdtemp(join(tmpdir(), 'differential-pki-'))
  const file = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name)
    await writeFile(path, text, { mode: 0o644 })
    return path
  }
  return {
    ...pki,
    dir,
    caBundle: await file('ca-bundle.pem', pki.caBundlePem),
    rootCa: { ...pki.rootCa, cert: await file('root-ca.crt', pki.rootCa.certPem), key: '' },
    intermediateCa: { ...pki.intermediateCa, cert: await file('intermediate-ca.crt', pki.intermediateCa.certPem), key: '' },
    server: {
      ...pki.server,
      cert: await file('server.crt', pki.server.certPem),
      key: await file('server.key', pki.server.keyPem),
      chain: await file('server-chain.pem', pki.server.chainPem)
    },
    cleanup: async () => { await rm(dir, { recursive: true, force: true }) }
  }
}
