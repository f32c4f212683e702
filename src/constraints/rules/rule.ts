// What every constraint rule gives the solver, in one place per rule (one file each, listed in
// index.ts): the atom it makes from a device's profile, how the devices sharing a buffer merge it,
// whether a smaller size lifts it, and what explanations and fixes say about it. The solver's
// merge (problem.ts), its relaxation tables (relax.ts), explanations and fixes iterate over the
// table; the independent checker (solver/verify.ts) and the brute-force oracle do not: they restate
// each rule by hand, which is how the table is proven right.

import type { Device, DeviceAccess, FormatRule, Request } from '../model.js';

/** How the devices sharing a buffer combine their values. */
export type Merge =
  /** alignments: the least common multiple (neutral 1) */
  | 'lcm'
  /** limits: the smallest (neutral Infinity) */
  | 'min'
  /** flags: any device that needs it (1), else 0 */
  | 'any';

export const NEUTRAL: Readonly<Record<Merge, number>> = { lcm: 1, min: Infinity, any: 0 };

export type AtomValue = string | number | boolean | readonly string[];

/** A device's stated value, as an explanation shows it. */
export interface Fact {
  readonly device: string;
  readonly format: string | undefined;
  readonly value: AtomValue;
  /** "(profile.yaml:12 devices[0].formats.NV12)". */
  readonly where: string;
}

/** What an explanation knows besides the fact: the request, and the other facts of the conflict's core. */
export interface AdviceContext {
  readonly request: Request;
  readonly core: readonly { readonly constraint: string; readonly device?: string }[];
}

interface RuleBase<Name extends string> {
  /** The atom's constraint name, and the profile field it is read from. */
  readonly name: Name;
  /** What it means for a conflict no request change resolves: the hardware fact, for people. */
  advice(fact: Fact, context: AdviceContext): string;
  /**
   * The atom says how the request uses the buffer as much as what the device can do: a user can
   * change it (Atom.changeable), so explanations blame it late.
   */
  readonly statedByRequest?: true;
  /** The value for people when plain String() will not do (byte counts with units). */
  valueText?(value: AtomValue): string;
}

/**
 * A number a device states for one of its formats (an alignment, a limit, a flag), merged across
 * the devices sharing the buffer into the layout rules of that format (solver/layout.ts).
 */
export interface LayoutRule<Name extends string = string> extends RuleBase<Name> {
  readonly scope: 'format';
  readonly merge: Merge;
  /** The device's value for the format, NEUTRAL[merge] when it restricts nothing. */
  read(rule: FormatRule): number;
  /** The atom's value (when read() is not neutral): a flag's is true. */
  atomValue?(value: number): AtomValue;
  /** A relaxed size ("some smaller size", 1x1) lifts it: a bound on the size. */
  readonly liftedBySize: boolean;
  /** A limit a smaller size answers: why a request is too large for it, and how far the size may grow. */
  readonly sizeBound?: {
    /** Why width x height is too large for the rule, or undefined when it is not. */
    exceeded(rule: FormatRule, width: number, height: number): string | undefined;
    /** The largest factor the request's size may be scaled by (1 or more: no bound). */
    scale(rule: FormatRule, width: number, height: number): number;
  };
  /** Short text for device listings ("pitch x64"), when the value restricts anything. */
  brief?(value: number): string;
}

/** A number a device states for every buffer it uses, merged into what a heap must give (or the layout's size alignment). */
export interface DeviceRule<Name extends string = string> extends RuleBase<Name> {
  readonly scope: 'device';
  readonly merge: Merge;
  /** Where the merged value goes: the layout's rules (solver/layout.ts) or what a heap must give (solver/problem.ts). */
  readonly target: 'layout' | 'heap';
  /** The value as merged (a DMA limit in bytes), NEUTRAL[merge] when it restricts nothing. */
  read(device: Device): number;
  /** The atom's value, when read() is not neutral (a DMA limit's atom is its number of bits). */
  atomValue?(device: Device): AtomValue;
  /** Holds only for a device without an IOMMU (it sees physical addresses). */
  readonly physical: boolean;
  /** A relaxed size ("some smaller size") lifts it: a bound on the size. */
  readonly liftedBySize: boolean;
  /** A limit a smaller size answers: why the device refuses the request's buffers, when it bounds them. */
  readonly sizeBound?: { exceeded(device: Device): string | undefined };
}

/**
 * A rule the search is built around (which formats, modifiers and uses a device takes, whether it
 * needs contiguous, reachable or protected memory): its merge is the solver's own (problem.ts
 * intersects format and modifier lists and judges heaps), the table gives its atom and its words.
 */
export interface StructuralRule<Name extends string = string> extends RuleBase<Name> {
  readonly scope: 'structural';
  /** Per format rule (modifiers, access) or per device (formats, iommu, heaps, protected). */
  readonly per: 'format' | 'device';
  /** The atom's value, or undefined when the device states nothing that restricts. */
  atom(device: Device, rule: FormatRule | undefined, need: DeviceAccess | undefined): AtomValue | undefined;
}

export type ConstraintRule = LayoutRule | DeviceRule | StructuralRule;
