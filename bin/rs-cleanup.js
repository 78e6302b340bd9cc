#!/usr/bin/env node
// The `rs-cleanup` command: runs the TypeScript CLI through tsx, so there is no build step.
const { existsSync } = require('node:fs');
const path = require('node:path');

// The project runs on Node >= 22 (package.json `engines`). On an older node,
// hand over to the one scripts/install-node.sh put in .tools/node, when it is there.
const MIN_NODE_MAJOR = 22;
const projectNode = path.join(__dirname, '..', '.tools', 'node', 'bin', 'node');

if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  if (existsSync(projectNode)) {
    runWith(projectNode);
  } else {
    process.stderr.write(
      `rs-cleanup: Node ${process.version} is older than ${MIN_NODE_MAJOR}; run 'npm run bootstrap' to install Node ${MIN_NODE_MAJOR} into .tools/node, or install Node ${MIN_NODE_MAJOR} LTS.\n`,
    );
    start();
  }
} else {
  start();
}

function start() {
  // Both of tsx's loaders: the CLI loads each command's module with import() when it runs.
  require('tsx/cjs/api').register();
  require('tsx/esm/api').register();
  void require(path.join(__dirname, '..', 'cli', 'main.ts')).main();
}

/** Runs this same command on `node` and ends as it ends: same exit code, or the same signal. */
function runWith(node) {
  const { spawn } = require('node:child_process');
  const child = spawn(node, [...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches both processes (one process group) and the CLI handles it;
  // a second SIGINT from here would cut its clean stop short.
  process.on('SIGINT', () => {});
  // SIGTERM and SIGHUP may be sent to this process alone (a supervisor, `kill`): pass them on.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`rs-cleanup: cannot run ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}
