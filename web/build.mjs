// Builds the app's two bundles into cds_service/static/smart/assets (committed, so that
// ./scripts/serve works on a fresh clone without Node). Deterministic: the same sources
// and lockfile give the same bytes (tests/browser/test_bundle.py checks the committed
// files against a fresh build). Usage: npm ci && npm run build [-- --outdir DIR]
import * as esbuild from "esbuild-wasm";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--outdir");
const outdir = flag > 0 ? path.resolve(process.argv[flag + 1])
  : path.join(here, "..", "cds_service", "static", "smart", "assets");

// fhirclient falls back to isomorphic-webcrypto (and its React Native modules) only where
// the browser has no Web Crypto; every browser this app supports has it (https or
// localhost), so the fallback is replaced by a module that says so.
const noWebcryptoFallback = {
  name: "no-webcrypto-fallback",
  setup(build) {
    build.onResolve({ filter: /^isomorphic-webcrypto$/ }, () => ({
      path: "isomorphic-webcrypto", namespace: "stub",
    }));
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: "throw new Error('This browser has no Web Crypto: open the app over https');",
      loader: "js",
    }));
  },
};

await esbuild.build({
  entryPoints: { launch: path.join(here, "src", "launch.js"), app: path.join(here, "src", "app.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  platform: "browser",
  legalComments: "eof",
  charset: "utf8",
  outdir,
  logLevel: "warning",
  plugins: [noWebcryptoFallback],
});
console.log(`built launch.js and app.js into ${outdir}`);
