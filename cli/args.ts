/**
 * Command-line options → a validated TrainConfig, with no GPU and no browser: every bad input is
 * refused here with one line naming the option, its value and what is allowed.
 */
import { ConfigError, ShapeError } from '../src/errors.ts';
import { KERNEL_CHOICE_HELP, KERNEL_CHOICES, type KernelChoice } from '../src/gpu/target.ts';
import { checkShapes } from '../src/layers/build.ts';
import { PRESETS, presetConfig } from '../src/presets/index.ts';
import { FULL_KEEP, STUDY_KEEP, type TrainConfig } from '../src/train/config.ts';
import type { KernelsRan } from '../src/train/result.ts';
import { ACTIVATIONS, validateConfig } from '../src/train/validate.ts';
import { ineffectiveOption } from './effect.ts';

/** A bad command line: the CLI prints the message alone and exits 2. */
export class UsageError extends Error {}

export type OptionKind = 'int' | 'number' | 'string' | 'flag';

/** A command's options: each one's value kind and its line of help. */
export type OptionTable = Record<string, { kind: OptionKind; help: string }>;

/** `--help`, which every command takes. */
export const HELP_OPTION = { kind: 'flag', help: 'show this help' } as const;

/** A command's help: its usage line, then one line per option (`--name X` padded to `width`, then what it does). */
export function optionsHelp(usageLine: string, options: OptionTable, width: number): string {
  const lines = Object.entries(options).map(([name, o]) => `  --${name}${o.kind === 'flag' ? '' : ' X'}`.padEnd(width) + o.help);
  return `${usageLine}\n${lines.join('\n')}`;
}

/** Every option `npm run train` takes: its value kind and the config field it sets. */
const OPTIONS: OptionTable = {
  preset: { kind: 'string', help: `start from a preset: ${Object.keys(PRESETS).join(', ')}` },
  epochs: { kind: 'int', help: 'number of epochs' },
  'batch-size': { kind: 'int', help: 'samples per step' },
  lr: { kind: 'number', help: 'learning rate (> 0)' },
  optimizer: { kind: 'string', help: 'adam | sgd' },
  momentum: { kind: 'number', help: 'SGD momentum in [0, 1)' },
  'weight-decay': { kind: 'number', help: 'L2 weight decay (≥ 0)' },
  activation: { kind: 'string', help: `dense hidden activation: ${ACTIVATIONS.join(' | ')}` },
  'conv-activation': { kind: 'string', help: `conv block activation: ${ACTIVATIONS.join(' | ')}` },
  hidden: { kind: 'string', help: 'hidden dense sizes, e.g. 128,64 (none for no hidden layer)' },
  'output-activation': { kind: 'string', help: `none | ${ACTIVATIONS.join(' | ')} (the study used sigmoid)` },
  batchnorm: { kind: 'flag', help: 'batchnorm after each conv' },
  'dropout-first': { kind: 'number', help: 'dropout rate after the first conv block, in [0, 1)' },
  'dropout-last': { kind: 'number', help: 'dropout rate before the last dense layer, in [0, 1)' },
  'val-fraction': { kind: 'number', help: 'validation share of the training pool, in [0, 1)' },
  patience: { kind: 'int', help: 'early stopping after N epochs without improvement (≥ 1)' },
  monitor: { kind: 'string', help: 'what early stopping watches: val_loss | val_acc' },
  'step-size': { kind: 'int', help: 'StepLR: decay the learning rate every N epochs (≥ 1)' },
  gamma: { kind: 'number', help: 'StepLR factor in (0, 1]' },
  distribution: { kind: 'string', help: 'full | study (digits 0, 4, 7 kept at 10%)' },
  keep: { kind: 'string', help: 'per-digit keep fractions, e.g. 0:0.1,4:0.1,7:0.1' },
  exclude: { kind: 'string', help: 'digits to drop, e.g. 0,4,7 (keep 0)' },
  'train-limit': { kind: 'int', help: 'use the first N training images' },
  seed: { kind: 'int', help: 'seed of every random choice' },
  'log-every': { kind: 'int', help: 'read loss back every N steps within an epoch' },
  out: { kind: 'string', help: 'result JSON file (default results/<preset>-<time>.json)' },
  save: { kind: 'string', help: 'write the trained model to FILE (.safetensors, PyTorch names, config in __metadata__)' },
  'checkpoint-every': { kind: 'int', help: 'write a resumable checkpoint every N epochs (≥ 1)' },
  checkpoint: { kind: 'string', help: 'where --checkpoint-every writes (default: the --out file with .checkpoint.safetensors)' },
  resume: { kind: 'string', help: 'continue the run saved in a checkpoint FILE (its config; only --epochs may change)' },
  kernels: kernelsOption(),
  help: HELP_OPTION,
};

