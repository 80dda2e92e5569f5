import { redactUrl } from '@mailroom/core';

/**
 * The secrets a transport URL carries: its password, and for NATS a token given as the user,
 * both as written and percent-decoded. Empty for a URL without credentials or a plain path.
 */
export function secretsOf(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const match = /\/\/[^:@/]*:([^@/]+)@/.exec(url);
    return match?.[1] ? [match[1]] : [];
  }
  const secrets = [parsed.password];
  if (!parsed.password && parsed.protocol.startsWith('nats')) secrets.push(parsed.username);
  return secrets.filter((s) => s.length > 0).flatMap((s) => [s, safeDecode(s)]);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Text safe to print: every URL replaced by its redacted form (`redactUrl`) and every known
 * secret replaced by `***`, wherever it appears (error messages of client libraries included).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (match) => {
    const [, url = match, trailing = ''] = /^(.*?)([.,:;!?)\]]*)$/s.exec(match) ?? [];
    return redactUrl(url) + trailing;
  });
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}
