// Bun's `with { type: 'file' }` imports give the embedded file's path (under /$bunfs/ in a compiled binary).
declare module '@scalar/api-reference/browser/standalone.js' {
  const path: string;
  export default path;
}