export function usage(command = 'npm run train --'): string {
  return optionsHelp(`usage: ${command} [options]`, OPTIONS, 26);
}

/** `--name value` / `--name=value` pairs; unknown options and missing values are usage errors. */
export function readOptions(argv: readonly string[], known: Record<string, { kind: OptionKind }> = OPTIONS): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: options look like --name value (see --help)`);
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    const option = known[name];
    if (!option) throw new UsageError(`unknown option --${name} (see --help)`);
    if (option.kind === 'flag') {
      values.set(name, inline ?? 'true');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    values.set(name, value);
  }
  return values;
}

export function parseNumber(name: string, text: string, kind: 'int' | 'number'): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} ${JSON.stringify(text)} is not a number`);
  if (kind === 'int' && !Number.isInteger(value)) throw new UsageError(`--${name} ${text} is not allowed: a whole number`);
  return value;
}

function parseDigit(option: string, text: string): number {
  const digit = Number(text);
  if (!/^\d+$/.test(text.trim()) || digit > 9) throw new UsageError(`--${option}: digit ${JSON.stringify(text)} is not allowed: a digit from 0 to 9`);
  return digit;
}

/** `0:0.1,4:0.1` → keep fractions over all ten digits (unlisted digits keep those of `--distribution`). */
function parseKeep(text: string, base: readonly number[]): number[] {
  const keep = [...base];
  for (const pair of text.split(',')) {
    const [digit, fraction] = pair.split(':');
    if (fraction === undefined) throw new UsageError(`--keep ${JSON.stringify(pair)} is not allowed: digit:fraction pairs like 0:0.1,4:0.1`);
    const value = parseNumber('keep', fraction, 'number');
    if (value < 0 || value > 1) throw new UsageError(`--keep: fraction ${value} for digit ${digit} is not allowed: a number in [0, 1]`);
    keep[parseDigit('keep', digit!)] = value;
  }
  return keep;
}

