// Bundles src/ into dist/: one minified ES module, one stylesheet, index.html.
// Output is deterministic (no hashes, no timestamps), so CI can rebuild and diff it.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
const common = { bundle: true, minify: true, legalComments: 'eof', logLevel: 'warning' };
await esbuild.build({ ...common, entryPoints: ['src/main.js'], format: 'esm', target: 'es2022', outfile: 'dist/app.js' });
await esbuild.build({ ...common, entryPoints: ['src/style.css'], outfile: 'dist/app.css' });
copyFileSync('src/index.html', 'dist/index.html');
copyFileSync('src/favicon.svg', 'dist/favicon.svg');
