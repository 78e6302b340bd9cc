/**
 * The conventions of a command line (issue 13.4), in-process: --version and
 * the version in --help; a top-level --help that lists the environment
 * variables and shows examples; `--input -` in run's help; --output
 * json|table where --json exists; shell completion that bash parses and that
 * completes commands, subcommands, options and choices when sourced.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, VERSION } from '../../cli/main';
import { EXIT } from '../../cli/exit-codes';
import { capturedIo } from '../helpers/cli-io';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const io = capturedIo({ env });
  const code = await runCli(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('command-line conventions', () => {
  it('--version prints the version from package.json; --help shows it too', async () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(await cli(['--version'])).toEqual({ code: EXIT.ok, stdout: `rs-cleanup ${VERSION}\n`, stderr: '' });
    expect(await cli(['-V'])).toMatchObject({ stdout: `rs-cleanup ${VERSION}\n` });
    expect((await cli(['--help'])).stdout).toContain(`rs-cleanup ${VERSION}: `);
  });

  it('the top-level --help lists the environment variables and shows three examples', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(EXIT.ok);
    const environment = help.stdout.split('Environment:\n')[1]!;
    for (const variable of ['TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'AWS_PROFILE', 'COGNITO_ENDPOINT', 'RS_CLEANUP_DATA_DIR', 'RS_CLEANUP_AUDIT_DIR', 'RS_CLEANUP_PROTECTED', 'RS_CLEANUP_UI_PORT', 'RS_CLEANUP_BUNDLE_CACHE', 'TEMPORAL_BIN']) {
      expect(environment, variable).toMatch(new RegExp(`^  (\\S+, )*${variable}\\b`, 'm'));
    }
    const examples = help.stdout.split('Examples:\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(examples).toHaveLength(3);
    for (const example of examples) expect(example).toMatch(/^  rs-cleanup /);
    // The global options show in each command's help.
    expect((await cli(['status', '--help'])).stdout).toMatch(/Global Options:[\s\S]*--verbose[\s\S]*--no-ui/);
  });

  it("run's --help says that --input - reads standard input", async () => {
    const help = (await cli(['run', '--help'])).stdout;
    expect(help).toMatch(/--input <file>\s+CSV [^]*'-' reads standard input/);
    expect(help).toMatch(/\| rs-cleanup run --input -/);
  });

  it('--output json is --json; --output table is the default; a bad format is a usage error', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-output-'));
    const env = { RS_CLEANUP_DATA_DIR: dataDir };
    const json = await cli(['list', '--json'], env);
    expect(json).toMatchObject({ code: EXIT.ok, stdout: '[]\n' });
    expect(await cli(['list', '--output', 'json'], env)).toEqual(json);
    expect((await cli(['list'], env)).stdout).toBe('No runs yet.\n');
    expect((await cli(['list', '--output', 'table'], env)).stdout).toBe('No runs yet.\n');
    const bad = await cli(['list', '--output', 'yaml'], env);
    expect(bad.code).toBe(EXIT.invalidInput);
    expect(bad.stderr).toMatch(/^rs-cleanup: option '--output <format>' argument 'yaml' is invalid\. Allowed choices are table, json\.\n/);
    // Every command that had --json has --output too (discover's --output is its CSV file, as before).
    for (const command of [['run'], ['status'], ['list'], ['pause'], ['resume'], ['cancel'], ['terminate'], ['set-rate'], ['report'], ['redrive'], ['restore'], ['schedule', 'create'], ['schedule', 'list'], ['schedule', 'describe'], ['schedule', 'pause']]) {
      const help = (await cli([...command, '--help'])).stdout;
      expect(help, command.join(' ')).toMatch(/--output <format>\s+table \(for a person\) or json/);
      expect(help.replace(/\s+/g, ' '), command.join(' ')).toMatch(/--json [^-]*\(the same as --output json\)/);
    }
  });

  describe('shell completion', () => {
    async function bashScript(): Promise<string> {
      const result = await cli(['completion', 'bash']);
      expect(result.code).toBe(EXIT.ok);
      const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-completion-')), 'rs-cleanup.bash');
      await writeFile(file, result.stdout);
      return file;
    }

    /** What bash offers for the command line `words` (the last one being completed), with the script sourced. */
    function complete(script: string, words: string[]): string[] {
      const program = [
        `source ${JSON.stringify(script)}`,
        `COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        '_rs_cleanup',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
      return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    }

    it('bash: the script parses, and completes commands, subcommands, options and choices when sourced', async () => {
      const script = await bashScript();
      expect(spawnSync('bash', ['-n', script]).status).toBe(0);
      expect(complete(script, ['rs-cleanup', 'st'])).toEqual(['status']);
      expect(complete(script, ['rs-cleanup', 're'])).toEqual(['redrive', 'report', 'restore', 'resume']);
      expect(complete(script, ['rs-cleanup', 'schedule', 'un'])).toEqual(['unpause']);
      expect(complete(script, ['rs-cleanup', 'run', '--in'])).toEqual(['--in-use', '--input']);
      expect(complete(script, ['rs-cleanup', 'run', '--in-use', ''])).toEqual(['delete', 'fail', 'skip']);
      expect(complete(script, ['rs-cleanup', 'status', 'some-run', '--out'])).toEqual(['--output']);
      expect(complete(script, ['rs-cleanup', 'list', '--output', ''])).toEqual(['json', 'table']);
      // Global options, wherever they are typed.
      expect(complete(script, ['rs-cleanup', 'run', '--ver'])).toEqual(['--verbose', '--verify', '--version']);
      expect(complete(script, ['rs-cleanup', 'completion', ''])).toEqual(['bash', 'zsh']);
      // A value that is not a choice: file names.
      const dir = path.dirname(script);
      expect(complete(script, ['rs-cleanup', 'run', '--input', `${dir}/rs-cleanup.b`])).toEqual([script]);
    });

    it('zsh: the script defines the completion and registers it (parsed and tried by zsh when it is installed)', async () => {
      const result = await cli(['completion', 'zsh']);
      expect(result.code).toBe(EXIT.ok);
      expect(result.stdout).toMatch(/^#compdef rs-cleanup\n/);
      expect(result.stdout).toContain('compdef _rs-cleanup rs-cleanup');
      // The same lookups as bash's: run's options are there.
      expect(result.stdout).toMatch(/'run'\) echo '[^']*--input[^']*'/);
      const zsh = spawnSync('zsh', ['--version']);
      if (zsh.error) return; // no zsh on this machine: bash's test above covers the shared lookups
      const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'rs-cleanup-completion-')), '_rs-cleanup');
      await writeFile(file, result.stdout);
      expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
      // Sourced, with compadd and _files printing what they would offer.
      const offered = (words: string[]) =>
        execFileSync(
          'zsh',
          ['-c', [
            'autoload -U compinit && compinit -u',
            `source ${JSON.stringify(file)}`,
            'compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }',
            '_files() { print FILES; }',
            `words=(${words.map((w) => JSON.stringify(w)).join(' ')}); CURRENT=${words.length}`,
            '_rs-cleanup',
          ].join('\n')],
          { encoding: 'utf8', env: { ...process.env, ZDOTDIR: path.dirname(file) } },
        ).split('\n').filter(Boolean).sort();
      expect(offered(['rs-cleanup', 'st']).filter((w) => w.startsWith('st'))).toEqual(['status']);
      expect(offered(['rs-cleanup', 'schedule', 'cr']).filter((w) => w.startsWith('cr'))).toEqual(['create']);
      expect(offered(['rs-cleanup', 'run', '--in-use', ''])).toEqual(['delete', 'fail', 'skip']);
      expect(offered(['rs-cleanup', 'run', '--input', ''])).toEqual(['FILES']);
    });

    it('a shell it does not know is a usage error', async () => {
      const fish = await cli(['completion', 'fish']);
      expect(fish.code).toBe(EXIT.invalidInput);
      expect(fish.stderr).toMatch(/Allowed choices are bash, zsh\./);
    });
  });
});
