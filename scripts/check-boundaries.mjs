// Architecture rules that a linter cannot express simply:
// 1. only src/runtime/node/ may import Node built-ins or better-sqlite3 (the Workers runtime needs the rest free of them);
// 2. src/api/ never imports src/store/ except for types (routes call the domain, never SQL).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const nodeOnly = /from\s+['"](node:[^'"]+|better-sqlite3|fs|path|os|child_process|http|net|crypto|url|util|stream)['"]/;
const problems = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) walk(file);
    else if (file.endsWith('.ts')) check(relative(root, file), readFileSync(file, 'utf8'));
  }
}

function check(file, text) {
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!file.startsWith('src/runtime/node/') && nodeOnly.test(line)) {
      problems.push(`${file}:${i + 1}: Node-only import outside src/runtime/node: ${line.trim()}`);
    }
    if (file.startsWith('src/api/') && /from\s+['"][./]+\/store\//.test(line) && !/^import type /.test(line.trim())) {
      problems.push(`${file}:${i + 1}: src/api must not import src/store (call the domain instead): ${line.trim()}`);
    }
  });
}

walk(join(root, 'src'));
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('boundaries: ok');
