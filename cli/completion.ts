/**
 * `rs-cleanup completion bash|zsh`: a shell completion script made from the
 * command line's own declarations (cli/main.ts), so that it knows exactly the
 * commands, subcommands, options and option choices there are.
 *
 * Both scripts share four lookup functions, written as `case` statements that
 * bash and zsh both read: the subcommands, options, options that take a
 * value, and the choices of an option, each by command path ("", "run",
 * "schedule create"). Global options count for every command. A value that is
 * not a choice completes as a file name.
 */
import type { Command, Option } from 'commander';
import { EXIT } from './exit-codes';
import type { CommandIo } from './command-io';

/** The program and every command under it. */
export function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap((c) => allCommands(c))];
}

export function completionCommand(shell: 'bash' | 'zsh', program: Command, io: CommandIo): Promise<number> {
  io.stdout.write(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
  return Promise.resolve(EXIT.ok);
}

/** The path of `command` below the program: "" for the program, "schedule create". */
function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function flags(option: Option): string[] {
  return [option.short, option.long].filter((flag): flag is string => Boolean(flag));
}

/** Shell-safe: the words are commander names and flags, but quote them anyway. */
function quoted(words: string[]): string {
  return `'${words.join(' ').replace(/'/g, `'\\''`)}'`;
}

function lookups(program: Command): string {
  const commands = allCommands(program);
  const table = (name: string, rows: [string, string[]][]) =>
    [
      `${name}() {`,
      '  case "$1" in',
      ...rows.filter(([, words]) => words.length > 0).map(([key, words]) => `    ${quoted([key])}) echo ${quoted(words)} ;;`),
      '  esac',
      '}',
    ].join('\n');
  const options = (command: Command) => [...command.options.flatMap(flags), '--help'];
  const takesValue = (option: Option) => option.required || option.optional;
  return [
    table(
      '_rs_cleanup_subcommands',
      commands.map((c) => [pathOf(c), [...c.commands.map((sub) => sub.name()), ...(c === program ? ['help'] : [])]]),
    ),
    table('_rs_cleanup_options', commands.map((c) => [pathOf(c), options(c)])),
    table('_rs_cleanup_value_options', commands.map((c) => [pathOf(c), c.options.filter(takesValue).flatMap(flags)])),
    // Keyed "path|flag"; an argument's choices (completion <shell>) under "path|".
    table(
      '_rs_cleanup_choices',
      commands.flatMap((c) => [
        ...c.options.filter((o) => o.argChoices).flatMap((o) => flags(o).map((flag): [string, string[]] => [`${pathOf(c)}|${flag}`, o.argChoices!])),
        ...c.registeredArguments.filter((a) => a.argChoices).map((a): [string, string[]] => [`${pathOf(c)}|`, a.argChoices!]),
      ]),
    ),
  ].join('\n\n');
}

function bashCompletion(program: Command): string {
  return `# bash completion for rs-cleanup. Load it with: source <(rs-cleanup completion bash)
${lookups(program)}

_rs_cleanup() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmdpath='' word i subs choices
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    subs=" $(_rs_cleanup_subcommands "$cmdpath") "
    if [[ $word != -* && $subs == *" $word "* ]]; then cmdpath=\${cmdpath:+$cmdpath }$word; fi
  done
  if [[ $prev == -* && " $(_rs_cleanup_value_options "$cmdpath") $(_rs_cleanup_value_options '') " == *" $prev "* ]]; then
    choices=$(_rs_cleanup_choices "$cmdpath|$prev")
    if [[ -n $choices ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_rs_cleanup_options "$cmdpath") $(_rs_cleanup_options '')" -- "$cur")
    return 0
  fi
  subs=$(_rs_cleanup_subcommands "$cmdpath")
  choices=$(_rs_cleanup_choices "$cmdpath|")
  if [[ -n $subs || -n $choices ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs $choices" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
  return 0
}
complete -o filenames -F _rs_cleanup rs-cleanup
`;
}

function zshCompletion(program: Command): string {
  // `path` is PATH's array in zsh: the command path is `cmdpath` in both scripts.
  return `#compdef rs-cleanup
# zsh completion for rs-cleanup. Save it as _rs-cleanup in a directory of $fpath
# (rs-cleanup completion zsh > "\${fpath[1]}/_rs-cleanup"), or load it with:
# source <(rs-cleanup completion zsh)
${lookups(program)}

_rs-cleanup() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]} cmdpath='' word i subs choices opts
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    subs=" $(_rs_cleanup_subcommands "$cmdpath") "
    if [[ $word != -* && $subs == *" $word "* ]]; then cmdpath=\${cmdpath:+$cmdpath }$word; fi
  done
  if [[ $prev == -* && " $(_rs_cleanup_value_options "$cmdpath") $(_rs_cleanup_value_options '') " == *" $prev "* ]]; then
    choices=$(_rs_cleanup_choices "$cmdpath|$prev")
    if [[ -n $choices ]]; then compadd -- \${=choices}; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    opts="$(_rs_cleanup_options "$cmdpath") $(_rs_cleanup_options '')"
    compadd -- \${=opts}
    return
  fi
  subs="$(_rs_cleanup_subcommands "$cmdpath") $(_rs_cleanup_choices "$cmdpath|")"
  if [[ -n \${subs// /} ]]; then compadd -- \${=subs}; else _files; fi
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _rs-cleanup "$@"
else
  compdef _rs-cleanup rs-cleanup
fi
`;
}
