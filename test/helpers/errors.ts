/**
 * The error a piece of code throws or a promise rejects with, for tests that look at it further.
 * Each helper fails the test when nothing is thrown, so a check on the error never passes by
 * default.
 */
import { expect } from 'vitest';
import { ValidationError } from '../../lib/core/errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: a constructor of any signature
type ErrorClass<E> = abstract new (...args: any[]) => E;

/** What `fn` throws; fails the test if it returns. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, nothing was thrown');
}

/** What `promise` rejects with; fails the test if it resolves. */
export async function caughtAsync(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/** The error `promise` rejects with, checked to be an instance of `type` (Error by default). */
export async function rejection(promise: Promise<unknown>): Promise<Error>;
export async function rejection<E>(promise: Promise<unknown>, type: ErrorClass<E>): Promise<E>;
export async function rejection(promise: Promise<unknown>, type: ErrorClass<unknown> = Error) {
  const error = await caughtAsync(promise);
  expect(error).toBeInstanceOf(type);
  return error;
}

/** The ValidationError `fn` throws; fails the test on any other outcome. */
export function validationError(fn: () => unknown): ValidationError {
  const error = caught(fn);
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

/** The fields of the issues of the ValidationError `fn` throws. */
export function fieldsOf(fn: () => unknown): string[] {
  return validationError(fn).issues.map((i) => i.field);
}

/** The issues of the ValidationError `fn` throws, as `field: message` lines. */
export function issuesOf(fn: () => unknown): string[] {
  return validationError(fn).issues.map((i) => `${i.field}: ${i.message}`);
}
