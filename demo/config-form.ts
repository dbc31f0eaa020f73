/**
 * One network's settings as a form: the architecture as a list of conv and dense layers, and every
 * hyper-parameter of the study. Values are kept as typed text; `check()` turns them into a TrainConfig
 * and places the engine's own messages (validateConfig's ConfigError, checkShapes' ShapeError) at the
 * field they name, so a person sees what is allowed where they typed.
 */
import { PRESETS, presetConfig } from '../src/presets/index.ts';
import { recipeLayers, type TrainConfig } from '../src/train/config.ts';
import { type LayerSpec } from '../src/graph/spec.ts';
import { validateConfig, ACTIVATIONS } from '../src/train/validate.ts';
import { h } from './dom.ts';
import type { DataChoice } from './data-panel.ts';
import type { Engine } from './engine.ts';

type NumberField = 'lr' | 'momentum' | 'weightDecay' | 'epochs' | 'batchSize' | 'valFraction' | 'patience' | 'stepSize' | 'gamma' | 'dropoutFirst' | 'dropoutLast' | 'seed';
type ChoiceField = 'optimizer' | 'monitor' | 'activation' | 'convActivation' | 'outputActivation';
type ConvText = { out: string; kernel: string; stride: string; padding: string };

/** Field → the name the engine's messages use for it (`lr -1 is not allowed: a number > 0`). */
const ENGINE_NAMES: Record<NumberField | ChoiceField, string> = {
  lr: 'lr', momentum: 'momentum', weightDecay: 'weight decay', epochs: 'epochs', batchSize: 'batch size',
  valFraction: 'val fraction', patience: 'patience', stepSize: 'step size', gamma: 'gamma',
  dropoutFirst: 'dropout first', dropoutLast: 'dropout last', seed: 'seed', optimizer: 'optimizer',
  monitor: 'monitor', activation: 'activation', convActivation: 'conv activation', outputActivation: 'output activation',
};

const NUMBER_FIELDS: { key: NumberField; label: string; title: string }[] = [
  { key: 'lr', label: 'Learning rate', title: 'Adam or SGD step size (> 0)' },
  { key: 'momentum', label: 'Momentum', title: 'SGD momentum in [0, 1) (0 = plain SGD)' },
  { key: 'weightDecay', label: 'Weight decay', title: 'L2 weight decay (≥ 0)' },
  { key: 'epochs', label: 'Epochs', title: 'Passes over the training set' },
  { key: 'batchSize', label: 'Batch size', title: 'Images per step' },
  { key: 'valFraction', label: 'Validation fraction', title: 'Part of the training pool held out, in [0, 1)' },
  { key: 'patience', label: 'Early-stop patience', title: 'Epochs without improvement before stopping (0 = off)' },
  { key: 'stepSize', label: 'StepLR step', title: 'Multiply the learning rate by γ every this many epochs (0 = constant)' },
  { key: 'gamma', label: 'StepLR γ', title: 'In (0, 1]' },
  { key: 'dropoutFirst', label: 'Dropout after first conv', title: 'Rate in [0, 1) (0 = none)' },
  { key: 'dropoutLast', label: 'Dropout before last layer', title: 'Rate in [0, 1) (0 = none)' },
  { key: 'seed', label: 'Seed', title: 'Initial weights, split and shuffles' },
];

const CHOICES: { key: ChoiceField; label: string; options: string[] }[] = [
  { key: 'optimizer', label: 'Optimizer', options: ['adam', 'sgd'] },
  { key: 'monitor', label: 'Early stopping watches', options: ['val_loss', 'val_acc'] },
  { key: 'convActivation', label: 'Conv activation', options: [...ACTIVATIONS] },
  { key: 'activation', label: 'Dense activation', options: [...ACTIVATIONS] },
  { key: 'outputActivation', label: 'Output activation', options: ['none', 'sigmoid'] },
];

export interface FormCheck {
  /** The config to train, or null while anything is invalid. */
  config: TrainConfig | null;
  /** Every message, field by field, for tests and the summary line. */
  messages: string[];
  layers: LayerSpec[];
  shapes: readonly (readonly number[])[] | null;
}

export class ConfigForm {
  readonly element = h('div', { class: 'config' });
  private preset = 'custom';
  private convs: ConvText[] = [];
  private hidden: string[] = [];
  private numbers = {} as Record<NumberField, string>;
  private choices = {} as Record<ChoiceField, string>;
  private batchnorm = false;
  private readonly numberInputs = new Map<NumberField, { input: HTMLInputElement; error: HTMLElement }>();
  private readonly choiceInputs = new Map<ChoiceField, HTMLSelectElement>();
  private readonly presetButtons = new Map<string, HTMLButtonElement>();
  private readonly archList = h('div', { class: 'arch-list' });
  private readonly archError = h('div', { class: 'general-error' });
  private readonly summary = h('div', { class: 'layer-summary' });
  private readonly general = h('div', { class: 'general-error', dataset: { role: 'config-error' } });
  private readonly batchnormInput = h('input', { type: 'checkbox' });
  private listener: () => void = () => {};
  engine: Engine | null = null;

