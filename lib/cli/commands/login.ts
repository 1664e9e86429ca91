import type { CommandSpec, ParsedArgs } from '../args.js';
import { flagBool, flagString } from '../args.js';
import { SkiffError } from '../../errors.js';

export const spec: CommandSpec = {
  name: 'login',
  summary: 'Log in to a container registry',
  usage: '[OPTIONS] [REGISTRY]',
  positionals: 'interspersed',
  maxPositionals: 1,
  flags: [
    { name: 'username', short: 'u', type: 'string', placeholder: 'USER', describe: 'Username' },
    { name: 'password', short: 'p', type: 'string', placeholder: 'PASSWORD', describe: 'Password (other users can see it: prefer --password-stdin)' },
    { name: 'password-stdin', type: 'boolean', describe: 'Read the password from stdin' },
    { name: 'tls-verify', type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates (false: allow plain HTTP and any certificate)' },
    { name: 'authfile', type: 'string', placeholder: 'FILE', describe: 'Where to save the credentials (default: $XDG_CONFIG_HOME/skiff/auth.json)' },
  ],
};

export async function run(args: ParsedArgs): Promise<number> {
  const { loginRegistry, login, savedCredentials, verifyCredentials } = await import('../../registry/login.js');
  const authFile = flagString(args, 'authfile');
  const target = {
    registry: loginRegistry(args.positionals[0] ?? 'docker.io'),
    tlsVerify: flagBool(args, 'tls-verify'),
    ...(authFile !== undefined ? { authFile } : {}),
  };
  let username = flagString(args, 'username');
  let password = flagString(args, 'password');
  const passwordStdin = flagBool(args, 'password-stdin');
  if (password !== undefined && passwordStdin) throw new SkiffError('--password and --password-stdin are mutually exclusive');
  if (passwordStdin && username === undefined) throw new SkiffError('--password-stdin needs --username');
  if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (passwordStdin) password = await readStdin();

  if (username === undefined && password === undefined) {
    // Already logged in? Check what is saved before asking for anything.
    const saved = await savedCredentials(target);
    if (saved !== undefined) {
      process.stderr.write(`Authenticating with existing credentials for ${target.registry}\n`);
      try {
        await verifyCredentials(target, saved);
        process.stdout.write(`Existing credentials are valid. Already logged in to ${target.registry}\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof SkiffError) || !process.stdin.isTTY) throw err;
        process.stderr.write(`Existing credentials are invalid (${err.message}): enter a username and password\n`);
      }
    }
  }
  const interactive = process.stdin.isTTY === true;
  if (username === undefined) {
    if (!interactive) throw new SkiffError('cannot prompt for a username without a terminal: use --username and --password-stdin');
    username = await prompt('Username: ', true);
  }
  if (password === undefined) {
    if (!interactive) throw new SkiffError('cannot prompt for a password without a terminal: use --password-stdin');
    password = await prompt('Password: ', false);
  }
  await login(target, username, password);
  process.stdout.write('Login Succeeded!\n');
  return 0;
}

/** All of stdin, without the one trailing newline a shell or `echo` adds. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** One line from the terminal; with echo off, the terminal is in raw mode and editing is ours. */
function prompt(question: string, echo: boolean): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err?: SkiffError) => {
      stdin.off('data', onData);
      if (!echo) {
        stdin.setRawMode(false);
        process.stderr.write('\n');
      }
      stdin.pause();
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new SkiffError('login cancelled', 130));
        if (ch === '\u0004') {
          if (line === '') return done();
          continue;
        }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else if (ch === '\u0015') line = '';
        else line += ch;
      }
    };
    if (!echo) stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}
