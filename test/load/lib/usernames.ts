/** `user000`, `user001`, ...: `count` usernames of the same width (the app's users, the certificates' CNs). */
export function usernames (count: number, prefix = 'user'): string[] {
  const width = Math.max(3, String(count - 1).length)
  return Array.from({ length: count }, (_, i) => prefix + String(i).padStart(width, '0'))
}
