import { describe, expect, it } from 'vitest';
import { describeError, redactSecrets } from '../../shared/redact.js';

describe('redactSecrets', () => {
  it('removes keys, passwords, signatures and bearer tokens', () => {
    const text =
      'AccountKey=abc123==;x postgres://user:s3cret@host:5432/db ?sv=2024&sig=ZZZ%2F Bearer eyJ.abc.def Password=pw;';
    const out = redactSecrets(text);
    for (const secret of ['abc123', 's3cret', 'ZZZ', 'eyJ.abc.def', 'pw;']) expect(out).not.toContain(secret);
    expect(out).toContain('user:[redacted]@host');
  });

  it('describes errors by name, code and redacted message', () => {
    const error = Object.assign(new Error('login failed: Password=topsecret'), { code: '28P01' });
    expect(describeError(error)).toEqual({
      name: 'Error',
      code: '28P01',
      message: 'login failed: Password=[redacted]',
    });
  });
});
