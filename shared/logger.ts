import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs. Secrets never reach a log line: headers are not logged at all, and the usual
 * secret-bearing keys are redacted should one slip into a log object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fieldsync' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'authorization',
          '*.authorization',
          'password',
          '*.password',
          'connectionString',
          '*.connectionString',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
