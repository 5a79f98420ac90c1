import type { ModuleInput } from '../../core/modules.ts';
import { type FactoryDefinition, type FactoryStats, serveFactory } from './contract.ts';
import { type FaultOptions, type FaultStats, injectFaults } from './faults.ts';
import { mediaFactory } from './media.ts';
import { researchFactory } from './research.ts';

export { EXAMPLE_NOTICE } from './contract.ts';
export type { FaultOptions, LatencyDistribution } from './faults.ts';

/** The example factories the local runtime can start. */
export type ExampleFactoryKind = 'media' | 'research';

const DEFINITIONS: Readonly<Record<ExampleFactoryKind, FactoryDefinition>> = {
  media: mediaFactory,
  research: researchFactory,
};

/** A module of the examples, as the module registry takes it. */
export interface ExampleModule extends ModuleInput {
  category: string;
  description: string;
  dependencies: string[];
}

/** The module every example factory depends on, registered first. */
export const EXAMPLE_STORAGE_MODULE: Readonly<ExampleModule> = {
  name: 'example-storage',
  category: 'infrastructure',
  description:
    'Where example factory outputs live: small ones are answered inline, large ones (long clips, videos) are uploaded to the artifact store through the upload offer of the call',
  dependencies: [],
};

/** What the registry needs to know about one example factory: as a service and as a module. */
export interface ExampleFactoryDescription {
  name: string;
  kind: ExampleFactoryKind;
  factoryType: string;
  actions: string[];
  taskTypes: string[];
  /** Actions and task types together: what the service registers as its capabilities. */
  capabilities: string[];
  module: ExampleModule;
}

function describe(kind: ExampleFactoryKind): ExampleFactoryDescription {
  const definition = DEFINITIONS[kind];
  const actions = Object.keys(definition.actions);
  const taskTypes = Object.keys(definition.taskTypes);
  return {
    name: definition.name,
    kind,
    factoryType: definition.factoryType,
    actions,
    taskTypes,
    capabilities: [...actions, ...taskTypes],
    module: {
      name: definition.name,
      category: definition.factoryType,
      description: `Example ${kind} factory: real files and briefs computed without an AI model`,
      dependencies: [EXAMPLE_STORAGE_MODULE.name],
    },
  };
}

/** Each example factory, described for the service and module registries. */
export const EXAMPLE_FACTORIES: Readonly<Record<ExampleFactoryKind, ExampleFactoryDescription>> = {
  media: describe('media'),
  research: describe('research'),
};

/** Every module of the examples, dependencies before dependents, ready to register in order. */
export const EXAMPLE_MODULES: readonly ExampleModule[] = [
  { ...EXAMPLE_STORAGE_MODULE, dependencies: [] },
  ...Object.values(EXAMPLE_FACTORIES).map((f) => f.module),
];

/** Where to listen and how to misbehave; with no fault option the factory answers promptly. */
export interface ExampleFactoryOptions extends FaultOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Another name, to run several factories of one kind side by side. */
  name?: string;
}

/** A running example factory. */
export interface RunningExampleFactory {
  name: string;
  kind: ExampleFactoryKind;
  endpoint: string;
  capabilities: string[];
  /** Stops listening, releases held calls and ends every connection. */
  close(): Promise<void>;
  stats(): FactoryStats & FaultStats;
}

/**
 * Starts an example factory on 127.0.0.1, speaking the factory contract, with the given fault and
 * latency injection.
 * @throws ValidationError naming the option when a fault option is invalid.
 */
export async function startExampleFactory(
  kind: ExampleFactoryKind,
  options: ExampleFactoryOptions = {},
): Promise<RunningExampleFactory> {
  const { port, name, ...faults } = options;
  const definition = { ...DEFINITIONS[kind], ...(name ? { name } : {}) };
  const policy = injectFaults(faults);
  const server = await serveFactory(definition, { port: port ?? 0, policy });
  return {
    name: definition.name,
    kind,
    endpoint: server.endpoint,
    capabilities: EXAMPLE_FACTORIES[kind].capabilities,
    close: () => server.close(),
    stats: () => ({ ...server.stats(), ...policy.stats() }),
  };
}
