// Scenario 7: heap per stored session after a login, the plugin's against the hand-written
// login's. Each measurement is a fresh process; the two alternate, and per-pair ratios are quoted.

import { fork } from 'node:child_process'
import { join } from 'node:path'
import { median } from '../harness'
import type { ContenderName } from './apps'
import type { FootprintArgs, FootprintResult } from './footprint-worker'

export interface FootprintSummary {
  logins: number
  plugin: FootprintResult[]
  reference: FootprintResult[]
  /** Plugin bytes per session ÷ the reference's, per pair. */
  ratio: { median: number, min: number, max: number }
  maxRatio: number
  met: boolean
}

async function measure (args: FootprintArgs): Promise<FootprintResult> {
  const child = fork(join(__dirname, 'footprint-worker.ts'), [JSON.stringify(args)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  return await new Promise((resolve, reject) => {
    let result: FootprintResult | undefined
    child.on('message', (message: FootprintResult) => { result = message })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result === undefined) reject(new Error(`footprint of ${args.contender} exited (${String(code)}) without a result`))
      else resolve(result)
    })
  })
}

export async function sessionFootprint (logins: number, pairs: number): Promise<FootprintSummary> {
  const plugin: FootprintResult[] = []
  const reference: FootprintResult[] = []
  const order: Array<[ContenderName, FootprintResult[]]> = [['plugin-login', plugin], ['hook-login', reference]]
  for (let pair = 0; pair < pairs; pair++) {
    for (const [contender, results] of pair % 2 === 0 ? order : [...order].reverse()) {
      results.push(await measure({ contender, logins }))
    }
  }
  const ratios = plugin.map((result, pair) => result.bytesPerSession / reference[pair].bytesPerSession)
  const maxRatio = 1.1
  const ratio = { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
  return { logins, plugin, reference, ratio, maxRatio, met: ratio.median <= maxRatio }
}