  constructor(
    private readonly presets: string[],
    startPreset: string,
    private readonly overrides: Partial<TrainConfig>,
    private readonly defaults: Partial<TrainConfig>,
  ) {
    this.build();
    this.load(startPreset);
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }

  /** Fills the form from a preset (`custom` = this panel's sensible defaults), keeping URL overrides. */
  load(name: string): void {
    const isPreset = name in PRESETS;
    const config = presetConfig(isPreset ? name : 'custom', { ...(isPreset ? {} : this.defaults), ...this.overrides });
    this.preset = isPreset ? name : 'custom';
    this.convs = config.convs.map((c) => ({ out: String(c.out), kernel: String(c.kernel), stride: String(c.stride), padding: String(c.padding) }));
    this.hidden = config.hidden.map(String);
    for (const { key } of NUMBER_FIELDS) this.numbers[key] = String(config[key]);
    for (const { key } of CHOICES) this.choices[key] = String(config[key]);
    this.batchnorm = config.batchnorm;
    this.syncInputs();
    this.renderArch();
    this.listener();
  }

  get presetName(): string {
    return this.preset;
  }

  /** Raw validation fraction and seed, for the data panel's split preview. */
  get splitSource(): { valFraction: number; seed: number } {
    return { valFraction: Number(this.numbers.valFraction), seed: Number(this.numbers.seed) };
  }

  /** Builds the config and marks every field the engine refuses; `trainPool` is the kept training pool size. */
  check(data: DataChoice, trainPool: (valFraction: number) => number | null): FormCheck {
    const marks = new Map<string, string>();
    const candidate = this.candidate(data);
    const base = presetConfig(this.preset, { ...(this.preset in PRESETS ? {} : this.defaults), ...this.overrides, keep: data.keep, trainLimit: data.trainLimit });
    const general: string[] = [];
    // validateConfig stops at the first problem: note it at its field, put back the preset's value, repeat.
    for (let attempt = 0; attempt < 40; attempt++) {
      try {
        validateConfig(candidate);
        break;
      } catch (error) {
        const message = (error as Error).message;
        const field = this.fieldOf(message);
        if (!field || marks.has(field)) {
          general.push(message);
          break;
        }
        marks.set(field, message);
        this.restore(candidate, base, field);
      }
    }
    let shapes: readonly (readonly number[])[] | null = null;
    if (marks.size === 0 && general.length === 0) {
      shapes = this.checkShapes(candidate, marks);
      const pool = trainPool(candidate.valFraction);
      if (pool !== null && candidate.batchSize > pool) {
        marks.set('batchSize', `batch size ${candidate.batchSize} is not allowed: at most the ${pool} training images of this split`);
      }
    }
    this.showMarks(marks);
    this.general.textContent = general.join(' · ');
    const messages = [...marks.values(), ...general];
    return { config: messages.length === 0 ? candidate : null, messages, layers: candidate.layers, shapes };
  }

  /** The config as typed (numbers that do not parse stay text, so the engine quotes them). */
  private candidate(data: DataChoice): TrainConfig {
    const num = (raw: string): number => {
      const value = raw.trim() === '' ? NaN : Number(raw);
      return (Number.isNaN(value) ? raw : value) as number;
    };
    const numbers = Object.fromEntries(NUMBER_FIELDS.map(({ key }) => [key, num(this.numbers[key])])) as Record<NumberField, number>;
    const recipe = {
      convs: this.convs.map((c) => ({ out: num(c.out), kernel: num(c.kernel), stride: num(c.stride), padding: num(c.padding) })),
      hidden: this.hidden.map(num),
      batchnorm: this.batchnorm,
      activation: this.choices.activation as TrainConfig['activation'],
      convActivation: this.choices.convActivation as TrainConfig['convActivation'],
      outputActivation: this.choices.outputActivation as TrainConfig['outputActivation'],
      dropoutFirst: numbers.dropoutFirst,
      dropoutLast: numbers.dropoutLast,
    };
    const config = presetConfig(this.preset, {
      ...(this.preset in PRESETS ? {} : this.defaults),
      ...numbers,
      ...recipe,
      optimizer: this.choices.optimizer as TrainConfig['optimizer'],
      monitor: this.choices.monitor as TrainConfig['monitor'],
      distribution: data.distribution,
      keep: [...data.keep],
      trainLimit: data.trainLimit,
    });
    return { ...config, layers: recipeLayers(config) };
  }

