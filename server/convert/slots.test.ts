import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from './slots.js';

test('at most `size` holders; waiters are served in order', async () => {
  const slots = new Slots(1);
  const order: number[] = [];
  const first = await slots.acquire();
  const second = slots.acquire().then((release) => {
    order.push(2);
    return release;
  });
  const third = slots.acquire().then((release) => {
    order.push(3);
    release();
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, []);
  first();
  (await second)();
  await third;
  assert.deepEqual(order, [2, 3]);
});

test('an aborted waiter leaves the line and the slot goes to the next', async () => {
  const slots = new Slots(1);
  const held = await slots.acquire();
  const controller = new AbortController();
  const aborted = slots.acquire(controller.signal);
  const next = slots.acquire();
  controller.abort(new Error('gone'));
  await assert.rejects(aborted, /gone/);
  held();
  held(); // releasing twice frees only once
  (await next)();
  await assert.rejects(slots.acquire(AbortSignal.abort(new Error('early'))), /early/);
});
