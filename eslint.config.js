// ESLint (flat config) for telehub's browser code: `make lint` runs
// `npx eslint web/static/js tests/js`. The recommended rules, plus a few that catch real
// bugs in code without a compiler: unused names, == instead of ===, accidental globals,
// let that is never reassigned.
import js from "@eslint/js";
import globals from "globals";

const bugs = {
  "no-unused-vars": "error",
  eqeqeq: ["error", "always"],
  "no-implicit-globals": "error",
  "prefer-const": "error",
  "no-var": "error",
  "no-shadow-restricted-names": "error",
  "no-use-before-define": ["error", { functions: false, classes: false, variables: false }],
};

export default [
  { ignores: ["node_modules/", ".venv/", "var/", "build/"] },
  js.configs.recommended,
  {
    files: ["web/static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: { ...globals.browser } },
    rules: bugs,
  },
  {
    // The end-to-end encryption worker runs in a DedicatedWorkerGlobalScope.
    files: ["web/static/js/e2ee/worker.js"],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: { ...globals.node } },
    rules: bugs,
  },
];