  /** Which field (or architecture row) an engine message is about. */
  private fieldOf(message: string): string | null {
    const hidden = /^hidden layer (\d+) size/.exec(message);
    if (hidden) return `hidden.${Number(hidden[1]) - 1}`;
    const layer = /^layer (\d+) \((\w+)\)/.exec(message);
    if (layer) return this.rowOfLayer(Number(layer[1]));
    const names = Object.entries(ENGINE_NAMES).sort((a, b) => b[1].length - a[1].length);
    for (const [key, name] of names) if (message.startsWith(`${name} `)) return key;
    return null;
  }

  /** The architecture row a layer index of recipeLayers() comes from. */
  private rowOfLayer(index: number): string {
    const layers = recipeLayers({ ...this.candidate({ distribution: 'full', keep: new Array(10).fill(1), trainLimit: null }) });
    let convs = -1;
    let denses = -1;
    for (let i = 0; i <= index && i < layers.length; i++) {
      if (layers[i]!.type === 'conv2d') convs++;
      if (layers[i]!.type === 'dense') denses++;
    }
    const afterConvs = layers.slice(0, index + 1).some((l) => l.type === 'flatten');
    return afterConvs ? `hidden.${Math.max(0, denses)}` : `conv.${Math.max(0, convs)}`;
  }

  private restore(candidate: TrainConfig, base: TrainConfig, field: string): void {
    const [kind, row] = field.split('.');
    const c = candidate as unknown as Record<string, unknown>;
    if (kind === 'conv') candidate.convs[Number(row)] = { out: 4, kernel: 1, stride: 1, padding: 0 };
    else if (kind === 'hidden') candidate.hidden[Number(row)] = 8;
    else c[field] = (base as unknown as Record<string, unknown>)[field];
    if (field === 'patience') candidate.patience = 0;
    candidate.layers = recipeLayers(candidate);
  }

  private checkShapes(config: TrainConfig, marks: Map<string, string>): readonly (readonly number[])[] | null {
    if (!this.engine) return null;
    try {
      return this.engine.checkShapes(config.inputShape, config.layers);
    } catch (error) {
      const message = (error as Error).message;
      const layer = /layer (\d+)|#(\d+)/.exec(message);
      marks.set(layer ? this.rowOfLayer(Number(layer[1] ?? layer[2])) : 'arch', message);
      return null;
    }
  }

  private showMarks(marks: Map<string, string>): void {
    for (const [key, { input, error }] of this.numberInputs) {
      const message = marks.get(key) ?? '';
      input.classList.toggle('invalid', message !== '');
      error.textContent = message;
    }
    for (const [key, select] of this.choiceInputs) select.classList.toggle('invalid', marks.has(key));
    const archMessages: string[] = [];
    this.archList.querySelectorAll<HTMLElement>('.arch-row').forEach((row) => {
      const message = marks.get(row.dataset.row!);
      row.classList.toggle('bad', message !== undefined);
      row.querySelectorAll('input').forEach((input) => input.classList.toggle('invalid', message !== undefined));
      if (message) archMessages.push(message);
    });
    if (marks.has('arch')) archMessages.push(marks.get('arch')!);
    this.archError.textContent = archMessages.join(' · ');
  }

  /** Layer chips with output shapes and the parameter count, once the shapes are known. */
  showSummary(layers: LayerSpec[], shapes: readonly (readonly number[])[] | null): void {
    if (!shapes) return void this.summary.replaceChildren();
    let params = 0;
    let input: readonly number[] = [1, 28, 28];
    const chips = layers.map((layer, i) => {
      params += parameterCount(layer, input);
      input = shapes[i]!;
      return h('span', {}, describe(layer), ' ', h('span', { class: 'shape' }, shapes[i]!.join('×')));
    });
    this.summary.replaceChildren(...chips, h('span', {}, `${params.toLocaleString('en-US')} parameters`));
  }

