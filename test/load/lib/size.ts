// How big the load tests run. `npm test` runs a slice that fits beside the other tests;
// `npm run test:load` sets LOAD_SIZE=full for the sizes of the issue.

export const FULL = process.env.LOAD_SIZE === 'full'

export const SIZE = FULL
  ? { logins: 2000, users: 200, concurrency: 100, raceRounds: 10 }
  : { logins: 200, users: 50, concurrency: 50, raceRounds: 3 }
