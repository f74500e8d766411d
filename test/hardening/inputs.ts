// Shared by the hardening tests: hostile values, and what a stack trace looks like.
import fc from 'fast-check';

/** A stack trace or Node's own error text, anywhere in the output. */
export const STACK_TRACE = /\n {4}at |TypeError|RangeError|ReferenceError|node:internal|Maximum call stack/;

/** Strings of the shapes that broke the tool before: spaces, '~', line breaks, control characters, lone surrogates, long runs. */
export const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '/var/core dumps', '/var/core~', '/a b', '~', '', ' ', '\n', 'a\nb', 'a\rb', '\u0000', '\u0007x', '\uD800', 'x\uDFFFy', '\uFFFE',
    '../..', '/', '//', '/./', '1e21', '-1', '0x', '0xZZ', 'CONFIG_CONFIG_X', 'CONFIG_', '"', "'", '\\', '*a', '&a', '<<', '${x}', '`x`', '$(x)',
  ),
  fc.tuple(fc.constantFrom('a', '/a', 'a/', ' ', '~', '0', 'CONFIG_'), fc.integer({ min: 100, max: 10_000 }), fc.constantFrom('', ' ', '~', '!', '\n'))
    .map(([unit, n, tail]) => unit.repeat(n) + tail),
);

