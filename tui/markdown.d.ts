/** The docs carried inside the build (esbuild's text loader; vitest.config.ts does the same). */
declare module '*.md' {
  const text: string;
  export default text;
}
