// Lint and formatting, configured the way Effect-TS/examples does: typescript-eslint's
// recommended rules, dprint formatting through @effect/eslint-plugin (120 columns, no semicolons),
// sorted imports and no duplicate imports. `npm run format` applies the fixable ones.
import * as effect from "@effect/eslint-plugin"
import js from "@eslint/js"
import importPlugin from "eslint-plugin-import"
import simpleImportSort from "eslint-plugin-simple-import-sort"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "manifests/**", "**/*.md"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...effect.configs.dprint,
  {
    files: ["**/*.ts", "**/*.mjs"],
    plugins: { import: importPlugin, "simple-import-sort": simpleImportSort },
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
    rules: {
      "no-fallthrough": "off",
      "no-undef": "off", // TypeScript checks names; the one .mjs file runs under Node
      "object-shorthand": "error",
      "import/first": "error",
      "import/newline-after-import": "error",
      "import/no-duplicates": "error",
      "simple-import-sort/imports": "error",
      "simple-import-sort/exports": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-object-type": "off", // `{}` is how Effect spells a case with no fields
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force",
          // simple-import-sort orders imports; two sorters would fight
          "module.sortImportDeclarations": "maintain",
          "module.sortExportDeclarations": "maintain"
        }
      }]
    }
  }
)
