/**
 * The one table of policy ids. A boundary-tag engine writes its policy id in its region's header
 * (word 3, after the magic, the alignment and the first block), so that `attach` refuses a region
 * formatted by another policy or with other options. One encoding for every policy:
 *
 * ```
 *  bits 31……24   23……16        15…………………………0
 *       0        policy number  the options that change placement or the metadata's layout
 * ```
 *
 * @module
 */

/** Every boundary-tag policy by its strategy name, each with a number of its own. */
export const POLICY_NUMBERS = {
  "first-fit": 1,
  "first-fit-lifo": 2,
  "next-fit": 3,
  "best-fit": 4,
  segregated: 5,
  tlsf: 6,
} as const;

/** The name of a boundary-tag policy in {@link POLICY_NUMBERS}. */
export type PolicyName = keyof typeof POLICY_NUMBERS;

/** Bits of a policy id that hold the policy's options. */
export const POLICY_OPTION_BITS = 16;

/** The policy id of `policy` with its options packed into `options` (0 to 2^16 − 1). */
export function policyId(policy: PolicyName, options = 0): number {
  if (!Number.isInteger(options) || options < 0 || options >= 1 << POLICY_OPTION_BITS) {
    throw new RangeError(
      `policyId: the options of ${policy} must pack into an integer from 0 to ${(1 << POLICY_OPTION_BITS) - 1}, got ${options}`,
    );
  }
  return (POLICY_NUMBERS[policy] << POLICY_OPTION_BITS) | options;
}
