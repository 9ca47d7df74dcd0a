// ESLint (flat config): the recommended JavaScript and TypeScript rules and
// React's rules of hooks, including the React Compiler's checks (setState in
// an effect, refs read during render, impure renders). `make check` runs it.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";
import { defineConfig, globalIgnores } from "eslint/config";

export default defineConfig([
  // generated.ts comes from npm run codegen; dist from the build.
  globalIgnores(["dist/", "src/api/generated.ts", "e2e/screenshots/"]),
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [js.configs.recommended, tseslint.configs.recommended, reactHooks.configs.flat.recommended],
    languageOptions: { globals: globals.browser },
    rules: {
      // A missing dependency is a stale-closure bug, not a style question.
      "react-hooks/exhaustive-deps": "error",
    },
  },
  {
    files: ["*.{js,ts}", "e2e/**/*.mjs", "scripts/**/*.mjs"],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  // The end-to-end tests hand functions to the browser (page.evaluate).
  { files: ["e2e/**/*.mjs"], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
]);
