/** Removes credentials that can ride along in error messages (connection strings, SAS signatures, URLs). */
export function redactSecrets(text: string): string {
  return text
    .replace(/(AccountKey|SharedAccessKey|Password|pwd|sig|secret|token)=([^;&\s"']+)/gi, '$1=[redacted]')
    .replace(/\/\/([^:/@\s]+):([^@/\s]+)@/g, '//$1:[redacted]@')
    .replace(/Bearer\s+[A-Za-z0-9\-_.~+/]+=*/g, 'Bearer [redacted]');
}

/** A loggable summary of an error: name, code and redacted message, never a stack with secrets. */
export function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: redactSecrets(error.message),
      ...(code !== undefined ? { code: String(code) } : {}),
    };
  }
  return { name: 'NonError', message: redactSecrets(String(error)) };
}
