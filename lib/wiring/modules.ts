import { ModuleManager } from '../core/modules.ts';
import { RegistryStore } from '../store/registry-store.ts';
import { type BaseDeps, memo } from './context.ts';
import { baseDeps } from './dynamo.ts';

/** The module registry on the registry table. */
export function buildModuleManager(deps: BaseDeps): ModuleManager {
  const registry = new RegistryStore(deps.doc, { table: deps.tables.registry });
  return new ModuleManager({
    listModules: () => registry.listModules(),
    getModule: (name) => registry.getModule(name),
    putModule: (m, v) => registry.putModule(m, v),
    deleteModule: (name, v) => registry.deleteModule(name, v),
    pin: (name) => registry.pin(name),
    unpin: (name) => registry.unpin(name),
    markEnabled: (name) => registry.markEnabled(name),
    markDisabledIfUnpinned: (name) => registry.markDisabledIfUnpinned(name),
    setModuleHealth: (name, health) => registry.setModuleHealth(name, health, deps.now()),
    now: deps.now,
  });
}

export const moduleManager = memo(() => buildModuleManager(baseDeps()));
