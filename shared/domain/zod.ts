// Zod as the code the deployed functions load has it: the mini build, with the English messages
// the classic build sets up for itself. It puts 30 to 39 KB in a function's bundle where the
// classic build put 95 to 98, and its schemas cost less to build as a module loads: a shorter cold
// start (README Performance).
// Every schema a function reaches is written with it (`import * as z from '../domain/zod.ts'`;
// test/unit/architecture.test.ts checks): checks are `.check(z.minLength(1))`, wrappers are
// functions (`z.optional(s)`, `z._default(s, v)`), a strict object is `z.strictObject({...})`.
// The CLI's own schemas (the deployment config) keep the classic build.

import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
