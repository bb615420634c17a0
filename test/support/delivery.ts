import fc from 'fast-check';

/**
 * How a queue may deliver `n` events: every index at least once, some more than once (redelivery), in any
 * order, cut into chunks. For order-independence properties of the planner (fast-check).
 */
export const deliveryArb = (n: number): fc.Arbitrary<number[][]> =>
  fc
    .array(fc.nat({ max: n - 1 }), { maxLength: n })
    .chain((extra) => {
      const all = [...Array.from({ length: n }, (_, i) => i), ...extra];
      return fc.tuple(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }),
      );
    })
    .map(([order, cuts]) => {
      const chunks: number[][] = [[]];
      order.forEach((i, k) => {
        if (k > 0 && cuts[k]) chunks.push([]);
        chunks.at(-1)?.push(i);
      });
      return chunks;
    });
