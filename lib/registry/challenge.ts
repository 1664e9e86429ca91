// WWW-Authenticate challenges (RFC 7235): one header may carry several
// challenges, each a scheme and comma-separated auth-params whose values are
// tokens or quoted strings:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"
//   Basic realm="Registry Realm", Bearer realm="…"

export interface Challenge {
  /** Lowercase: "bearer", "basic". */
  scheme: string;
  /** Parameter names lowercased. A token68 credential is kept as params[""]. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let pos = 0;
  const skipSpaces = () => {
    while (pos < header.length && (header[pos] === ' ' || header[pos] === '\t')) pos++;
  };
  const skipSeparators = () => {
    while (pos < header.length && /[\s,]/.test(header[pos]!)) pos++;
  };
  const token = (): string => {
    const start = pos;
    while (pos < header.length && TOKEN.test(header[pos]!)) pos++;
    return header.slice(start, pos);
  };
  const quoted = (): string => {
    pos++; // opening quote
    let value = '';
    while (pos < header.length && header[pos] !== '"') {
      if (header[pos] === '\\' && pos + 1 < header.length) pos++;
      value += header[pos];
      pos++;
    }
    pos++; // closing quote (or end)
    return value;
  };

  skipSeparators();
  while (pos < header.length) {
    const scheme = token();
    if (scheme === '') {
      pos++; // not a token character: skip it rather than loop forever
      skipSeparators();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipSpaces();
    // auth-params (or one token68) until the next challenge's scheme.
    for (;;) {
      const mark = pos;
      skipSeparators();
      if (pos >= header.length) break;
      const name = token();
      skipSpaces();
      if (name === '' || header[pos] !== '=') {
        pos = mark; // the next challenge starts here
        break;
      }
      // token68: "abc==" — the '=' run ends the value.
      let eqEnd = pos;
      while (header[eqEnd] === '=') eqEnd++;
      const after = header.slice(eqEnd).trimStart();
      if (eqEnd - pos > 1 || after === '' || after.startsWith(',')) {
        if (Object.keys(challenge.params).length === 0) {
          challenge.params[''] = name + header.slice(pos, eqEnd);
          pos = eqEnd;
          continue;
        }
      }
      pos++; // '='
      skipSpaces();
      challenge.params[name.toLowerCase()] = header[pos] === '"' ? quoted() : token();
      skipSpaces();
    }
    skipSeparators();
  }
  return out;
}

/** The challenge skiff answers: Bearer if offered, else Basic. */
export function preferredChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}
