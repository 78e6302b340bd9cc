#!/usr/bin/env node
// The `rs-cleanup` command: runs the TypeScript CLI through tsx, so there is no build step.
const path = require('node:path');
require('tsx/cjs');
void require(path.join(__dirname, '..', 'cli', 'main.ts')).main();