function parseHidden(text: string): number[] {
  if (text === 'none' || text === '') return [];
  return text.split(',').map((size) => {
    const value = parseNumber('hidden', size, 'int');
    if (value < 1) throw new UsageError(`--hidden: size ${value} is not allowed: whole numbers ≥ 1, e.g. 128,64`);
    return value;
  });
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} ${JSON.stringify(value)} is not allowed: one of ${allowed.join(', ')}`);
  return value as T;
}

export interface TrainCommand {
  config: TrainConfig;
  out: string | null;
  help: boolean;
  save: string | null;
  /** 0 = no checkpoints. */
  checkpointEvery: number;
  checkpoint: string | null;
  resume: string | null;
  /** The options given on the command line (names without --), to refuse config changes on --resume. */
  given: string[];
  kernels: KernelChoice;
}

/** Options that do not change what is trained, so they may accompany --resume (with --epochs to extend it). */
export const RESUMABLE_OPTIONS = ['out', 'save', 'checkpoint-every', 'checkpoint', 'resume', 'epochs', 'log-every', 'kernels'];

/** Parses and validates a `train` command line. Throws UsageError, ConfigError or ShapeError. */
export function parseTrainArgs(argv: readonly string[]): TrainCommand {
  const o = readOptions(argv);
  if (o.has('help')) return { config: presetConfig('custom'), out: null, help: true, save: null, checkpointEvery: 0, checkpoint: null, resume: null, given: [], kernels: 'auto' };
  const kernels = parseKernels(o.get('kernels'));
  const preset = o.get('preset') ?? 'custom';
  if (preset !== 'custom' && !PRESETS[preset]) throw new UsageError(`--preset ${JSON.stringify(preset)} is not a preset: one of ${Object.keys(PRESETS).join(', ')}`);
  const num = (name: string) => parseNumber(name, o.get(name)!, OPTIONS[name]!.kind as 'int' | 'number');
  const overrides: Partial<TrainConfig> = {};
  const set = <K extends keyof TrainConfig>(option: string, field: K, value: () => TrainConfig[K]) => {
    if (o.has(option)) overrides[field] = value();
  };
  set('epochs', 'epochs', () => num('epochs'));
  set('batch-size', 'batchSize', () => num('batch-size'));
  set('lr', 'lr', () => num('lr'));
  set('optimizer', 'optimizer', () => oneOf('optimizer', o.get('optimizer')!, ['adam', 'sgd']));
  set('momentum', 'momentum', () => num('momentum'));
  set('weight-decay', 'weightDecay', () => num('weight-decay'));
  set('activation', 'activation', () => oneOf('activation', o.get('activation')!, ACTIVATIONS));
  set('conv-activation', 'convActivation', () => oneOf('conv-activation', o.get('conv-activation')!, ACTIVATIONS));
  set('output-activation', 'outputActivation', () => oneOf('output-activation', o.get('output-activation')!, ['none', ...ACTIVATIONS]));
  set('hidden', 'hidden', () => parseHidden(o.get('hidden')!));
  set('batchnorm', 'batchnorm', () => o.get('batchnorm') !== 'false');
  set('dropout-first', 'dropoutFirst', () => num('dropout-first'));
  set('dropout-last', 'dropoutLast', () => num('dropout-last'));
  set('val-fraction', 'valFraction', () => num('val-fraction'));
  set('monitor', 'monitor', () => oneOf('monitor', o.get('monitor')!, ['val_loss', 'val_acc']));
  set('gamma', 'gamma', () => num('gamma'));
  set('train-limit', 'trainLimit', () => num('train-limit'));
  set('seed', 'seed', () => num('seed'));
  set('log-every', 'logEvery', () => num('log-every'));
  set('patience', 'patience', () => atLeastOne('patience', num('patience')));
  set('step-size', 'stepSize', () => atLeastOne('step-size', num('step-size')));
  if (o.has('distribution')) {
    const distribution = oneOf('distribution', o.get('distribution')!, ['full', 'study']);
    overrides.distribution = distribution;
    overrides.keep = distribution === 'study' ? [...STUDY_KEEP] : [...FULL_KEEP];
  }
  if (o.has('keep') || o.has('exclude')) {
    const keep = o.has('keep') ? parseKeep(o.get('keep')!, overrides.keep ?? FULL_KEEP) : [...(overrides.keep ?? FULL_KEEP)];
    for (const digit of (o.get('exclude') ?? '').split(',').filter((d) => d !== '')) keep[parseDigit('exclude', digit)] = 0;
    if (keep.every((k) => k === 0)) throw new UsageError('--keep/--exclude drop every digit: keep at least one digit');
    overrides.keep = keep;
    overrides.distribution = 'custom';
  }
  const config = presetConfig(preset, overrides);
  try {
    validateConfig(config);
    checkShapes(config.inputShape, config.layers);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ShapeError) throw new UsageError(error.message);
    throw error;
  }
  const ineffective = ineffectiveOption(o, preset, overrides, config);
  if (ineffective) throw new UsageError(ineffective);
  const checkpointEvery = o.has('checkpoint-every') ? atLeastOne('checkpoint-every', num('checkpoint-every')) : 0;
  if (o.has('checkpoint') && checkpointEvery === 0) throw new UsageError('--checkpoint needs --checkpoint-every N (how often to write it)');
  for (const name of ['out', 'save', 'checkpoint', 'resume']) {
    if (o.get(name) === '') throw new UsageError(`--${name} "" is not allowed: a file name`);
  }
  if (o.has('resume')) {
    const changed = [...o.keys()].filter((name) => !RESUMABLE_OPTIONS.includes(name));
    if (changed.length > 0) throw new UsageError(`--${changed[0]} cannot be used with --resume: a resumed run keeps the checkpoint's config (only --epochs may change)`);
  }
  return {
    config, out: o.get('out') ?? null, help: false, save: o.get('save') ?? null, checkpointEvery,
    checkpoint: o.get('checkpoint') ?? null, resume: o.get('resume') ?? null, given: [...o.keys()], kernels,
  };
}

/** `--kernels`, which train, evaluate, reproduce and bench all take: its help lists what each choice runs. */
export function kernelsOption(): { kind: 'string'; help: string } {
  const choices = KERNEL_CHOICES.map((choice) => `\n${' '.repeat(28)}${choice.padEnd(6)} ${KERNEL_CHOICE_HELP[choice]}`);
  return { kind: 'string', help: `which kernels run (default auto):${choices.join('')}` };
}

/** The `--kernels` value (auto when absent), refused with the allowed choices otherwise. */
export function parseKernels(value: string | undefined): KernelChoice {
  return value === undefined ? 'auto' : oneOf('kernels', value, KERNEL_CHOICES);
}

/** One line on the kernels a run ran: `kernels auto (cpu shapes; dense rungs 0, 2; conv2d rung 1)`. */
export function describeKernels(k: KernelsRan): string {
  const rungs = Object.entries(k.rungs).map(([op, list]) => `${op} rung${list.length > 1 ? 's' : ''} ${list.join(', ')}`);
  return `kernels ${k.choice} (${[`${k.shape} shapes`, ...rungs].join('; ')})`;
}

function atLeastOne(name: string, value: number): number {
  if (value < 1) throw new UsageError(`--${name} ${value} is not allowed: a whole number ≥ 1`);
  return value;
}

/** Runs a command's `main`: usage errors exit 2 with their one line, other failures exit 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      if (error instanceof UsageError) {
        console.error(error.message.split('\n')[0]);
        process.exit(2);
      }
      console.error(`error: ${error.message}`);
      process.exit(1);
    },
  );
}
