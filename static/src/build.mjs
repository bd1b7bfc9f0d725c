// Minifies the widget's readable source (static/src/earshot.js) into static/earshot.js with terser,
// pinned in package.json beside this file. --check: build in memory and fail if the committed
// static/earshot.js differs. Run through scripts/build-widget.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, 'earshot.js');
const target = path.join(here, '..', 'earshot.js');

const { code } = await minify(fs.readFileSync(source, 'utf8'), {
  ecma: 2017,
  compress: { passes: 2 },
  mangle: true,
  format: {
    comments: false,
    preamble: '// earshot survey widget (docs/widget.md), minified from static/src/earshot.js by scripts/build-widget',
  },
});
const built = code + '\n';

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (committed !== built) {
    console.error('static/earshot.js is not the build of static/src/earshot.js: run scripts/build-widget');
    process.exit(1);
  }
  console.log('static/earshot.js matches its build from static/src/earshot.js');
} else {
  fs.writeFileSync(target, built);
  console.log(`static/earshot.js: ${Buffer.byteLength(built)} bytes`);
}
