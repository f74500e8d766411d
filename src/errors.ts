/** Exit codes every command shares. */
export const EXIT_OK = 0;
/** A check failed: drift found by `generate --check`, findings from `validate`. */
export const EXIT_CHECK_FAILED = 1;
/** Bad usage or bad input: nothing was written. */
export const EXIT_USAGE = 2;

/**
 * An error the user can act on. The CLI prints `message` (and `hint`) without a stack trace
 * and exits with `exitCode`. `where` is "file:line" or "file: key.path" when known.
 */
export class UserError extends Error {
  readonly exitCode: number;
  readonly where?: string;
  readonly hint?: string;

  constructor(message: string, opts: { where?: string; hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'UserError';
    this.where = opts.where;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_USAGE;
  }

  /** The lines the CLI prints for this error. */
  format(): string {
    const head = this.where ? `${this.where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** An output file that exists and was not overwritten (no --force); `flag` names the option. */
export function fileExists(file: string, flag: string): UserError {
  return new UserError('file exists; not overwritten', { where: file, hint: `choose another ${flag}, or add --force` });
}