  private build(): void {
    const presets = h('div', { class: 'presets' });
    for (const name of this.presets) {
      const button = h('button', { class: 'chip-button', title: PRESETS[name]?.description ?? 'Sensible defaults: ReLU, logits into softmax cross-entropy', onclick: () => this.load(name) }, name === 'custom' ? 'default' : name);
      this.presetButtons.set(name, button);
      presets.append(button);
    }
    const addConv = h('button', { class: 'small', onclick: () => { this.convs.push({ out: '8', kernel: '3', stride: '1', padding: '0' }); this.renderArch(); this.edited(); } }, '+ conv');
    const addDense = h('button', { class: 'small', onclick: () => { this.hidden.push('64'); this.renderArch(); this.edited(); } }, '+ dense');
    const hyper = h('div', { class: 'hyper-grid' });
    for (const { key, label, options } of CHOICES) {
      const select = h('select', { dataset: { field: key }, onchange: () => { this.choices[key] = select.value; this.edited(); } }, ...options.map((o) => h('option', { value: o }, o)));
      this.choiceInputs.set(key, select);
      hyper.append(h('label', { class: 'field' }, h('span', {}, label), select));
    }
    for (const { key, label, title } of NUMBER_FIELDS) {
      const input = h('input', { type: 'text', inputMode: 'decimal', title, dataset: { field: key }, oninput: () => { this.numbers[key] = input.value; this.edited(); } });
      const error = h('div', { class: 'field-error' });
      this.numberInputs.set(key, { input, error });
      hyper.append(h('label', { class: 'field' }, h('span', {}, label), input, error));
    }
    this.batchnormInput.addEventListener('change', () => { this.batchnorm = this.batchnormInput.checked; this.edited(); });
    hyper.append(h('label', { class: 'field check' }, this.batchnormInput, h('span', {}, 'Batchnorm after each conv')));
    this.element.append(
      h('div', { class: 'card' },
        h('div', { class: 'card-head' }, h('h4', {}, 'Architecture'), presets),
        this.archList, h('div', { class: 'arch-actions' }, addConv, addDense), this.archError, this.summary),
      h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h4', {}, 'Hyper-parameters')), hyper, this.general),
    );
  }

  private syncInputs(): void {
    for (const [key, { input }] of this.numberInputs) input.value = this.numbers[key];
    for (const [key, select] of this.choiceInputs) select.value = this.choices[key];
    this.batchnormInput.checked = this.batchnorm;
    for (const [name, button] of this.presetButtons) button.classList.toggle('active', name === this.preset);
  }

  private renderArch(): void {
    const remove = (list: unknown[], i: number) => h('button', { class: 'small ghost', title: 'Remove this layer', onclick: () => { list.splice(i, 1); this.renderArch(); this.edited(); } }, '×');
    const text = (value: string, set: (v: string) => void, label: string) =>
      h('label', {}, label, h('input', { type: 'text', inputMode: 'numeric', value, oninput: (e: Event) => { set((e.target as HTMLInputElement).value); this.edited(); } }));
    const rows = [
      ...this.convs.map((conv, i) => h('div', { class: 'arch-row', dataset: { row: `conv.${i}` } },
        h('span', { class: 'tag' }, `conv ${i + 1}`),
        text(conv.out, (v) => (conv.out = v), 'channels'), text(conv.kernel, (v) => (conv.kernel = v), 'kernel'),
        text(conv.stride, (v) => (conv.stride = v), 'stride'), text(conv.padding, (v) => (conv.padding = v), 'padding'),
        remove(this.convs, i))),
      ...this.hidden.map((size, i) => h('div', { class: 'arch-row dense', dataset: { row: `hidden.${i}` } },
        h('span', { class: 'tag' }, `dense ${i + 1}`), text(size, (v) => (this.hidden[i] = v), 'units'), remove(this.hidden, i))),
      h('div', { class: 'arch-row dense' }, h('span', { class: 'tag' }, 'output'), h('span', { class: 'faint', style: 'padding:5px 0' }, '10 units (one per digit)')),
    ];
    this.archList.replaceChildren(...rows);
  }

  /** A hand edit: the form no longer is the preset it started from. */
  private edited(): void {
    this.listener();
  }
}

function describe(layer: LayerSpec): string {
  switch (layer.type) {
    case 'dense': return `dense(${layer.out})`;
    case 'conv2d': return `conv(${layer.out}, k${layer.kernel}${(layer.stride ?? 1) > 1 ? `, s${layer.stride}` : ''}${(layer.padding ?? 0) > 0 ? `, p${layer.padding}` : ''})`;
    case 'activation': return layer.kind;
    case 'dropout': return `dropout(${layer.rate})`;
    default: return layer.type;
  }
}

function parameterCount(layer: LayerSpec, input: readonly number[]): number {
  const size = input.reduce((a, b) => a * b, 1);
  if (layer.type === 'dense') return size * layer.out + layer.out;
  if (layer.type === 'conv2d') return layer.out * (input[0] ?? 1) * layer.kernel * layer.kernel + layer.out;
  if (layer.type === 'batchnorm') return 2 * (input[0] ?? size);
  return 0;
}
