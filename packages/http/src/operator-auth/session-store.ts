import { randomBytes } from 'node:crypto';

/** One operator session: its secret id (the cookie value), a public reference for logs, and when it ends. */
export interface OperatorSession {
  /** The cookie value: 256 random bits. Never logged. */
  readonly id: string;
  /** A short random reference that names the session in audit entries (`session:<ref>`). */
  readonly ref: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * The operator sessions of one server process, in memory: created on login with an absolute
 * lifetime, found by their cookie value only while unexpired, deleted on logout. Expired sessions
 * are dropped as they are met and on every login. A restarted process forgets every session (the
 * operator logs in again).
 */
export class SessionStore {
  private readonly sessions = new Map<string, OperatorSession>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates a session valid for the store's lifetime from now. */
  create(): OperatorSession {
    this.prune();
    const createdAt = this.now();
    const session: OperatorSession = {
      id: randomBytes(32).toString('base64url'),
      ref: randomBytes(6).toString('hex'),
      createdAt,
      expiresAt: createdAt + this.ttlMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The unexpired session with this cookie value, if any. */
  find(id: string | undefined): OperatorSession | undefined {
    if (id === undefined || id === '') return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Ends the session with this cookie value; true when there was one. */
  delete(id: string | undefined): boolean {
    return id !== undefined && this.sessions.delete(id);
  }

  /** How many sessions are held (expired ones not yet dropped included). */
  get size(): number {
    return this.sessions.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}
